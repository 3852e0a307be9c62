// The N-dimensional Float32 tensor.

/// An N-dimensional array of Float32 values in row-major order, with reverse-mode autodiff.
///
/// `Tensor` is a value type: copies share one buffer until one of them is mutated
/// (copy-on-write), so passing tensors around is cheap. A tensor that requires gradients
/// carries a handle to its place in the autodiff graph; copies share that handle, so
/// `w.grad` is visible through every copy of `w`, as with a PyTorch tensor.
///
/// ```swift
/// let x = Tensor([[1, 2], [3, 4]])
/// let w = Tensor.randn([2, 1], seed: 0).requiringGrad()
/// let loss = (x.matmul(w) - 1).square().mean()
/// loss.backward()
/// print(w.grad!)
/// ```
public struct Tensor: @unchecked Sendable {
    /// The size of each dimension; `[]` for a scalar.
    public let shape: [Int]
    var storage: TensorStorage
    /// This tensor's node in the autodiff graph, if it requires gradients.
    var node: GradientNode?

    init(shape: [Int], storage: TensorStorage, node: GradientNode? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor of `shape` with uninitialized contents, for kernels to fill.
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }

    /// A tensor holding `scalars` (row-major) with the given shape.
    public init(_ scalars: [Float], shape: [Int]) {
        Shape.validate(shape, op: "Tensor.init")
        let count = shape.reduce(1, *)
        require(scalars.count == count,
                     "Tensor.init: \(scalars.count) scalars cannot fill shape \(Shape.describe(shape)) (\(count) elements)")
        self.init(shape: shape, storage: TensorStorage(copying: scalars))
    }

    /// A 1-D tensor.
    public init(_ scalars: [Float]) {
        self.init(scalars, shape: [scalars.count])
    }

    /// A 2-D tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() {
            require(row.count == columns, "Tensor.init: row \(i) has \(row.count) elements, expected \(columns)")
        }
        self.init(rows.flatMap { $0 }, shape: [rows.count, columns])
    }

    /// A 3-D tensor from nested arrays of equal lengths.
    public init(_ matrices: [[[Float]]]) {
        let inner = matrices.map { Tensor($0) }
        let rowShape = inner.first?.shape ?? [0, 0]
        for (i, matrix) in inner.enumerated() {
            require(matrix.shape == rowShape,
                         "Tensor.init: matrix \(i) has shape \(Shape.describe(matrix.shape)), expected \(Shape.describe(rowShape))")
        }
        self.init(matrices.flatMap { $0.flatMap { $0 } }, shape: [matrices.count] + rowShape)
    }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) {
        self.init(shape: [], storage: TensorStorage(repeating: value, count: 1))
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The total number of elements.
    public var count: Int { storage.count }

    /// The elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Whether no element is NaN or infinite.
    public var isFinite: Bool {
        let values = UnsafeRawPointer(storage.pointer).assumingMemoryBound(to: UInt32.self)
        var exponents: UInt32 = 0
        // A non-finite float has all exponent bits set; one pass ORs the test of each element.
        for index in 0..<count where values[index] & 0x7f80_0000 == 0x7f80_0000 { exponents |= 1 }
        return exponents == 0
    }

    /// The value of a one-element tensor.
    public var item: Float {
        require(count == 1, "item: tensor of shape \(Shape.describe(shape)) has \(count) elements, not 1")
        return storage.pointer.pointee
    }

    /// The element at a full index, e.g. `x[scalarAt: 1, 2]`.
    public subscript(scalarAt indices: Int...) -> Float {
        storage.pointer[Shape.offset(of: indices, in: shape, op: "subscript")]
    }

    /// Calls `body` with read-only access to the contiguous elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with mutable access to the elements, copying the buffer first if another
    /// tensor value shares it. Mutation bypasses autodiff, as `tensor.data` does in PyTorch.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Whether both tensors are views of one buffer: copies of one value, or a value and a
    /// reshape of it. Layers use it to see self-attention (`attention(x, x, x)`) and project once.
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    /// The buffer for kernels. It stays valid only while this tensor value is alive, so pass
    /// parameters or tensors used afterwards, or wrap the call in `withExtendedLifetime`.
    var pointer: UnsafeMutablePointer<Float> { storage.pointer }
}
