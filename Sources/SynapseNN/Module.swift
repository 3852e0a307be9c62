// The base class of every layer and model.

import SynapseCore

/// A layer or a model: something that owns parameters and child modules.
///
/// Subclasses declare parameters with `@Parameter` and children as stored `Module` (or
/// `[Module]`) properties; both are found by reflection, in declaration order, and named the
/// way PyTorch's `state_dict` names them (`fc1.weight`, `layers.0.bias`).
///
/// A module's forward pass is whatever `callAsFunction` it declares, with typed inputs and
/// outputs: one tensor to one tensor for most layers (`UnaryLayer`), a sequence and optional
/// initial states to outputs and final states for recurrent layers.
///
/// ```swift
/// final class MLP: Module, UnaryLayer {
///     let fc1 = Linear(784, 128)
///     let fc2 = Linear(128, 10)
///     func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }
/// }
/// ```
open class Module {
    /// Whether the module is in training mode (dropout active, batch statistics updated).
    public private(set) var isTraining = true

    public init() {}

    /// Direct children with their names. The default reflects over stored properties;
    /// containers such as `Sequential` override it.
    open var namedChildren: [(String, Module)] {
        var children: [(String, Module)] = []
        forEachStoredProperty { name, value in
            if let module = value as? Module {
                children.append((name, module))
            } else if let modules = value as? [Module] {
                for (index, module) in modules.enumerated() { children.append(("\(name).\(index)", module)) }
            } else if let layers = value as? [any UnaryLayer] {
                for (index, module) in layers.enumerated() { children.append(("\(name).\(index)", module)) }
            }
        }
        return children
    }

    /// This module's own parameters (not its children's), with their names.
    open var namedOwnParameters: [(String, Parameter)] {
        var parameters: [(String, Parameter)] = []
        forEachStoredProperty { name, value in
            if let parameter = value as? Parameter { parameters.append((name, parameter)) }
        }
        return parameters
    }

    /// This module's own buffers (not its children's), with their names.
    open var namedOwnBuffers: [(String, Buffer)] {
        var buffers: [(String, Buffer)] = []
        forEachStoredProperty { name, value in
            if let buffer = value as? Buffer { buffers.append((buffer.name ?? name, buffer)) }
        }
        return buffers
    }

    /// Every buffer in the tree, named by its path: `bn.running_mean`.
    public var namedBuffers: [(String, Buffer)] {
        var result = namedOwnBuffers
        for (childName, child) in namedChildren {
            result += child.namedBuffers.map { ("\(childName).\($0.0)", $0.1) }
        }
        return result
    }

    /// Every parameter in the tree, named by its path: `layers.0.weight`.
    public var namedParameters: [(String, Parameter)] {
        var result = namedOwnParameters
        for (childName, child) in namedChildren {
            result += child.namedParameters.map { ("\(childName).\($0.0)", $0.1) }
        }
        return result
    }

    /// Every parameter in the tree, in `namedParameters` order.
    public var parameters: [Parameter] { namedParameters.map(\.1) }

    /// Parameters that are not frozen.
    public var trainableParameters: [Parameter] { parameters.filter { !$0.isFrozen } }

    /// The number of scalars in all parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Switches this module and its children to training mode (or evaluation mode with `false`).
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in namedChildren { child.train(on) }
    }

    /// Switches to evaluation mode: dropout off, batch norm uses running statistics.
    public func eval() { train(false) }

    /// Runs `body` as inference: in evaluation mode and without recording gradients, then
    /// puts the module back in the mode it was in.
    public func inference<R>(_ body: () throws -> R) rethrows -> R {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return try withoutGradients(body)
    }

    /// Freezes every parameter in the tree: no gradients, no updates.
    public func freeze() { parameters.forEach { $0.isFrozen = true } }

    /// Unfreezes every parameter in the tree.
    public func unfreeze() { parameters.forEach { $0.isFrozen = false } }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { parameters.forEach { $0.value.zeroGrad() } }

    /// Calls `body(name, value)` for stored properties of this class and its superclasses up
    /// to `Module`, base classes first. Property-wrapper storage loses its leading underscore.
    private func forEachStoredProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror, current.subjectType != Module.self {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        for current in mirrors.reversed() {
            for child in current.children {
                guard var name = child.label else { continue }
                if name.hasPrefix("_") { name.removeFirst() }
                body(name, child.value)
            }
        }
    }
}

/// A module whose forward pass maps one tensor to one tensor: the layers a `Sequential`
/// chains and a classifier is made of.
public protocol UnaryLayer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}
