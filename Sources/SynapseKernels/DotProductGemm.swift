// C (+)= A · Bᵀ by dot products, for operands whose shared dimension k is contiguous and long.
//
// The packed GEMM wants A and B with k as the slow dimension, so when both store k
// contiguously (a convolution's weight gradient: output gradients times patches, both laid
// out along the image) it would have to transpose both. Here each 4×4 tile of C is sixteen
// SIMD dot products over k instead, reading rows as they lie.

import CSynapse

private let tileRows = 4
private let depthBlock = 2048

extension Kernels {
    /// C[i, j] (+)= Σ_p A[i, p] · B[j, p] for i < m, j < n, with row strides lda, ldb, ldc.
    /// Each element's sum runs in a fixed order, whatever the thread count.
    public static func gemmDotProducts(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                       b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                       accumulate: Bool) {
        guard m > 0, n > 0 else { return }
        let rowBlocks = (m + tileRows - 1) / tileRows
        let tasks = m * n * k >= 1 << 19 ? min(threadCount, rowBlocks) : 1
        parallelFor(tasks) { task in
            var depth0 = 0
            repeat {
                let depth = min(depthBlock, k - depth0)
                for block in (rowBlocks * task / tasks)..<(rowBlocks * (task + 1) / tasks) {
                    let row = block * tileRows
                    var column = 0
                    while column < n {
                        dotProductTile(depth: depth, a: a + row * lda + depth0, lda: lda, rows: min(tileRows, m - row),
                                       b: b + column * ldb + depth0, ldb: ldb, columns: min(tileRows, n - column),
                                       c: c + row * ldc + column, ldc: ldc, add: accumulate || depth0 > 0)
                        column += tileRows
                    }
                }
                depth0 += depth
            } while depth0 < k
        }
    }
}

/// One tile: C[r, s] (+)= Σ_p a[r · lda + p] · b[s · ldb + p] for r < rows, s < columns (each ≤ 4).
/// Missing rows and columns reread the first one and are never stored.
@inline(__always)
private func dotProductTile(depth: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
                            b: UnsafePointer<Float>, ldb: Int, columns: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, add: Bool) {
    let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0), a3 = a + (rows > 3 ? 3 * lda : 0)
    let b0 = b, b1 = b + (columns > 1 ? ldb : 0), b2 = b + (columns > 2 ? 2 * ldb : 0), b3 = b + (columns > 3 ? 3 * ldb : 0)
    var s00 = PanelVector(), s01 = PanelVector(), s02 = PanelVector(), s03 = PanelVector()
    var s10 = PanelVector(), s11 = PanelVector(), s12 = PanelVector(), s13 = PanelVector()
    var s20 = PanelVector(), s21 = PanelVector(), s22 = PanelVector(), s23 = PanelVector()
    var s30 = PanelVector(), s31 = PanelVector(), s32 = PanelVector(), s33 = PanelVector()
    @inline(__always) func step(_ load: (UnsafePointer<Float>) -> PanelVector) {
        let x0 = load(a0), x1 = load(a1), x2 = load(a2), x3 = load(a3)
        var y = load(b0)
        s00 = multiplyAdd(s00, x0, y); s10 = multiplyAdd(s10, x1, y); s20 = multiplyAdd(s20, x2, y); s30 = multiplyAdd(s30, x3, y)
        y = load(b1)
        s01 = multiplyAdd(s01, x0, y); s11 = multiplyAdd(s11, x1, y); s21 = multiplyAdd(s21, x2, y); s31 = multiplyAdd(s31, x3, y)
        y = load(b2)
        s02 = multiplyAdd(s02, x0, y); s12 = multiplyAdd(s12, x1, y); s22 = multiplyAdd(s22, x2, y); s32 = multiplyAdd(s32, x3, y)
        y = load(b3)
        s03 = multiplyAdd(s03, x0, y); s13 = multiplyAdd(s13, x1, y); s23 = multiplyAdd(s23, x2, y); s33 = multiplyAdd(s33, x3, y)
    }
    // Full vectors first, then one masked step for the tail: a length test inside every load
    // kept the loop from compiling to bare loads and FMAs.
    let full = depth / 16 * 16
    var p = 0
    while p < full {
        step { UnsafeRawPointer($0 + p).loadUnaligned(as: PanelVector.self) }
        p &+= 16
    }
    if full < depth {
        let count = Int32(depth - full)
        step { synapse_load_prefix16($0 + full, count) }
    }
    @inline(__always) func write(_ row: Int, _ v0: PanelVector, _ v1: PanelVector, _ v2: PanelVector, _ v3: PanelVector) {
        let target = c + row * ldc
        let values = SIMD4<Float>(v0.sum(), v1.sum(), v2.sum(), v3.sum())
        for s in 0..<columns { target[s] = add ? target[s] + values[s] : values[s] }
    }
    write(0, s00, s01, s02, s03)
    if rows > 1 { write(1, s10, s11, s12, s13) }
    if rows > 2 { write(2, s20, s21, s22, s23) }
    if rows > 3 { write(3, s30, s31, s32, s33) }
}
