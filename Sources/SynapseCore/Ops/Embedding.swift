// Embedding lookup: rows of a table by token id.

import SynapseKernels

extension Tensor {
    /// The rows of this table [count, dimension] at `indices`, shaped indices.shape + [dimension],
    /// as `torch.nn.functional.embedding`. The backward pass adds each looked-up row's
    /// gradient straight into the table's gradient (no zero table per lookup), and rows at
    /// `paddingIndex` get no gradient.
    public func embedding(_ indices: IndexTensor, paddingIndex: Int? = nil) -> Tensor {
        require(rank == 2, "embedding: the table must be [count, dimension], got \(Shape.describe(shape))")
        let (count, dimension) = (shape[0], shape[1])
        let positions = check { () throws(ShapeError) in try indices.resolved(against: count, op: "embedding") }
        let result = Tensor(uninitializedShape: indices.shape + [dimension])
        positions.withUnsafeBufferPointer { index in
            guard let base = index.baseAddress else { return }
            Kernels.indexSelect(pointer, outer: 1, size: count, inner: dimension, indices: base, indexCount: index.count,
                                into: result.pointer)
        }
        let skipped = paddingIndex.map { $0 < 0 ? $0 + count : $0 }
        return recordGradients("embedding", result, inputs: [self]) { g, _ in
            [.scatter { table in
                positions.withUnsafeBufferPointer { index in
                    guard let base = index.baseAddress else { return }
                    Kernels.indexScatterAdd(g.pointer, outer: 1, size: count, inner: dimension, indices: base,
                                            indexCount: index.count, skipping: skipped, into: table)
                }
            }]
        }
    }
}
