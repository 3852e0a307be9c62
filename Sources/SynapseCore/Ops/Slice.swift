// Slicing along an axis, and integer/range subscripts.

import SynapseKernels

extension Tensor {
    /// Elements `start, start + step, …` below `end` along `axis`. Negative bounds count from
    /// the end; bounds past the ends are clamped, as in Python slicing.
    public func slice(axis: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let resolvedAxis = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "slice") }
        require(step > 0, "slice: step must be positive, got \(step)")
        let size = shape[resolvedAxis]
        func clamp(_ bound: Int) -> Swift.Int { Swift.min(Swift.max(bound < 0 ? bound + size : bound, 0), size) }
        let lower = clamp(start), upper = Swift.max(lower, clamp(end ?? size))
        let length = (upper - lower + step - 1) / step
        var newShape = shape
        newShape[resolvedAxis] = length
        if newShape == shape { return self }
        let strides = Shape.strides(shape)
        var viewStrides = strides
        viewStrides[resolvedAxis] *= step
        let offset = lower * strides[resolvedAxis]
        let result = Tensor(uninitializedShape: newShape)
        Kernels.stridedCopy(shape: newShape, from: pointer + offset, strides: viewStrides,
                            to: result.pointer, strides: Shape.strides(newShape))
        return recordGradients("slice", result, inputs: [self]) { g, _ in
            [.region(g, offset: offset, strides: viewStrides)]
        }
    }

    /// The sub-tensor at `index` along the first axis, with that axis removed.
    public subscript(_ index: Int) -> Tensor {
        require(rank > 0, "subscript: a scalar tensor cannot be indexed")
        let resolved = index < 0 ? index + shape[0] : index
        require(resolved >= 0 && resolved < shape[0],
                     "subscript: index \(index) is out of range for dimension 0 of size \(shape[0])")
        return slice(axis: 0, start: resolved, end: resolved + 1).squeezed(axis: 0)
    }

    /// A range of the first axis, e.g. `x[1..<3]` or `x[2...]`.
    public subscript<R: RangeExpression<Int>>(_ range: R) -> Tensor {
        self[axis: 0, range]
    }

    /// A range of `axis`, e.g. `x[axis: 1, ..<2]`.
    public subscript<R: RangeExpression<Int>>(axis axis: Int, _ range: R) -> Tensor {
        let resolvedAxis = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "subscript") }
        let size = shape[resolvedAxis]
        let bounds = range.relative(to: 0..<size)
        require(bounds.lowerBound >= 0 && bounds.upperBound <= size,
                     "subscript: range \(bounds) is out of bounds for dimension \(axis) of size \(size)")
        return slice(axis: resolvedAxis, start: bounds.lowerBound, end: bounds.upperBound)
    }
}
