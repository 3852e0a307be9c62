// Batch and layer normalization.

import SynapseCore

/// Batch normalization over [N, C] or [N, C, L] inputs (PyTorch's `BatchNorm1d`). Training
/// normalizes with the batch's statistics and updates running estimates with `momentum`
/// (running variance unbiased); evaluation normalizes with the running estimates.
public final class BatchNorm1d: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    @Buffer public var runningMean: Tensor
    @Buffer public var runningVariance: Tensor
    @Buffer public var batchesTracked: Tensor
    public let epsilon: Float, momentum: Float

    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        require(features > 0, "BatchNorm1d: features must be positive, got \(features)")
        _weight = Parameter(Tensor.ones([features]))
        _bias = Parameter(Tensor.zeros([features]))
        _runningMean = Buffer(wrappedValue: Tensor.zeros([features]), name: "running_mean")
        _runningVariance = Buffer(wrappedValue: Tensor.ones([features]), name: "running_var")
        _batchesTracked = Buffer(wrappedValue: Tensor(0), name: "num_batches_tracked")
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let features = weight.shape[0]
        require((input.rank == 2 || input.rank == 3) && input.shape[1] == features,
                "BatchNorm1d: expected input [N, \(features)] or [N, \(features), L], got \(input.shape)")
        // Statistics run over every axis except the channel axis 1.
        let axes = input.rank == 2 ? [0] : [0, 2]
        let shape = input.rank == 2 ? [1, features] : [1, features, 1]
        let mean: Tensor, variance: Tensor
        if isTraining {
            let count = axes.reduce(1) { $0 * input.shape[$1] }
            require(count > 1, "BatchNorm1d: training needs more than one value per channel, got input \(input.shape)")
            mean = input.mean(axes: axes, keepDims: true)
            variance = input.variance(axes: axes, correction: 0, keepDims: true)
            withoutGradients {
                let unbiased = variance.reshaped([features]) * (Float(count) / Float(count - 1))
                runningMean = (1 - momentum) * runningMean + momentum * mean.reshaped([features])
                runningVariance = (1 - momentum) * runningVariance + momentum * unbiased
                batchesTracked = batchesTracked + 1
            }
        } else {
            mean = runningMean.reshaped(shape)
            variance = runningVariance.reshaped(shape)
        }
        let normalized = (input - mean) / (variance + epsilon).sqrt()
        return normalized * weight.reshaped(shape) + bias.reshaped(shape)
    }
}

/// Layer normalization over the last `normalizedShape.count` axes, with a learnable
/// elementwise scale and shift of that shape (PyTorch's `LayerNorm`).
public final class LayerNorm: Module {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    public let normalizedShape: [Int]
    public let epsilon: Float

    public init(_ normalizedShape: [Int], epsilon: Float = 1e-5) {
        require(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                "LayerNorm: normalized shape must be non-empty and positive, got \(normalizedShape)")
        _weight = Parameter(Tensor.ones(normalizedShape))
        _bias = Parameter(Tensor.zeros(normalizedShape))
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
    }

    public convenience init(_ features: Int, epsilon: Float = 1e-5) {
        self.init([features], epsilon: epsilon)
    }

    public override func callAsFunction(_ input: Tensor) -> Tensor {
        let k = normalizedShape.count
        require(input.rank >= k && Array(input.shape.suffix(k)) == normalizedShape,
                "LayerNorm: input \(input.shape) does not end in \(normalizedShape)")
        let axes = Array((input.rank - k)..<input.rank)
        let mean = input.mean(axes: axes, keepDims: true)
        let variance = input.variance(axes: axes, correction: 0, keepDims: true)
        return (input - mean) / (variance + epsilon).sqrt() * weight + bias
    }
}
