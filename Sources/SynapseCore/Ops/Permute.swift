// Axis reordering and broadcasting copies: transpose, permute, expand.

import SynapseKernels

extension Tensor {
    /// Reorders the axes: result dimension i is input dimension `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let order = check { () throws(ShapeError) in try Shape.validatePermutation(axes, rank: rank) }
        if order == Array(0..<rank) { return self }
        let sourceStrides = Shape.strides(shape)
        let newShape = order.map { shape[$0] }
        let result = Tensor(uninitializedShape: newShape)
        Kernels.stridedCopy(shape: newShape, from: pointer, strides: order.map { sourceStrides[$0] },
                            to: result.pointer, strides: Shape.strides(newShape))
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return record("permute", result, inputs: [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// Swaps two axes.
    public func transposed(_ first: Int, _ second: Int) -> Tensor {
        let (a, b) = check { () throws(ShapeError) in
            (try Shape.normalize(axis: first, rank: rank, op: "transpose"),
             try Shape.normalize(axis: second, rank: rank, op: "transpose"))
        }
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return permuted(order)
    }

    /// Reverses all axes; for a matrix, the usual transpose.
    public func transposed() -> Tensor {
        permuted(Array((0..<rank).reversed()))
    }

    /// The matrix transpose of a 2-D tensor (the last two axes of a batch).
    public var T: Tensor {
        require(rank >= 2, "T: tensor of shape \(Shape.describe(shape)) has fewer than 2 dimensions")
        return transposed(-2, -1)
    }

    /// Repeats size-1 (and missing leading) dimensions to reach `target`, by NumPy broadcasting rules.
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let result = expandedContiguous(to: target)
        let inputShape = shape
        return record("expand", result, inputs: [self]) { g, _ in [g.sum(toShape: inputShape)] }
    }

    /// Materializes the broadcast of this tensor to `target` without recording a gradient.
    func expandedContiguous(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let resolved = check { () throws(ShapeError) in try Shape.broadcast(shape, target, op: "expand") }
        require(resolved == target, "expand: shape \(Shape.describe(shape)) cannot be expanded to \(Shape.describe(target))")
        let result = Tensor(uninitializedShape: target)
        Kernels.stridedCopy(shape: target, from: pointer, strides: Shape.broadcastStrides(shape, to: target),
                            to: result.pointer, strides: Shape.strides(target))
        return result
    }
}

extension Shape {
    static func validatePermutation(_ axes: [Int], rank: Int) throws(ShapeError) -> [Int] {
        guard axes.count == rank else {
            throw ShapeError("permute: \(axes) names \(axes.count) axes for a tensor of rank \(rank)")
        }
        var resolved: [Int] = []
        for axis in axes { resolved.append(try normalize(axis: axis, rank: rank, op: "permute")) }
        guard Set(resolved).count == rank else {
            throw ShapeError("permute: \(axes) is not a permutation of the \(rank) axes")
        }
        return resolved
    }
}
