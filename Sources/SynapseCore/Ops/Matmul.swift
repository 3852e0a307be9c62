// Matrix products with NumPy semantics: vectors, matrices and broadcast batches.

import SynapseKernels

extension Tensor {
    /// The matrix product, following `numpy.matmul`: 1-D operands are treated as a row
    /// (left) or column (right) vector and that dimension is removed again; leading
    /// batch dimensions broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        require(a.rank >= 1 && b.rank >= 1,
                     "matmul: shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)) include a scalar; both operands need at least 1 dimension")
        let left = a.rank == 1 ? a.reshaped([1, a.shape[0]]) : a
        let right = b.rank == 1 ? b.reshaped([b.shape[0], 1]) : b
        var product = Tensor.batchedMatmul(left, right, shapes: (a.shape, b.shape))
        if a.rank == 1 { product = product.squeezed(axis: -2) }
        if b.rank == 1 { product = product.squeezed(axis: -1) }
        return product
    }

    private static func batchedMatmul(_ a: Tensor, _ b: Tensor, shapes: ([Int], [Int])) -> Tensor {
        let k = a.shape[a.rank - 1]
        guard b.shape[b.rank - 2] == k else {
            fatalError("matmul: shapes \(Shape.describe(shapes.0)) and \(Shape.describe(shapes.1)) are incompatible (\(k) ≠ \(b.shape[b.rank - 2]))")
        }
        let result = product(a, transposeA: false, b, transposeB: false)
        return record("matmul", result, inputs: [a, b]) { g, needs in
            [needs[0] ? product(g, transposeA: false, b, transposeB: true).sum(toShape: a.shape) : nil,
             needs[1] ? weightGradient(a, g, bShape: b.shape) : nil]
        }
    }

    /// aᵀ · g summed down to b's shape. When b is one matrix shared by a batch, the batch
    /// folds into the rows so the sum happens inside a single GEMM.
    private static func weightGradient(_ a: Tensor, _ g: Tensor, bShape: [Int]) -> Tensor {
        if bShape.count == 2 && a.rank > 2 {
            let rows = a.count / a.shape[a.rank - 1]
            return product(a.reshaped([rows, a.shape[a.rank - 1]]), transposeA: true,
                           g.reshaped([rows, g.shape[g.rank - 1]]), transposeB: false)
        }
        return product(a, transposeA: true, g, transposeB: false).sum(toShape: bShape)
    }

    /// op(a) · op(b) over broadcast batch dimensions, where op transposes the last two axes
    /// when asked. Records nothing; shapes must already be valid.
    static func product(_ a: Tensor, transposeA: Bool, _ b: Tensor, transposeB: Bool) -> Tensor {
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
        if batchB.isEmpty && !transposeA {
            // A batch against one matrix is a single tall GEMM.
            let rows = batchA.reduce(1, *) * m
            let result = Tensor(uninitializedShape: batchA + [m, n])
            Kernels.gemm(transposeA: false, transposeB: transposeB, m: rows, n: n, k: k,
                         a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, c: result.pointer, ldc: n, accumulate: false)
            return result
        }
        let batch = check { () throws(ShapeError) in try Shape.broadcast(batchA, batchB, op: "matmul") }
        let result = Tensor(uninitializedShape: batch + [m, n])
        let stepsA = Shape.broadcastStrides(batchA, to: batch), stepsB = Shape.broadcastStrides(batchB, to: batch)
        let batchStrides = Shape.strides(batch), count = batch.reduce(1, *)
        let multiply = { (index: Int) in
            var offsetA = 0, offsetB = 0, remainder = index
            for axis in batch.indices {
                let coordinate = remainder / batchStrides[axis]
                remainder %= batchStrides[axis]
                offsetA += coordinate * stepsA[axis]
                offsetB += coordinate * stepsB[axis]
            }
            Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a: a.pointer + offsetA * m * k, lda: lda, b: b.pointer + offsetB * k * n, ldb: ldb,
                         c: result.pointer + index * m * n, ldc: n, accumulate: false)
        }
        // Products too small for GEMM to thread (attention heads, say) are spread across the
        // batch instead; each is still one single-threaded GEMM, so results do not depend on
        // the thread count.
        if count > 1 && m * n * k < Kernels.gemmThreadingWork && count * m * n * k >= 1 << 16 {
            Kernels.parallelFor(count, multiply)
        } else {
            for index in 0..<count { multiply(index) }
        }
        return result
    }
}
