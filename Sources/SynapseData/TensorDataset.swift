// Labelled examples held in memory.

import SynapseCore

/// What a `DataLoader` can batch: anything that can count its examples and assemble any
/// subset of them into one batch, of whatever kind the task needs (`LabeledBatch`,
/// `SequenceBatch`, `RegressionBatch`, or a type of your own).
public protocol Dataset<Batch>: Sendable {
    associatedtype Batch: Sendable
    /// The number of examples.
    var count: Int { get }
    /// The examples at `indices`, in that order, as one batch.
    func batch(_ indices: [Int]) -> Batch
}

/// Examples and their class labels, all in memory: `inputs` is [N, …], `labels` is [N].
public struct TensorDataset: Dataset {
    public let inputs: Tensor
    public let labels: IndexTensor
    /// Human-readable class names, when known ("T-shirt/top", …).
    public let classNames: [String]

    public init(inputs: Tensor, labels: IndexTensor, classNames: [String] = []) {
        require(inputs.rank >= 1 && labels.shape == [inputs.shape[0]],
                "TensorDataset: \(inputs.shape.first ?? 0) inputs but labels of shape \(labels.shape)")
        self.inputs = inputs
        self.labels = labels
        self.classNames = classNames
    }

    public var count: Int { labels.count }

    /// The number of classes: the class names if given, else the largest label + 1.
    public var classCount: Int { classNames.isEmpty ? (labels.scalars.max() ?? -1) + 1 : classNames.count }

    /// The examples at `indices`, in that order.
    public func batch(_ indices: [Int]) -> LabeledBatch {
        let index = IndexTensor(indices)
        return LabeledBatch(inputs: inputs.indexSelect(axis: 0, indices: index), labels: IndexTensor(indices.map { labels.scalars[$0] }))
    }

    /// Per-feature mean and standard deviation over the examples (axis 0), shaped [1, …] to
    /// broadcast over a batch, for `Normalize`. Constant features get a standard deviation of 1,
    /// so they map to 0 instead of dividing by 0.
    public func featureStatistics() -> (mean: Tensor, standardDeviation: Tensor) {
        statistics(over: [0])
    }

    /// Per-channel mean and standard deviation of image examples [N, C, …], shaped [1, C, 1, …]
    /// so they broadcast over a batch: the statistics torchvision's `Normalize` takes. Unlike
    /// per-feature statistics they do not depend on where a pixel is, so they stay right for
    /// shifted, cropped or flipped images, and nearly constant border pixels are not blown up.
    public func channelStatistics() -> (mean: Tensor, standardDeviation: Tensor) {
        require(inputs.rank >= 3, "channelStatistics: needs inputs [N, C, …], got \(inputs.shape)")
        return statistics(over: [0] + Array(2..<inputs.rank))
    }

    /// Mean and population standard deviation over `axes`, kept as size-1 axes; deviations
    /// near 0 become 1.
    private func statistics(over axes: [Int]) -> (mean: Tensor, standardDeviation: Tensor) {
        withoutGradients {
            let mean = inputs.mean(axes: axes, keepDims: true)
            let deviation = inputs.variance(axes: axes, correction: 0, keepDims: true).sqrt()
            return (mean, Tensor.where(deviation .> 1e-6, deviation, Tensor(1)))
        }
    }

    /// Splits off a seeded random `validationFraction` of the examples, as a (train, validation) pair.
    public func split(validationFraction: Double, seed: UInt64) -> (train: TensorDataset, validation: TensorDataset) {
        require(validationFraction > 0 && validationFraction < 1, "split: validationFraction must be in (0, 1), got \(validationFraction)")
        var generator = RandomGenerator(seed: seed)
        let order = Array(0..<count).shuffled(using: &generator)
        let validationCount = max(1, Int((Double(count) * validationFraction).rounded()))
        let validation = Array(order.prefix(validationCount)).sorted(), train = Array(order.dropFirst(validationCount)).sorted()
        let (trainPart, validationPart) = (batch(train), batch(validation))
        return (TensorDataset(inputs: trainPart.inputs, labels: trainPart.labels, classNames: classNames),
                TensorDataset(inputs: validationPart.inputs, labels: validationPart.labels, classNames: classNames))
    }
}
