// Learnable tensors owned by modules.

import SynapseCore

/// A learnable tensor. As a property wrapper it makes a module's stored tensor discoverable:
/// `@Parameter var weight: Tensor` reads and writes like a tensor, `$weight` is the shared
/// parameter object that optimizers update in place.
@propertyWrapper
public final class Parameter {
    /// The current value; it requires gradients unless the parameter is frozen. Replace it
    /// with `assign(_:)` or change it in place with `updateInPlace(_:)`.
    public private(set) var value: Tensor

    /// A frozen parameter gets no gradient and is skipped by optimizers.
    public var isFrozen = false {
        didSet { value.requiresGrad = !isFrozen }
    }

    public init(_ value: Tensor) {
        self.value = value.detached().requiringGrad()
    }

    public convenience init(wrappedValue: Tensor) {
        self.init(wrappedValue)
    }

    public var wrappedValue: Tensor {
        get { value }
        set { assign(newValue) }
    }

    /// Which elements a pruned parameter keeps: 1 where an element may be nonzero, 0 where it
    /// was pruned; nil for a parameter that was never pruned. While it is set, every change
    /// (`assign`, `updateInPlace`, and so every optimizer step) leaves the pruned elements at
    /// zero, and optimizers see their gradient as zero, so momentum never revives them.
    public private(set) var mask: Tensor?

    /// Counts the changes to the value, so a cache built from it (a layer's sparse copy of its
    /// weight) can tell that it is stale.
    public private(set) var version = 0

    /// Replaces the value (same shape required), cut from any graph and marked as a leaf.
    public func assign(_ newValue: Tensor) {
        require(newValue.shape == value.shape,
                "Parameter.assign: new value of shape \(newValue.shape) does not match \(value.shape)")
        value = isFrozen ? newValue.detached() : newValue.detached().requiringGrad()
        version += 1
        zeroPrunedElements()
    }

    /// Mutates the value's elements in place (no copy unless another tensor shares the buffer).
    /// Optimizers use it; it bypasses autodiff, like `param.data` in PyTorch.
    public func updateInPlace(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        value.withUnsafeMutableBufferPointer(body)
        version += 1
        zeroPrunedElements()
    }

    /// Prunes the elements where `mask` is 0 (same shape as the value; entries 0 or 1): they
    /// become zero now and stay zero through training. Replaces any earlier mask.
    public func prune(keeping mask: Tensor) {
        require(mask.shape == value.shape, "Parameter.prune: mask of shape \(mask.shape) does not match \(value.shape)")
        require(mask.scalars.allSatisfy { $0 == 0 || $0 == 1 }, "Parameter.prune: mask entries must be 0 or 1")
        self.mask = mask.detached()
        version += 1
        zeroPrunedElements()
    }

    /// Forgets the mask: pruned elements stay zero until training changes them.
    public func removeMask() { mask = nil }

    /// The number of elements that are exactly zero.
    public var zeroCount: Int {
        value.withUnsafeBufferPointer { values in
            var zeros = 0
            for value in values where value == 0 { zeros += 1 }
            return zeros
        }
    }

    /// The share of elements that are exactly zero.
    public var sparsity: Double { value.count == 0 ? 0 : Double(zeroCount) / Double(value.count) }

    private func zeroPrunedElements() {
        guard let mask else { return }
        mask.withUnsafeBufferPointer { keep in
            value.withUnsafeMutableBufferPointer { values in
                for index in values.indices where keep[index] == 0 { values[index] = 0 }
            }
        }
    }

    public var projectedValue: Parameter { self }

    /// The gradient accumulated by the last `backward()` calls.
    public var grad: Tensor? { value.grad }

    public var shape: [Int] { value.shape }

    /// Replaces the accumulated gradient (with one averaged across processes, say). A frozen
    /// parameter has no gradient to set.
    public func setGradient(_ gradient: Tensor) {
        require(!isFrozen, "Parameter.setGradient: the parameter is frozen")
        value.setGrad(gradient)
    }

    /// Calls `body` with mutable access to the accumulated gradient (in place where no other
    /// tensor shares it); nil without a gradient.
    public func withUnsafeMutableGradPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R? {
        require(!isFrozen, "Parameter.withUnsafeMutableGradPointer: the parameter is frozen")
        return try value.withUnsafeMutableGradPointer(body)
    }

    /// Multiplies the accumulated gradient by `factor` (gradient clipping).
    public func scaleGradient(by factor: Float) {
        value.replaceGrad { $0 * factor }
    }

    /// Clamps the accumulated gradient to [−limit, limit].
    public func clampGradient(to limit: Float) {
        value.replaceGrad { $0.clamped(min: -limit, max: limit) }
    }
}
