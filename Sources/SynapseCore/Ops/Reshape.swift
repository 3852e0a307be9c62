// Views that only change the shape: reshape, flatten, squeeze, unsqueeze. They share storage.

extension Tensor {
    /// The same elements with a new shape; one dimension may be -1 to be inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let resolved = check { () throws(ShapeError) in try Shape.resolveReshape(newShape, count: count, from: shape) }
        if resolved == shape { return self }
        let inputShape = shape
        return record("reshape", Tensor(shape: resolved, storage: storage), inputs: [self]) { g, _ in
            [g.reshaped(inputShape)]
        }
    }

    /// Merges dimensions `startAxis...endAxis` into one, as `torch.flatten`.
    public func flattened(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let (start, end) = check { () throws(ShapeError) in
            (try Shape.normalize(axis: startAxis, rank: rank, op: "flatten"),
             try Shape.normalize(axis: endAxis, rank: rank, op: "flatten"))
        }
        require(start <= end, "flatten: startAxis \(startAxis) comes after endAxis \(endAxis) for rank \(rank)")
        let merged = shape[start...end].reduce(1, *)
        return reshaped(Array(shape[..<start]) + [merged] + Array(shape[(end + 1)...]))
    }

    /// Removes the size-1 dimension `axis`, or every size-1 dimension if nil.
    public func squeezed(axis: Int? = nil) -> Tensor {
        guard let axis else { return reshaped(shape.filter { $0 != 1 }) }
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank, op: "squeeze") }
        require(shape[resolved] == 1,
                     "squeeze: dimension \(axis) of shape \(Shape.describe(shape)) has size \(shape[resolved]), not 1")
        var newShape = shape
        newShape.remove(at: resolved)
        return reshaped(newShape)
    }

    /// Inserts a size-1 dimension at `axis` (0...rank; negative counts from the end).
    public func unsqueezed(axis: Int) -> Tensor {
        let resolved = check { () throws(ShapeError) in try Shape.normalize(axis: axis, rank: rank + 1, op: "unsqueeze") }
        var newShape = shape
        newShape.insert(1, at: resolved)
        return reshaped(newShape)
    }
}

extension Shape {
    static func resolveReshape(_ requested: [Int], count: Int, from shape: [Int]) throws(ShapeError) -> [Int] {
        let inferred = requested.indices.filter { requested[$0] == -1 }
        guard inferred.count <= 1 else {
            throw ShapeError("reshape: only one dimension can be -1, got \(describe(requested))")
        }
        guard requested.allSatisfy({ $0 >= -1 }) else {
            throw ShapeError("reshape: shape \(describe(requested)) has a negative dimension")
        }
        var result = requested
        let known = requested.filter { $0 != -1 }.reduce(1, *)
        if let axis = inferred.first {
            guard known > 0, count % known == 0 else {
                throw ShapeError("reshape: cannot reshape \(describe(shape)) (\(count) elements) into \(describe(requested))")
            }
            result[axis] = count / known
        }
        guard result.reduce(1, *) == count else {
            throw ShapeError("reshape: cannot reshape \(describe(shape)) (\(count) elements) into \(describe(requested)) (\(result.reduce(1, *)) elements)")
        }
        return result
    }
}
