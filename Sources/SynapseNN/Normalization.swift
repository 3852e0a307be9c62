// Batch and layer normalization.

import SynapseCore

/// Sums per-channel statistics over the processes of a data-parallel job, so that batch
/// normalization can use the statistics of the whole global batch (`SyncBatchNorm` in
/// `SynapseDistributed` sets one on every `BatchNorm` of a model).
public protocol BatchStatisticsReducer: AnyObject {
    /// The number of processes, each holding an equal share of the global batch.
    var processCount: Int { get }
    /// The element-wise sum of `values` over the processes, identical on every process. It is
    /// differentiable: the gradient of each process's input is the sum of every process's
    /// output gradient.
    func sumAcrossProcesses(_ values: Tensor) -> Tensor
}

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
    /// With a reducer, training mode normalizes with the mean and variance of the global
    /// batch across processes, as PyTorch's `SyncBatchNorm`; without, with this process's batch.
    public var statisticsReducer: BatchStatisticsReducer?

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
        if let statisticsReducer {
            return synchronizedNormalize(input, reducer: statisticsReducer, localCount: count)
        }
        let (output, mean, variance) = input.batchNormalized(weight: weight, bias: bias, epsilon: epsilon)
        updateRunningStatistics(mean: mean, variance: variance, count: count)
        return output
    }

    /// Normalization with the statistics of every process's batch, composed of differentiable
    /// ops so the gradient flows through the sums across processes. Two passes (the mean, then
    /// the mean squared deviation from it) keep the variance accurate.
    private func synchronizedNormalize(_ input: Tensor, reducer: BatchStatisticsReducer, localCount: Int) -> Tensor {
        let channels = weight.shape[0]
        let axes = [0] + Array(2..<input.rank)
        let broadcastShape = [1, channels] + Array(repeating: 1, count: input.rank - 2)
        let total = Float(localCount * reducer.processCount)
        let mean = reducer.sumAcrossProcesses(input.sum(axes: axes)) / total
        let centered = input - mean.reshaped(broadcastShape)
        let variance = reducer.sumAcrossProcesses((centered * centered).sum(axes: axes)) / total
        let scale = weight / (variance + epsilon).sqrt()
        updateRunningStatistics(mean: mean.detached(), variance: variance.detached(), count: localCount * reducer.processCount)
        return centered * scale.reshaped(broadcastShape) + bias.reshaped(broadcastShape)
    }

    private func updateRunningStatistics(mean: Tensor, variance: Tensor, count: Int) {
        withoutGradients {
            let unbiased = variance * (Float(count) / Float(count - 1))
            runningMean = (1 - momentum) * runningMean + momentum * mean
            runningVariance = (1 - momentum) * runningVariance + momentum * unbiased
            batchesTracked = batchesTracked + 1
        }
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
