// Batch and layer normalization.

import SynapseCore

/// The state and arithmetic shared by `BatchNorm1d` and `BatchNorm2d`: a per-channel scale and
/// shift, and running estimates of each channel's mean and (unbiased) variance, updated with
/// `momentum` in training mode and used for normalization in evaluation mode.
public class BatchNorm: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    @Buffer public var runningMean: Tensor
    @Buffer public var runningVariance: Tensor
    @Buffer public var batchesTracked: Tensor
    public let epsilon: Float, momentum: Float

    init(_ channels: Int, epsilon: Float, momentum: Float, op: String) {
        require(channels > 0, "\(op): channels must be positive, got \(channels)")
        _weight = Parameter(Tensor.ones([channels]))
        _bias = Parameter(Tensor.zeros([channels]))
        _runningMean = Buffer(wrappedValue: Tensor.zeros([channels]), name: "running_mean")
        _runningVariance = Buffer(wrappedValue: Tensor.ones([channels]), name: "running_var")
        _batchesTracked = Buffer(wrappedValue: Tensor(0), name: "num_batches_tracked")
        self.epsilon = epsilon
        self.momentum = momentum
    }

    /// Normalizes `input` [N, C, …] per channel (axis 1) with the fused `batchNormalized` op:
    /// batch statistics in training mode (updating the running estimates), running estimates
    /// in evaluation mode.
    func normalize(_ input: Tensor, op: String) -> Tensor {
        let channels = weight.shape[0]
        guard isTraining else {
            return input.batchNormalized(weight: weight, bias: bias, epsilon: epsilon,
                                         statistics: (runningMean, runningVariance)).output
        }
        let count = input.count / channels
        require(count > 1, "\(op): training needs more than one value per channel, got input \(input.shape)")
        let (output, mean, variance) = input.batchNormalized(weight: weight, bias: bias, epsilon: epsilon)
        withoutGradients {
            let unbiased = variance * (Float(count) / Float(count - 1))
            runningMean = (1 - momentum) * runningMean + momentum * mean
            runningVariance = (1 - momentum) * runningVariance + momentum * unbiased
            batchesTracked = batchesTracked + 1
        }
        return output
    }
}

/// Batch normalization over [N, C] or [N, C, L] inputs (PyTorch's `BatchNorm1d`).
public final class BatchNorm1d: BatchNorm, UnaryLayer {
    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features, epsilon: epsilon, momentum: momentum, op: "BatchNorm1d")
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let features = weight.shape[0]
        require((input.rank == 2 || input.rank == 3) && input.shape[1] == features,
                "BatchNorm1d: expected input [N, \(features)] or [N, \(features), L], got \(input.shape)")
        return normalize(input, op: "BatchNorm1d")
    }
}

/// Layer normalization over the last `normalizedShape.count` axes, with a learnable
/// elementwise scale and (unless built with `bias: false`) shift of that shape, as PyTorch's
/// `LayerNorm`. Runs as one fused op.
public final class LayerNorm: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    /// Nil when built with `bias: false` (PyTorch's `LayerNorm(..., bias=False)`).
    public let bias: Parameter?
    public let normalizedShape: [Int]
    public let epsilon: Float

    public init(_ normalizedShape: [Int], epsilon: Float = 1e-5, bias: Bool = true) {
        require(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                "LayerNorm: normalized shape must be non-empty and positive, got \(normalizedShape)")
        _weight = Parameter(Tensor.ones(normalizedShape))
        self.bias = bias ? Parameter(Tensor.zeros(normalizedShape)) : nil
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
    }

    public convenience init(_ features: Int, epsilon: Float = 1e-5, bias: Bool = true) {
        self.init([features], epsilon: epsilon, bias: bias)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        traced(input.layerNormalized(normalizedShape, weight: weight, bias: bias?.value, epsilon: epsilon))
    }
}
