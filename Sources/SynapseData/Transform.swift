// Batch transforms for a DataLoader: normalization and composition.

import SynapseCore

/// Maps a batch of inputs to a new batch, as a `DataLoader` assembles it. Random transforms
/// (augmentation) draw only from `generator`, which the loader seeds from its seed, the epoch
/// and the batch's position, so every run sees the same augmented batches.
public protocol Transform: Sendable {
    func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor
}

extension Transform {
    /// Applies the transform with a generator seeded by `seed`.
    public func callAsFunction(_ batch: Tensor, seed: UInt64 = 0) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return self(batch, using: &generator)
    }
}

/// Transforms applied in order, like torchvision's `Compose`:
///
///     Compose {
///         RandomHorizontalFlip()
///         RandomCrop(28, padding: 2)
///         Normalize(mean: [0.286], standardDeviation: [0.353])
///     }
public struct Compose: Transform {
    public let transforms: [any Transform]

    public init(_ transforms: [any Transform]) { self.transforms = transforms }

    public init(@TransformBuilder _ build: () -> [any Transform]) { self.transforms = build() }

    public func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor {
        transforms.reduce(batch) { $1($0, using: &generator) }
    }
}

/// Collects the transforms listed in a `Compose { … }` block; `if` and `for` work as in any builder.
@resultBuilder
public enum TransformBuilder {
    public static func buildExpression(_ transform: any Transform) -> [any Transform] { [transform] }
    public static func buildBlock(_ parts: [any Transform]...) -> [any Transform] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Transform]?) -> [any Transform] { part ?? [] }
    public static func buildEither(first part: [any Transform]) -> [any Transform] { part }
    public static func buildEither(second part: [any Transform]) -> [any Transform] { part }
    public static func buildArray(_ parts: [[any Transform]]) -> [any Transform] { parts.flatMap { $0 } }
}

/// A deterministic transform given as a closure, e.g. `Lambda { $0 * 2 }`.
public struct Lambda: Transform {
    public let body: @Sendable (Tensor) -> Tensor

    public init(_ body: @escaping @Sendable (Tensor) -> Tensor) { self.body = body }

    public func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor { body(batch) }
}

/// (x − mean) / standardDeviation with statistics that broadcast against the batch. Given
/// arrays, there is one value per channel (axis 1), as in torchvision's `Normalize`.
public struct Normalize: Transform {
    public let mean: Tensor
    public let standardDeviation: Tensor

    /// Statistics shaped to broadcast against batches, e.g. [1, C, 1, 1] or [1, features].
    public init(mean: Tensor, standardDeviation: Tensor) {
        require(mean.shape == standardDeviation.shape,
                "Normalize: mean \(mean.shape) and standardDeviation \(standardDeviation.shape) differ in shape")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Per-channel statistics for image batches [N, C, H, W].
    public init(mean: [Float], standardDeviation: [Float]) {
        require(mean.count == standardDeviation.count && !mean.isEmpty,
                "Normalize: \(mean.count) means but \(standardDeviation.count) standard deviations")
        require(standardDeviation.allSatisfy { $0 > 0 }, "Normalize: standard deviations must be positive, got \(standardDeviation)")
        self.init(mean: Tensor(mean, shape: [1, mean.count, 1, 1]),
                  standardDeviation: Tensor(standardDeviation, shape: [1, mean.count, 1, 1]))
    }

    public func callAsFunction(_ batch: Tensor, using generator: inout RandomGenerator) -> Tensor {
        withoutGradients { (batch - mean) / standardDeviation }
    }
}
