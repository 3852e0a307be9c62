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

    public convenience init(_ count: Int, _ dimension: Int, paddingIndex: Int? = nil) {
        require(count > 0 && dimension > 0, "Embedding: count and dimension must be positive, got \(count) × \(dimension)")
        var table = Tensor.randn([count, dimension])
        if let padding = Self.paddingRow(paddingIndex, count: count) {
            table.withUnsafeMutableBufferPointer { ($0.baseAddress! + padding * dimension).update(repeating: 0, count: dimension) }
        }
        self.init(table: table, paddingIndex: paddingIndex)
    }

    /// A table holding `pretrained` [count, dimension] as it is, as
    /// `nn.Embedding.from_pretrained`: frozen (no gradient, skipped by optimizers) unless
    /// `freeze` is false. The padding row is not changed, only kept out of training.
    public convenience init(pretrained: Tensor, freeze: Bool = true, paddingIndex: Int? = nil) {
        require(pretrained.rank == 2 && pretrained.count > 0,
                "Embedding(pretrained:): the table must be a nonempty [count, dimension], got \(pretrained.shape)")
        self.init(table: pretrained, paddingIndex: paddingIndex)
        _weight.isFrozen = freeze
    }

    private init(table: Tensor, paddingIndex: Int?) {
        (count, dimension) = (table.shape[0], table.shape[1])
        self.paddingIndex = Self.paddingRow(paddingIndex, count: count)
        _weight = Parameter(table)
    }

    /// The row `paddingIndex` names (negative counts from the end), checked against `count`.
    private static func paddingRow(_ paddingIndex: Int?, count: Int) -> Int? {
        paddingIndex.map { index in
            require(index >= -count && index < count, "Embedding: paddingIndex \(index) is out of range for \(count) embeddings")
            return index < 0 ? index + count : index
        }
    }

    /// The vectors of `indices`, shaped indices.shape + [dimension].
    public func callAsFunction(_ indices: IndexTensor) -> Tensor {
        traced(weight.embedding(indices, paddingIndex: paddingIndex))
    }
}
