// Selecting by index: indexSelect (embeddings) and gather (picking one entry per row).

import SynapseKernels

extension Tensor {
    /// Picks slices along `axis` by index: the result's shape is this shape with dimension
    /// `axis` replaced by `indices.shape`. An embedding lookup is `table.indexSelect(axis: 0, indices: tokens)`.
    /// The gradient scatter-adds back, so repeated indices accumulate.
    public func indexSelect(axis: Int, indices: IndexTensor) -> Tensor {
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "indexSelect") }
        let (outer, size, inner) = Shape.split(shape, at: resolved)
        let positions = check { () throws(ShapeError) in try indices.resolved(against: size, op: "indexSelect") }
        let newShape = Array(shape[..<resolved]) + indices.shape + Array(shape[(resolved + 1)...])
        let result = Tensor(uninitializedShape: newShape)
        positions.withUnsafeBufferPointer { index in
            guard let base = index.baseAddress else { return }
            Kernels.indexSelect(pointer, outer: outer, size: size, inner: inner,
                                indices: base, indexCount: index.count, into: result.pointer)
        }
        let inputShape = shape
        return record("indexSelect", result, inputs: [self]) { g, _ in
            let input = Tensor.zeros(inputShape)
            positions.withUnsafeBufferPointer { index in
                guard let base = index.baseAddress else { return }
                Kernels.indexScatterAdd(g.pointer, outer: outer, size: size, inner: inner,
                                        indices: base, indexCount: index.count, into: input.pointer)
            }
            return [input]
        }
    }

    /// `torch.gather`: result[…, j, …] = self[…, indices[…, j, …], …] along `axis`. `indices`
    /// has this tensor's rank and the same size in every other dimension; the result has its shape.
    /// Cross-entropy uses it to pick each row's target logit.
    public func gather(axis: Int, indices: IndexTensor) -> Tensor {
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "gather") }
        var expected = shape, given = indices.shape
        if given.count == expected.count {
            expected[resolved] = 0
            given[resolved] = 0
        }
        require(given == expected,
                     "gather: indices of shape \(Shape.describe(indices.shape)) do not match tensor of shape \(Shape.describe(shape)) outside axis \(axis)")
        let (outer, size, inner) = Shape.split(shape, at: resolved)
        let positions = check { () throws(ShapeError) in try indices.resolved(against: size, op: "gather") }
        let indexSize = indices.shape[resolved]
        let result = Tensor(uninitializedShape: indices.shape)
        positions.withUnsafeBufferPointer { index in
            guard let base = index.baseAddress else { return }
            Kernels.gather(pointer, outer: outer, size: size, inner: inner, index: base, indexSize: indexSize, into: result.pointer)
        }
        let inputShape = shape
        return record("gather", result, inputs: [self]) { g, _ in
            let input = Tensor.zeros(inputShape)
            positions.withUnsafeBufferPointer { index in
                guard let base = index.baseAddress else { return }
                Kernels.scatterAdd(g.pointer, outer: outer, size: size, inner: inner, index: base, indexSize: indexSize, into: input.pointer)
            }
            return [input]
        }
    }
}
