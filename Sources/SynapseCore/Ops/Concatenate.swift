// Joining and splitting tensors along an axis.

import SynapseKernels

extension Tensor {
    /// Joins tensors along an existing axis; all other dimensions must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "concatenate: needs at least one tensor")
        let first = tensors[0]
        let resolved = check { () throws(ShapeError) in
            try Shape.validateConcatenation(tensors.map(\.shape), axis: axis)
        }
        var newShape = first.shape
        newShape[resolved] = tensors.reduce(0) { $0 + $1.shape[resolved] }
        let result = Tensor(uninitializedShape: newShape)
        let (outer, total, inner) = Shape.split(newShape, at: resolved)
        var offset = 0
        for tensor in tensors {
            let length = tensor.shape[resolved] * inner
            Kernels.copyBlocks(tensor.pointer, sourceStride: length, result.pointer + offset,
                               destinationStride: total * inner, blocks: outer, blockLength: length)
            offset += length
        }
        let sizes = tensors.map { $0.shape[resolved] }
        return record("concatenate", result, inputs: tensors) { g, needs in
            var start = 0
            return sizes.indices.map { i in
                defer { start += sizes[i] }
                return needs[i] ? g.slice(axis: resolved, start: start, end: start + sizes[i]) : nil
            }
        }
    }

    /// Joins same-shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "stack: needs at least one tensor")
        for (i, tensor) in tensors.enumerated() {
            require(tensor.shape == tensors[0].shape,
                         "stack: tensor \(i) has shape \(Shape.describe(tensor.shape)), expected \(Shape.describe(tensors[0].shape))")
        }
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// Splits into pieces of the given sizes along `axis`; the sizes must add up to its length.
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "split") }
        require(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[resolved],
                     "split: sizes \(sizes) do not add up to dimension \(axis) of size \(shape[resolved]) in shape \(Shape.describe(shape))")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: resolved, start: start, end: start + size)
        }
    }

    /// Splits into `parts` equal pieces along `axis`.
    public func split(parts: Int, axis: Int = 0) -> [Tensor] {
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "split") }
        require(parts > 0 && shape[resolved] % parts == 0,
                     "split: dimension \(axis) of size \(shape[resolved]) cannot be split into \(parts) equal parts")
        return split(sizes: [Int](repeating: shape[resolved] / parts, count: parts), axis: resolved)
    }
}

extension Shape {
    static func validateConcatenation(_ shapes: [[Int]], axis: Int) throws(ShapeError) -> Int {
        let first = shapes[0]
        let resolved = try normalize(axis: axis, rank: first.count, op: "concatenate")
        for (i, shape) in shapes.enumerated() {
            var a = shape, b = first
            guard a.count == b.count else {
                throw ShapeError("concatenate: tensor \(i) has shape \(describe(shape)), rank \(shape.count), but tensor 0 has rank \(first.count)")
            }
            a[resolved] = 0
            b[resolved] = 0
            guard a == b else {
                throw ShapeError("concatenate: tensor \(i) has shape \(describe(shape)), which differs from \(describe(first)) outside axis \(axis)")
            }
        }
        return resolved
    }
}
