// Small dense products on tiles that fit in the L1 cache, for fused kernels (attention) that
// multiply blocks of a few dozen rows many times and cannot afford GEMM's packing.
//
// C[m × n] (+)= A[m × k] · B[k × n], all row-major, with n a multiple of 16. Four rows of A
// are broadcast against up to 64 columns of B at once, so each load of B feeds four fused
// multiply-adds and each broadcast of A feeds up to four vectors. Every element of C is
// summed over k in order, so a tile's result does not depend on how its caller splits work.

import CSynapse

/// The column granularity of `Kernels.tileProduct`: n must be a multiple of this.
let tileColumns = 16

@inline(__always)
private func load<V: SIMD>(_ p: UnsafePointer<Float>, as _: V.Type) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, accumulate: Bool) where V.Scalar == Float {
    let result = accumulate ? v + UnsafeRawPointer(p).loadUnaligned(as: V.self) : v
    UnsafeMutableRawPointer(p).storeBytes(of: result, as: V.self)
}

typealias TileVector = SIMD16<Float>

/// Four rows of C, `vectors` × 16 columns wide (1, 2 or 4), starting at `c`. The accumulators
/// are separate SIMD16 values: wider SIMD types make LLVM spill every product to the stack.
@inline(__always)
private func fourRows(vectors: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    var c00 = TileVector(), c01 = TileVector(), c02 = TileVector(), c03 = TileVector()
    var c10 = TileVector(), c11 = TileVector(), c12 = TileVector(), c13 = TileVector()
    var c20 = TileVector(), c21 = TileVector(), c22 = TileVector(), c23 = TileVector()
    var c30 = TileVector(), c31 = TileVector(), c32 = TileVector(), c33 = TileVector()
    var a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    var row = b
    for _ in 0..<k {
        let x0 = TileVector(repeating: a0.pointee), x1 = TileVector(repeating: a1.pointee)
        let x2 = TileVector(repeating: a2.pointee), x3 = TileVector(repeating: a3.pointee)
        let b0 = load(row, as: TileVector.self)
        c00 = multiplyAdd(c00, x0, b0); c10 = multiplyAdd(c10, x1, b0); c20 = multiplyAdd(c20, x2, b0); c30 = multiplyAdd(c30, x3, b0)
        if vectors >= 2 {
            let b1 = load(row + 16, as: TileVector.self)
            c01 = multiplyAdd(c01, x0, b1); c11 = multiplyAdd(c11, x1, b1); c21 = multiplyAdd(c21, x2, b1); c31 = multiplyAdd(c31, x3, b1)
        }
        if vectors >= 4 {
            let b2 = load(row + 32, as: TileVector.self), b3 = load(row + 48, as: TileVector.self)
            c02 = multiplyAdd(c02, x0, b2); c12 = multiplyAdd(c12, x1, b2); c22 = multiplyAdd(c22, x2, b2); c32 = multiplyAdd(c32, x3, b2)
            c03 = multiplyAdd(c03, x0, b3); c13 = multiplyAdd(c13, x1, b3); c23 = multiplyAdd(c23, x2, b3); c33 = multiplyAdd(c33, x3, b3)
        }
        a0 += 1; a1 += 1; a2 += 1; a3 += 1
        row += ldb
    }
    storeRow(c, c00, c01, c02, c03, vectors: vectors, accumulate: accumulate)
    storeRow(c + ldc, c10, c11, c12, c13, vectors: vectors, accumulate: accumulate)
    storeRow(c + 2 * ldc, c20, c21, c22, c23, vectors: vectors, accumulate: accumulate)
    storeRow(c + 3 * ldc, c30, c31, c32, c33, vectors: vectors, accumulate: accumulate)
}

@inline(__always)
private func storeRow(_ destination: UnsafeMutablePointer<Float>, _ v0: TileVector, _ v1: TileVector, _ v2: TileVector,
                      _ v3: TileVector, vectors: Int, accumulate: Bool) {
    store(v0, destination, accumulate: accumulate)
    if vectors >= 2 { store(v1, destination + 16, accumulate: accumulate) }
    if vectors >= 4 {
        store(v2, destination + 32, accumulate: accumulate)
        store(v3, destination + 48, accumulate: accumulate)
    }
}

/// One row of C, 16 columns wide.
@inline(__always)
private func oneRow(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                    c: UnsafeMutablePointer<Float>, accumulate: Bool) {
    var c0 = TileVector()
    var row = b
    for p in 0..<k {
        c0 = multiplyAdd(c0, TileVector(repeating: a[p]), load(row, as: TileVector.self))
        row += ldb
    }
    store(c0, c, accumulate: accumulate)
}

@inline(__always)
private func columnStrip(vectors: Int, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                         accumulate: Bool) {
    var i = 0
    while i + 4 <= m {
        fourRows(vectors: vectors, k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc,
                 accumulate: accumulate)
        i += 4
    }
    while i < m {
        for v in 0..<vectors {
            oneRow(k: k, a: a + i * lda, b: b + 16 * v, ldb: ldb, c: c + i * ldc + 16 * v, accumulate: accumulate)
        }
        i += 1
    }
}

extension Kernels {
    /// C = A · B, or C += A · B with `accumulate`, for row-major tiles on the calling thread.
    /// `n` must be a multiple of 16; `lda`, `ldb` and `ldc` are row strides in floats.
    static func tileProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool) {
        precondition(n % tileColumns == 0, "tileProduct: n = \(n) is not a multiple of \(tileColumns)")
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        var j = 0
        while j + 64 <= n {
            columnStrip(vectors: 4, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                        accumulate: accumulate)
            j += 64
        }
        if j + 32 <= n {
            columnStrip(vectors: 2, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                        accumulate: accumulate)
            j += 32
        }
        if j < n {
            columnStrip(vectors: 1, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                        accumulate: accumulate)
        }
    }
}
