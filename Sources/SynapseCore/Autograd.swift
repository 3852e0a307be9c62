// Reverse-mode automatic differentiation over a dynamic graph.
//
// Every op that has an input requiring gradients records a `GradientNode` holding a
// closure that maps the output's gradient to its inputs' gradients. `backward()` walks
// the nodes in reverse topological order, accumulates gradients, and then frees the graph
// so a training loop does not hold on to memory from earlier steps.

import Foundation
import SynapseKernels

/// One op's gradient for one of its inputs.
enum InputGradient {
    /// A gradient of the input's full shape.
    case dense(Tensor)
    /// The gradient of a strided region of the input (a slice): `values` laid out densely,
    /// addressed in the input through `offset` and element `strides`. It is added in place into
    /// the input's gradient buffer, so T slices of one tensor cost O(T) work and memory rather
    /// than T zero-filled tensors of the input's size.
    case region(Tensor, offset: Int, strides: [Int])
    /// A gradient that adds itself into the input's gradient buffer (which starts at zero):
    /// an embedding's backward scatters its rows straight into the table's gradient.
    case scatter((UnsafeMutablePointer<Float>) -> Void)
}

/// A vertex of the autodiff graph. Leaves are user tensors with `requiresGrad`; interior
/// nodes are op results.
final class GradientNode {
    /// The op that produced this value, for error messages.
    let op: String
    let shape: [Int]
    /// Leaves keep their accumulated gradient across `backward()` calls until zeroed.
    let isLeaf: Bool
    var grad: Tensor?
    var inputs: [GradientNode?]
    /// Maps the output gradient to one gradient per input, given which inputs need one (nil
    /// for the others): decided when backward runs, so a backward restricted to some leaves
    /// skips the work that only feeds the rest.
    var backward: ((Tensor, [Bool]) -> [InputGradient?])?

    init(leafOfShape shape: [Int]) {
        op = "leaf"
        self.shape = shape
        isLeaf = true
        inputs = []
    }

    init(op: String, shape: [Int], inputs: [GradientNode?], backward: @escaping (Tensor, [Bool]) -> [InputGradient?]) {
        self.op = op
        self.shape = shape
        isLeaf = false
        self.inputs = inputs
        self.backward = backward
    }

    /// Adds `gradient` into `grad`: in place when this node owns its buffer (copy-on-write
    /// copies it first when a user still holds an earlier `grad`), so a tensor used at every
    /// step of a long loop does not allocate a new gradient per use.
    func accumulate(_ gradient: InputGradient) {
        switch gradient {
        case .dense(let values):
            require(values.shape == shape,
                    "backward: \(op) produced a gradient of shape \(Shape.describe(values.shape)) for a value of shape \(Shape.describe(shape))")
            guard var sum = grad else {
                grad = values.detached()
                return
            }
            grad = nil
            sum.withUnsafeMutableBufferPointer { total in
                Kernels.addInPlace(values.pointer, into: total.baseAddress!, count: total.count)
            }
            withExtendedLifetime(values) { grad = sum }
        case .region(let values, let offset, let strides):
            var sum = grad ?? Tensor.zeros(shape)
            grad = nil
            sum.withUnsafeMutableBufferPointer { total in
                Kernels.stridedAdd(shape: values.shape, from: values.pointer, strides: Shape.strides(values.shape),
                                   into: total.baseAddress! + offset, strides: strides)
            }
            withExtendedLifetime(values) { grad = sum }
        case .scatter(let add):
            var sum = grad ?? Tensor.zeros(shape)
            grad = nil
            sum.withUnsafeMutableBufferPointer { add($0.baseAddress!) }
            grad = sum
        }
    }
}

/// Whether ops record the autodiff graph on this thread.
public enum GradientMode {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True unless inside `withoutGradients`.
    public static var isEnabled: Bool {
        pthread_getspecific(key) == nil
    }

    static func setEnabled(_ enabled: Bool) {
        pthread_setspecific(key, enabled ? nil : UnsafeRawPointer(bitPattern: 1))
    }
}

/// Runs `body` without recording the autodiff graph, as `torch.no_grad()` does: results
/// do not require gradients and no backward closures are kept. Use it for inference and
/// for parameter updates.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let wasEnabled = GradientMode.isEnabled
    GradientMode.setEnabled(false)
    defer { GradientMode.setEnabled(wasEnabled) }
    return try body()
}

/// Runs `body` recording the autodiff graph, even inside `withoutGradients`, as
/// `torch.enable_grad()` does.
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
    let wasEnabled = GradientMode.isEnabled
    GradientMode.setEnabled(true)
    defer { GradientMode.setEnabled(wasEnabled) }
    return try body()
}

extension Tensor {
    /// Whether gradients flow to this tensor. Setting it on a tensor marks it as a leaf
    /// whose `grad` is filled by `backward()`.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil { node = GradientNode(leafOfShape: shape) }
            } else {
                node = nil
            }
        }
    }

    /// This tensor as a new leaf that requires gradients.
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GradientNode(leafOfShape: shape))
    }

    /// Whether this tensor was created by the user rather than by an op on tensors requiring gradients.
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// The gradient accumulated by `backward()`, for leaves that require gradients.
    public var grad: Tensor? { node?.grad }

    /// Clears the accumulated gradient.
    public func zeroGrad() {
        node?.grad = nil
    }

    /// Sets the accumulated gradient of a tensor that requires gradients, whether or not
    /// `backward()` reached it (a gradient averaged across processes, say).
    public func setGrad(_ gradient: Tensor) {
        guard let node else { fatalError("setGrad: tensor of shape \(Shape.describe(shape)) does not require gradients") }
        require(gradient.shape == shape,
                "setGrad: gradient of shape \(Shape.describe(gradient.shape)) does not match tensor of shape \(Shape.describe(shape))")
        node.grad = gradient.detached()
    }

    /// Replaces the accumulated gradient (if any) with `transform(grad)`, e.g. for clipping.
    public func replaceGrad(_ transform: (Tensor) -> Tensor) {
        guard let node, let grad = node.grad else { return }
        let replaced = withoutGradients { transform(grad) }
        require(replaced.shape == grad.shape, "replaceGrad: shape \(replaced.shape) does not match gradient \(grad.shape)")
        node.grad = replaced.detached()
    }

    /// Calls `body` with mutable access to the accumulated gradient, in place unless another
    /// tensor shares its buffer (then on a copy, which becomes the gradient); nil without a
    /// gradient. For writing a gradient averaged across processes without a new tensor.
    public func withUnsafeMutableGradPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R? {
        guard let node, var grad = node.grad else { return nil }
        // Detached from the node, the gradient's buffer is often referenced only here.
        node.grad = nil
        defer { node.grad = grad }
        return try grad.withUnsafeMutableBufferPointer(body)
    }

    /// The same values, cut off from the autodiff graph.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage)
    }

    /// Back-propagates from this tensor, adding d(self)/d(leaf) into every leaf's `grad`, or,
    /// with `inputs`, only into those leaves' (as PyTorch's `backward(inputs=)`): then ops
    /// compute no gradient that feeds only other leaves, so a generator's step through a
    /// discriminator computes none of the discriminator's weight gradients.
    ///
    /// Without `gradient`, the tensor must hold a single element and the seed is 1. The
    /// graph is freed afterwards; calling `backward()` through it again is an error.
    public func backward(_ gradient: Tensor? = nil, inputs: [Tensor]? = nil) {
        backward(gradient, inputs: inputs, watching: [], whenReady: { _ in })
    }

    /// `backward(gradient, inputs:)`, calling `ready(i)` as soon as `watched[i]`'s gradient is
    /// final: right after the last op that feeds it has run, while the rest of the graph still
    /// runs backward (data-parallel training starts averaging those gradients then). Watched
    /// tensors the graph does not reach are reported at the end, in index order, as are
    /// tensors that do not require gradients.
    public func backward(_ gradient: Tensor? = nil, inputs: [Tensor]? = nil, watching watched: [Tensor],
                         whenReady ready: (Int) -> Void) {
        guard let root = node else {
            fatalError("backward: tensor of shape \(Shape.describe(shape)) does not require gradients; no input of the computation had requiresGrad set")
        }
        let seed: Tensor
        if let gradient {
            require(gradient.shape == shape,
                         "backward: gradient of shape \(Shape.describe(gradient.shape)) does not match tensor of shape \(Shape.describe(shape))")
            seed = gradient.detached()
        } else {
            require(count == 1,
                         "backward: tensor of shape \(Shape.describe(shape)) is not a scalar; pass a gradient of the same shape, as in backward(Tensor.ones(like: y))")
            seed = Tensor.ones(shape)
        }
        for input in inputs ?? [] {
            require(input.isLeaf, "backward: inputs must be leaves (parameters or tensors with requiresGrad set), got the result of \(input.node!.op)")
        }
        withoutGradients {
            let topological = topologicalOrder(from: root)
            let wanted = inputs.map { wantedNodes(topological, leaves: $0) }
            let order = Array(topological.reversed())
            // Each watched index is reported after the last node (in backward order) that
            // feeds its leaf.
            var watchers: [ObjectIdentifier: [Int]] = [:]
            for (index, tensor) in watched.enumerated() {
                if let leaf = tensor.node { watchers[ObjectIdentifier(leaf), default: []].append(index) }
            }
            var readyAfter: [Int: [Int]] = [:]
            if !watchers.isEmpty {
                var last: [ObjectIdentifier: Int] = [:]
                for (position, node) in order.enumerated() where !node.isLeaf {
                    for case let input? in node.inputs where watchers[ObjectIdentifier(input)] != nil {
                        last[ObjectIdentifier(input)] = position
                    }
                }
                for (leaf, position) in last { readyAfter[position, default: []] += watchers[leaf]! }
            }
            var reported = [Bool](repeating: false, count: watched.count)
            if wanted?.contains(ObjectIdentifier(root)) ?? true { root.accumulate(.dense(seed)) }
            for (position, node) in order.enumerated() where !node.isLeaf {
                if let gradient = node.grad {
                    guard let backward = node.backward else {
                        fatalError("backward: the graph through \(node.op) was already freed by an earlier backward()")
                    }
                    let needs = node.inputs.map { input in
                        input.map { wanted?.contains(ObjectIdentifier($0)) ?? true } ?? false
                    }
                    if needs.contains(true) {
                        for (input, (inputGradient, needed)) in zip(node.inputs, zip(backward(gradient, needs), needs)) {
                            if let input, let inputGradient, needed { input.accumulate(inputGradient) }
                        }
                    }
                    node.grad = nil
                    node.backward = nil
                    node.inputs = []
                }
                for index in (readyAfter[position] ?? []).sorted() {
                    reported[index] = true
                    ready(index)
                }
            }
            for index in watched.indices where !reported[index] { ready(index) }
        }
    }
}

/// The nodes of `topological` (each after its inputs) through which a gradient reaches one of
/// `leaves`: those leaves, and every op result with such a node among its inputs.
private func wantedNodes(_ topological: [GradientNode], leaves: [Tensor]) -> Set<ObjectIdentifier> {
    var wanted = Set(leaves.compactMap { $0.node.map(ObjectIdentifier.init) })
    for node in topological where !node.isLeaf {
        if node.inputs.contains(where: { $0.map { wanted.contains(ObjectIdentifier($0)) } ?? false }) {
            wanted.insert(ObjectIdentifier(node))
        }
    }
    return wanted
}

/// Nodes reachable from `root`, each after all of its inputs. Iterative, so deep graphs
/// (long unrolled sequences) cannot overflow the stack.
private func topologicalOrder(from root: GradientNode) -> [GradientNode] {
    var order: [GradientNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(GradientNode, Int)] = [(root, 0)]
    visited.insert(ObjectIdentifier(root))
    while let (node, next) = stack.popLast() {
        if next < node.inputs.count {
            stack.append((node, next + 1))
            if let input = node.inputs[next], visited.insert(ObjectIdentifier(input)).inserted {
                stack.append((input, 0))
            }
        } else {
            order.append(node)
        }
    }
    return order
}

/// Records an op result in the graph when gradients are enabled and an input requires them.
/// `backward` receives the output gradient and returns one gradient per input, in order;
/// it may return nil for inputs whose `needsGradient` entry is false.
func record(_ op: String, _ result: Tensor, inputs: [Tensor],
            backward: @escaping (_ gradient: Tensor, _ needsGradient: [Bool]) -> [Tensor?]) -> Tensor {
    recordGradients(op, result, inputs: inputs) { g, needs in backward(g, needs).map { $0.map(InputGradient.dense) } }
}

/// `record` for ops whose backward may hand back regions of their inputs (slices).
func recordGradients(_ op: String, _ result: Tensor, inputs: [Tensor],
                     backward: @escaping (_ gradient: Tensor, _ needsGradient: [Bool]) -> [InputGradient?]) -> Tensor {
    guard GradientMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return result }
    var output = result
    output.node = GradientNode(op: op, shape: result.shape, inputs: inputs.map(\.node), backward: backward)
    return output
}

extension Tensor {
    /// Records `value` as the result of a custom op on `inputs` whose backward is `gradient`:
    /// given the output gradient it returns one gradient per input, shaped like that input.
    /// For ops with a cheaper or more stable hand-written derivative than their composition.
    public static func custom(_ name: String, _ value: Tensor, inputs: [Tensor],
                              gradient: @escaping (Tensor) -> [Tensor]) -> Tensor {
        record(name, value.detached(), inputs: inputs) { g, needs in
            zip(gradient(g), needs).map { $1 ? $0 : nil }
        }
    }
}
