// Token embeddings.

import SynapseCore

/// A lookup table of `count` vectors of `dimension` floats, as `torch.nn.Embedding`:
/// initialised N(0, 1); the row at `paddingIndex` (if given) starts at zero and gets no
/// gradient, so padding tokens stay zero vectors.
///
/// ```swift
/// let embed = Embedding(65, 128)
/// let vectors = embed(tokens)   // tokens [N, T] → [N, T, 128]
/// ```
public final class Embedding: Module {
    @Parameter public var weight: Tensor
    public let count: Int
    public let dimension: Int
    public let paddingIndex: Int?

    public init(_ count: Int, _ dimension: Int, paddingIndex: Int? = nil) {
        require(count > 0 && dimension > 0, "Embedding: count and dimension must be positive, got \(count) × \(dimension)")
        if let paddingIndex {
            require(paddingIndex >= -count && paddingIndex < count,
                    "Embedding: paddingIndex \(paddingIndex) is out of range for \(count) embeddings")
        }
        self.count = count
        self.dimension = dimension
        self.paddingIndex = paddingIndex.map { $0 < 0 ? $0 + count : $0 }
        var table = Tensor.randn([count, dimension])
        if let padding = self.paddingIndex {
            table.withUnsafeMutableBufferPointer { ($0.baseAddress! + padding * dimension).update(repeating: 0, count: dimension) }
        }
        _weight = Parameter(table)
    }

    /// A table holding `pretrained` [count, dimension] as it is, as
    /// `nn.Embedding.from_pretrained`: frozen (no gradient, skipped by optimizers) unless
    /// `freeze` is false. The padding row is not changed, only kept out of training.
    public convenience init(pretrained: Tensor, freeze: Bool = true, paddingIndex: Int? = nil) {
        require(pretrained.rank == 2, "Embedding(pretrained:): the table must be [count, dimension], got \(pretrained.shape)")
        self.init(pretrained.shape[0], pretrained.shape[1], paddingIndex: paddingIndex)
        weight = pretrained
        _weight.isFrozen = freeze
    }

    /// The vectors of `indices`, shaped indices.shape + [dimension].
    public func callAsFunction(_ indices: IndexTensor) -> Tensor {
        traced(weight.embedding(indices, paddingIndex: paddingIndex))
    }
}
