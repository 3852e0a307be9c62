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
private func fused<V: SIMD>(_ acc: V, _ a: V, _ b: V) -> V where V.Scalar == Float {
    if synapse_target_has_fma() != 0 { return acc.addingProduct(a, b) }
    return acc + a * b
}

@inline(__always)
private func load<V: SIMD>(_ p: UnsafePointer<Float>, as _: V.Type) -> V where V.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, accumulate: Bool) where V.Scalar == Float {
    let result = accumulate ? v + UnsafeRawPointer(p).loadUnaligned(as: V.self) : v
    UnsafeMutableRawPointer(p).storeBytes(of: result, as: V.self)
}

/// Four rows of C, `V.scalarCount` columns wide, starting at `c`.
@inline(__always)
private func fourRows<V: SIMD>(_: V.Type, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) where V.Scalar == Float {
    var c0 = V(), c1 = V(), c2 = V(), c3 = V()
    var a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    var row = b
    for _ in 0..<k {
        let bv = load(row, as: V.self)
        c0 = fused(c0, V(repeating: a0.pointee), bv)
        c1 = fused(c1, V(repeating: a1.pointee), bv)
        c2 = fused(c2, V(repeating: a2.pointee), bv)
        c3 = fused(c3, V(repeating: a3.pointee), bv)
        a0 += 1; a1 += 1; a2 += 1; a3 += 1
        row += ldb
    }
    store(c0, c, accumulate: accumulate)
    store(c1, c + ldc, accumulate: accumulate)
    store(c2, c + 2 * ldc, accumulate: accumulate)
    store(c3, c + 3 * ldc, accumulate: accumulate)
}

/// One row of C, `V.scalarCount` columns wide.
@inline(__always)
private func oneRow<V: SIMD>(_: V.Type, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, accumulate: Bool) where V.Scalar == Float {
    var c0 = V()
    var row = b
    for p in 0..<k {
        c0 = fused(c0, V(repeating: a[p]), load(row, as: V.self))
        row += ldb
    }
    store(c0, c, accumulate: accumulate)
}

@inline(__always)
private func columnStrip<V: SIMD>(_ type: V.Type, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                  accumulate: Bool) where V.Scalar == Float {
    var i = 0
    while i + 4 <= m {
        fourRows(type, k: k, a: a + i * lda, lda: lda, b: b, ldb: ldb, c: c + i * ldc, ldc: ldc, accumulate: accumulate)
        i += 4
    }
    while i < m {
        oneRow(type, k: k, a: a + i * lda, b: b, ldb: ldb, c: c + i * ldc, accumulate: accumulate)
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
            columnStrip(SIMD64<Float>.self, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                        accumulate: accumulate)
            j += 64
        }
        if j + 32 <= n {
            columnStrip(SIMD32<Float>.self, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                        accumulate: accumulate)
            j += 32
        }
        if j < n {
            columnStrip(SIMD16<Float>.self, m: m, k: k, a: a, lda: lda, b: b + j, ldb: ldb, c: c + j, ldc: ldc,
                        accumulate: accumulate)
        }
    }
}
