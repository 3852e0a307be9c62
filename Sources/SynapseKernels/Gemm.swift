// Single-precision matrix multiply: C = op(A) · op(B) (+ C).

extension Kernels {
    /// Row-major GEMM. `op(A)` is m×k and `op(B)` is k×n; with `transposeA` the buffer `a`
    /// holds A as k×m (likewise `b`). `lda`, `ldb`, `ldc` are the row strides of the buffers.
    /// With `accumulate` the product is added to C (β = 1), otherwise C is overwritten.
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        guard m > 0, n > 0 else { return }
        if !accumulate {
            for i in 0..<m { (c + i * ldc).initialize(repeating: 0, count: n) }
        }
        guard k > 0 else { return }
        // Pack transposed operands so the inner loop always streams contiguous rows of B.
        var packedB: UnsafeMutablePointer<Float>? = nil
        var rowsB = b, strideB = ldb
        if transposeB {
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
            transpose(b, rows: n, columns: k, sourceStride: ldb, into: packed)
            packedB = packed
            rowsB = UnsafePointer(packed)
            strideB = n
        }
        defer { packedB?.deallocate() }
        var packedA: UnsafeMutablePointer<Float>? = nil
        var rowsA = a, strideA = lda
        if transposeA {
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
            transpose(a, rows: k, columns: m, sourceStride: lda, into: packed)
            packedA = packed
            rowsA = UnsafePointer(packed)
            strideA = k
        }
        defer { packedA?.deallocate() }
        multiplyRows(m: m, n: n, k: k, a: rowsA, lda: strideA, b: rowsB, ldb: strideB, c: c, ldc: ldc)
    }

    /// dst (columns×rows, contiguous) = transpose of src (rows×columns with row stride `sourceStride`).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                                 into dst: UnsafeMutablePointer<Float>) {
        let tile = 32
        var r0 = 0
        while r0 < rows {
            let r1 = min(r0 + tile, rows)
            var c0 = 0
            while c0 < columns {
                let c1 = min(c0 + tile, columns)
                for r in r0..<r1 {
                    for col in c0..<c1 { dst[col * rows + r] = src[r * sourceStride + col] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }
}

/// C[i, :] += Σ_p A[i, p] · B[p, :], blocked over k so a panel of B stays in cache.
private func multiplyRows(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let width = FloatVector.scalarCount
    let kBlock = 128
    var p0 = 0
    while p0 < k {
        let p1 = min(p0 + kBlock, k)
        for i in 0..<m {
            let row = c + i * ldc
            let aRow = a + i * lda
            var j = 0
            while j + width <= n {
                var acc = loadVector(row + j)
                for p in p0..<p1 {
                    acc += FloatVector(repeating: aRow[p]) * loadVector(b + p * ldb + j)
                }
                storeVector(acc, row + j)
                j += width
            }
            while j < n {
                var acc = row[j]
                for p in p0..<p1 { acc += aRow[p] * b[p * ldb + j] }
                row[j] = acc
                j += 1
            }
        }
        p0 = p1
    }
}
