// Integer tensors for class labels, token ids and gather indices.

/// An N-dimensional array of integer indices: class labels, token ids, argmax results.
/// It carries no gradient; ops take it wherever they select by position.
public struct IndexTensor: Equatable, Sendable, CustomStringConvertible {
    /// The size of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// The indices in row-major order.
    public let scalars: [Int]

    public init(_ scalars: [Int], shape: [Int]) {
        Shape.validate(shape, op: "IndexTensor.init")
        require(scalars.count == shape.reduce(1, *),
                     "IndexTensor.init: \(scalars.count) scalars cannot fill shape \(Shape.describe(shape))")
        self.shape = shape
        self.scalars = scalars
    }

    /// A 1-D index tensor.
    public init(_ scalars: [Int]) {
        self.init(scalars, shape: [scalars.count])
    }

    /// A 2-D index tensor from rows of equal length.
    public init(_ rows: [[Int]]) {
        let columns = rows.first?.count ?? 0
        require(rows.allSatisfy { $0.count == columns }, "IndexTensor.init: rows have different lengths")
        self.init(rows.flatMap { $0 }, shape: [rows.count, columns])
    }

    public var rank: Int { shape.count }
    public var count: Int { scalars.count }

    /// The same indices with a new shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> IndexTensor {
        IndexTensor(scalars, shape: newShape)
    }

    /// A rank-2 [R, C] index tensor as [C, R]: batch-major token ids [N, T] as the time-major
    /// [T, N] a recurrent network reads.
    public func transposed() -> IndexTensor {
        require(rank == 2, "IndexTensor.transposed: needs rank 2, got shape \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        var result = [Int](repeating: 0, count: scalars.count)
        scalars.withUnsafeBufferPointer { source in
            for row in 0..<rows {
                for column in 0..<columns { result[column * rows + row] = source[row * columns + column] }
            }
        }
        return IndexTensor(result, shape: [columns, rows])
    }

    /// The indices as Float values, e.g. to compare predictions with labels.
    public func asTensor() -> Tensor {
        Tensor(scalars.map(Float.init), shape: shape)
    }

    public var description: String {
        "IndexTensor(\(scalars.count <= 20 ? scalars.description : Array(scalars.prefix(10)).description + "…"), shape: \(Shape.describe(shape)))"
    }

    /// Validates every index against a dimension of `size` (negative indices count from the end)
    /// and returns them resolved.
    func resolved(against size: Int, op: String) throws(ShapeError) -> [Int] {
        var result = scalars
        for i in result.indices {
            let index = result[i]
            let value = index < 0 ? index + size : index
            guard value >= 0 && value < size else {
                throw ShapeError("\(op): index \(index) is out of range for a dimension of size \(size)")
            }
            result[i] = value
        }
        return result
    }
}
