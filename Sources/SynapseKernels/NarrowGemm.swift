import CSynapse

// GEMM for outputs at most 16 columns wide: a classifier's logits and their gradients.
//
// The general kernel's 32-wide panels would spend most of their lanes on padding here, so
// op(B) is packed into one zero-padded 16-wide panel and each row of C is one SIMD16
// accumulator. Twelve rows at a time give twelve independent FMA chains. Threads split the
// rows, and each element's sum runs over k in the same order whatever the thread count.

extension Kernels {
    /// `gemm` for n ≤ 16; same arguments and meaning.
    static func gemmNarrow(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        // A row-major A is read in place eight rows at a time; a transposed A holds each
        // step's rows side by side, twelve at a time.
        let blockRows = transposeA ? microRows : 8
        let rowBlocks = (m + blockRows - 1) / blockRows
        // The padded work is m × 16 × k multiply-adds; below about a million flops one thread wins.
        let tasks = m * PanelVector.scalarCount * k >= 1 << 19 ? min(threadCount, rowBlocks) : 1
        let depthBlocks = (k + kBlock - 1) / kBlock, blockDepth = (k + depthBlocks - 1) / depthBlocks
        parallelFor(tasks) { task in
            let packedB = scratch(.packedB, count: blockDepth * PanelVector.scalarCount)
            var depth0 = 0
            while depth0 < k {
                let depth = min(blockDepth, k - depth0)
                packNarrowPanel(b, ldb: ldb, transposed: transposeB, depth0: depth0, depth: depth, width: n, into: packedB)
                let addToC = accumulate || depth0 > 0
                for block in (rowBlocks * task / tasks)..<(rowBlocks * (task + 1) / tasks) {
                    let row = block * blockRows, rows = min(blockRows, m - row)
                    if !transposeA {
                        narrowRowsKernel(depth: depth, a: a + row * lda + depth0, lda: lda, rows: rows,
                                         b: packedB, c: c + row * ldc, ldc: ldc, columns: n, addToC: addToC)
                    } else if rows == microRows {
                        narrowMicroKernel(depth: depth, a: a + depth0 * lda + row, columnStride: lda, b: packedB,
                                          c: c + row * ldc, ldc: ldc, rows: rows, columns: n, addToC: addToC)
                    } else {
                        // A ragged last block is packed with zero rows after it, so the kernel
                        // reads nothing past A.
                        let packedA = scratch(.packedA, count: depth * microRows)
                        packRows(a + depth0 * lda + row, rowStride: 1, columnStride: lda, rows: rows, depth: depth, into: packedA)
                        narrowMicroKernel(depth: depth, a: packedA, columnStride: microRows, b: packedB,
                                          c: c + row * ldc, ldc: ldc, rows: rows, columns: n, addToC: addToC)
                    }
                }
                depth0 += depth
            }
        }
    }
}

/// Packs rows depth0..<depth0+depth of op(B) (width ≤ 16 columns) as `depth` rows of 16
/// floats, zero past `width`.
private func packNarrowPanel(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, depth0: Int, depth: Int, width: Int,
                             into packed: UnsafeMutablePointer<Float>) {
    let lanes = PanelVector.scalarCount
    if transposed {
        if width < lanes { packed.update(repeating: 0, count: depth * lanes) }
        // Column j of op(B) is row j of b.
        Kernels.transpose(b + depth0, sourceStride: ldb, rows: width, columns: depth, into: packed, destinationStride: lanes)
    } else {
        for p in 0..<depth {
            UnsafeMutableRawPointer(packed + p * lanes)
                .storeBytes(of: synapse_load_prefix16(b + (depth0 + p) * ldb, Int32(width)), as: PanelVector.self)
        }
    }
}

/// C[0..<rows, 0..<columns] (+)= A (rows ≤ 8 rows of `depth`, `lda` apart) · packed B (depth × 16).
/// Each row has its own base pointer and all share one running index: written as offsets
/// from one pointer, the compiler chains the address arithmetic through every step. Missing
/// rows reread row 0 and are never stored.
private func narrowRowsKernel(depth: Int, a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>,
                              c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, addToC: Bool) {
    let a0 = a, a1 = a + (rows > 1 ? lda : 0), a2 = a + (rows > 2 ? 2 * lda : 0), a3 = a + (rows > 3 ? 3 * lda : 0)
    let a4 = a + (rows > 4 ? 4 * lda : 0), a5 = a + (rows > 5 ? 5 * lda : 0)
    let a6 = a + (rows > 6 ? 6 * lda : 0), a7 = a + (rows > 7 ? 7 * lda : 0)
    var c0 = PanelVector(), c1 = PanelVector(), c2 = PanelVector(), c3 = PanelVector()
    var c4 = PanelVector(), c5 = PanelVector(), c6 = PanelVector(), c7 = PanelVector()
    var row = UnsafeRawPointer(b)
    for p in 0..<depth {
        let bv = row.load(as: PanelVector.self)
        c0 = multiplyAdd(c0, PanelVector(repeating: a0[p]), bv)
        c1 = multiplyAdd(c1, PanelVector(repeating: a1[p]), bv)
        c2 = multiplyAdd(c2, PanelVector(repeating: a2[p]), bv)
        c3 = multiplyAdd(c3, PanelVector(repeating: a3[p]), bv)
        c4 = multiplyAdd(c4, PanelVector(repeating: a4[p]), bv)
        c5 = multiplyAdd(c5, PanelVector(repeating: a5[p]), bv)
        c6 = multiplyAdd(c6, PanelVector(repeating: a6[p]), bv)
        c7 = multiplyAdd(c7, PanelVector(repeating: a7[p]), bv)
        row += MemoryLayout<PanelVector>.stride
    }
    store(c0, c, columns: columns, add: addToC)
    if rows > 1 { store(c1, c + ldc, columns: columns, add: addToC) }
    if rows > 2 { store(c2, c + 2 * ldc, columns: columns, add: addToC) }
    if rows > 3 { store(c3, c + 3 * ldc, columns: columns, add: addToC) }
    if rows > 4 { store(c4, c + 4 * ldc, columns: columns, add: addToC) }
    if rows > 5 { store(c5, c + 5 * ldc, columns: columns, add: addToC) }
    if rows > 6 { store(c6, c + 6 * ldc, columns: columns, add: addToC) }
    if rows > 7 { store(c7, c + 7 * ldc, columns: columns, add: addToC) }
}

/// C[0..<rows, 0..<columns] (+)= A (12 rows × depth, element (r, p) at a[r + p · columnStride])
/// · packed B (depth × 16).
private func narrowMicroKernel(depth: Int, a: UnsafePointer<Float>, columnStride: Int, b: UnsafePointer<Float>,
                               c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, addToC: Bool) {
    var c0 = PanelVector(), c1 = PanelVector(), c2 = PanelVector(), c3 = PanelVector()
    var c4 = PanelVector(), c5 = PanelVector(), c6 = PanelVector(), c7 = PanelVector()
    var c8 = PanelVector(), c9 = PanelVector(), c10 = PanelVector(), c11 = PanelVector()
    var row = UnsafeRawPointer(b), ap = a
    let end = UnsafeRawPointer(b) + depth * MemoryLayout<PanelVector>.stride
    while row < end {
        let bv = row.load(as: PanelVector.self)
        c0 = multiplyAdd(c0, PanelVector(repeating: ap[0]), bv)
        c1 = multiplyAdd(c1, PanelVector(repeating: ap[1]), bv)
        c2 = multiplyAdd(c2, PanelVector(repeating: ap[2]), bv)
        c3 = multiplyAdd(c3, PanelVector(repeating: ap[3]), bv)
        c4 = multiplyAdd(c4, PanelVector(repeating: ap[4]), bv)
        c5 = multiplyAdd(c5, PanelVector(repeating: ap[5]), bv)
        c6 = multiplyAdd(c6, PanelVector(repeating: ap[6]), bv)
        c7 = multiplyAdd(c7, PanelVector(repeating: ap[7]), bv)
        c8 = multiplyAdd(c8, PanelVector(repeating: ap[8]), bv)
        c9 = multiplyAdd(c9, PanelVector(repeating: ap[9]), bv)
        c10 = multiplyAdd(c10, PanelVector(repeating: ap[10]), bv)
        c11 = multiplyAdd(c11, PanelVector(repeating: ap[11]), bv)
        row += MemoryLayout<PanelVector>.stride
        ap += columnStride
    }
    store(c0, c, columns: columns, add: addToC)
    if rows > 1 { store(c1, c + ldc, columns: columns, add: addToC) }
    if rows > 2 { store(c2, c + 2 * ldc, columns: columns, add: addToC) }
    if rows > 3 { store(c3, c + 3 * ldc, columns: columns, add: addToC) }
    if rows > 4 { store(c4, c + 4 * ldc, columns: columns, add: addToC) }
    if rows > 5 { store(c5, c + 5 * ldc, columns: columns, add: addToC) }
    if rows > 6 { store(c6, c + 6 * ldc, columns: columns, add: addToC) }
    if rows > 7 { store(c7, c + 7 * ldc, columns: columns, add: addToC) }
    if rows > 8 { store(c8, c + 8 * ldc, columns: columns, add: addToC) }
    if rows > 9 { store(c9, c + 9 * ldc, columns: columns, add: addToC) }
    if rows > 10 { store(c10, c + 10 * ldc, columns: columns, add: addToC) }
    if rows > 11 { store(c11, c + 11 * ldc, columns: columns, add: addToC) }
}

/// Writes (or adds) the first `columns` lanes of `sum` to `row`.
@inline(__always)
private func store(_ sum: PanelVector, _ row: UnsafeMutablePointer<Float>, columns: Int, add: Bool) {
    if columns == PanelVector.scalarCount {
        let raw = UnsafeMutableRawPointer(row)
        raw.storeBytes(of: add ? sum + raw.loadUnaligned(as: PanelVector.self) : sum, as: PanelVector.self)
    } else {
        synapse_store_prefix16(row, sum, Int32(columns), add ? 1 : 0)
    }
}
