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

    /// Replaces the value (same shape required), cut from any graph and marked as a leaf.
    public func assign(_ newValue: Tensor) {
        require(newValue.shape == value.shape,
                "Parameter.assign: new value of shape \(newValue.shape) does not match \(value.shape)")
        value = isFrozen ? newValue.detached() : newValue.detached().requiringGrad()
    }

    /// Mutates the value's elements in place (no copy unless another tensor shares the buffer).
    /// Optimizers use it; it bypasses autodiff, like `param.data` in PyTorch.
    public func updateInPlace(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        value.withUnsafeMutableBufferPointer(body)
    }

    public var projectedValue: Parameter { self }

    /// The gradient accumulated by the last `backward()` calls.
    public var grad: Tensor? { value.grad }

    public var shape: [Int] { value.shape }

    /// Multiplies the accumulated gradient by `factor` (gradient clipping).
    public func scaleGradient(by factor: Float) {
        value.replaceGrad { $0 * factor }
    }

    /// Clamps the accumulated gradient to [−limit, limit].
    public func clampGradient(to limit: Float) {
        value.replaceGrad { $0.clamped(min: -limit, max: limit) }
    }
}
