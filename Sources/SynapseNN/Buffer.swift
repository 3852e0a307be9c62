// Non-learnable module state, such as batch normalization's running statistics.

import SynapseCore

/// A tensor a module keeps between calls without learning it (PyTorch's registered buffers):
/// saved in checkpoints, never touched by optimizers. `name` overrides the property name in
/// `namedBuffers`, so `@Buffer(name: "running_mean") var runningMean` matches PyTorch's key.
@propertyWrapper
public final class Buffer {
    public var value: Tensor
    public let name: String?

    public init(wrappedValue: Tensor, name: String? = nil) {
        value = wrappedValue.detached()
        self.name = name
    }

    public var wrappedValue: Tensor {
        get { value }
        set { value = newValue.detached() }
    }

    public var projectedValue: Buffer { self }
}
