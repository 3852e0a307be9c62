import CSynapse

// GEMM for outputs at most 16 columns wide: a classifier's logits and their gradients.
//
// The general kernel's 32-wide panels would spend most of their lanes on padding here, so
// op(B) is packed into one zero-padded 16-wide panel. With a row-major A each row of C is one
// SIMD16 accumulator, eight rows at a time; with a transposed A each column of C is one,
// over 16 rows. Threads split the rows, and each element's sum runs over k in the same order
// whatever the thread count.

extension Kernels {
    /// `gemm` for n ≤ 16; same arguments and meaning.
    static func gemmNarrow(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        // A row-major A is read in place eight rows at a time, broadcasting its elements
        // against B's 16-wide rows. A transposed A holds each step's rows side by side, so it
        // is the vector instead: 16 rows of C per block, one accumulator per column of C.
        let blockRows = transposeA ? PanelVector.scalarCount : 8
        let rowBlocks = (m + blockRows - 1) / blockRows
        // The padded work is m × 16 × k multiply-adds; below about a million flops one thread wins.
        let tasks = m * PanelVector.scalarCount * k >= 1 << 19 ? min(threadCount, rowBlocks) : 1
        let depthBlocks = (k + kBlock - 1) / kBlock, blockDepth = (k + depthBlocks - 1) / depthBlocks
        parallelFor(tasks) { task in
            // The column kernel reads B's rows only as far as an even column count, so a
            // row-major B with an even width is read in place.
            let bInPlace = transposeA && !transposeB && n % 2 == 0
            let packedB = scratch(.packedB, count: bInPlace ? 0 : blockDepth * PanelVector.scalarCount)
            var depth0 = 0
            while depth0 < k {
                let depth = min(blockDepth, k - depth0)
                if !bInPlace {
                    packNarrowPanel(b, ldb: ldb, transposed: transposeB, depth0: depth0, depth: depth, width: n, into: packedB)
                }
                let addToC = accumulate || depth0 > 0
                for block in (rowBlocks * task / tasks)..<(rowBlocks * (task + 1) / tasks) {
                    let row = block * blockRows, rows = min(blockRows, m - row)
                    if !transposeA {
                        narrowRowsKernel(depth: depth, a: a + row * lda + depth0, lda: lda, rows: rows,
                                         b: packedB, c: c + row * ldc, ldc: ldc, columns: n, addToC: addToC)
                    } else {
                        narrowColumnsKernel(depth: depth, a: a + depth0 * lda + row, lda: lda, rows: rows,
                                            b: bInPlace ? b + depth0 * ldb : UnsafePointer(packedB),
                                            bStride: bInPlace ? ldb : PanelVector.scalarCount,
                                            c: c + row * ldc, ldc: ldc, columns: n, addToC: addToC)
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

/// How many columns of C a specialization of `narrowColumnsKernel` computes.
private protocol ColumnCount { static var count: Int { get } }
private enum UpToTwo: ColumnCount { static var count: Int { 2 } }
private enum UpToFour: ColumnCount { static var count: Int { 4 } }
private enum UpToSix: ColumnCount { static var count: Int { 6 } }
private enum UpToEight: ColumnCount { static var count: Int { 8 } }
private enum UpToTen: ColumnCount { static var count: Int { 10 } }
private enum UpToTwelve: ColumnCount { static var count: Int { 12 } }
private enum UpToFourteen: ColumnCount { static var count: Int { 14 } }
private enum UpToSixteen: ColumnCount { static var count: Int { 16 } }

/// C[0..<rows, 0..<columns] (+)= A · B, where A's column r (r < rows ≤ 16) is a[r + p · lda]
/// over p < depth, and B's row p starts at b + p · bStride. Only the first `columns` of each
/// row of B are read, rounded up to an even count. Even column counts are specializations (a type
/// parameter, which the compiler specializes where an argument would not fold), so a
/// 10-column C computes exactly 10 columns.
private func narrowColumnsKernel(depth: Int, a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>, bStride: Int,
                                 c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, addToC: Bool) {
    switch columns {
    case ...2: columnsBody(UpToTwo.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    case ...4: columnsBody(UpToFour.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    case ...6: columnsBody(UpToSix.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    case ...8: columnsBody(UpToEight.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    case ...10: columnsBody(UpToTen.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    case ...12: columnsBody(UpToTwelve.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    case ...14: columnsBody(UpToFourteen.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    default: columnsBody(UpToSixteen.self, depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
    }
}

private func columnsBody<Limit: ColumnCount>(_ limit: Limit.Type, depth: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
                                             b: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int,
                                             addToC: Bool) {
    let lanes = PanelVector.scalarCount
    var c0 = PanelVector()
    var c1 = PanelVector()
    var c2 = PanelVector()
    var c3 = PanelVector()
    var c4 = PanelVector()
    var c5 = PanelVector()
    var c6 = PanelVector()
    var c7 = PanelVector()
    var c8 = PanelVector()
    var c9 = PanelVector()
    var c10 = PanelVector()
    var c11 = PanelVector()
    var c12 = PanelVector()
    var c13 = PanelVector()
    var c14 = PanelVector()
    var c15 = PanelVector()
    var ap = a, bp = b
    let full = rows == lanes
    for _ in 0..<depth {
        // A ragged block reads only its rows: the masked load touches nothing past A.
        let column = full ? UnsafeRawPointer(ap).loadUnaligned(as: PanelVector.self) : synapse_load_prefix16(ap, Int32(rows))
        c0 = multiplyAdd(c0, column, PanelVector(repeating: bp[0]))
        c1 = multiplyAdd(c1, column, PanelVector(repeating: bp[1]))
        if Limit.count > 2 {
            c2 = multiplyAdd(c2, column, PanelVector(repeating: bp[2]))
            c3 = multiplyAdd(c3, column, PanelVector(repeating: bp[3]))
        }
        if Limit.count > 4 {
            c4 = multiplyAdd(c4, column, PanelVector(repeating: bp[4]))
            c5 = multiplyAdd(c5, column, PanelVector(repeating: bp[5]))
        }
        if Limit.count > 6 {
            c6 = multiplyAdd(c6, column, PanelVector(repeating: bp[6]))
            c7 = multiplyAdd(c7, column, PanelVector(repeating: bp[7]))
        }
        if Limit.count > 8 {
            c8 = multiplyAdd(c8, column, PanelVector(repeating: bp[8]))
            c9 = multiplyAdd(c9, column, PanelVector(repeating: bp[9]))
        }
        if Limit.count > 10 {
            c10 = multiplyAdd(c10, column, PanelVector(repeating: bp[10]))
            c11 = multiplyAdd(c11, column, PanelVector(repeating: bp[11]))
        }
        if Limit.count > 12 {
            c12 = multiplyAdd(c12, column, PanelVector(repeating: bp[12]))
            c13 = multiplyAdd(c13, column, PanelVector(repeating: bp[13]))
        }
        if Limit.count > 14 {
            c14 = multiplyAdd(c14, column, PanelVector(repeating: bp[14]))
            c15 = multiplyAdd(c15, column, PanelVector(repeating: bp[15]))
        }
        ap += lda
        bp += bStride
    }
    // Accumulator j holds column j of C's rows. Four rounds of pairwise unzips turn the
    // 16 × 16 tile around in registers; then each row of C is one masked store.
    let w0_0 = SIMD32(lowHalf: c0, highHalf: c1)
    let w0_1 = SIMD32(lowHalf: c2, highHalf: c3)
    let w0_2 = SIMD32(lowHalf: c4, highHalf: c5)
    let w0_3 = SIMD32(lowHalf: c6, highHalf: c7)
    let w0_4 = SIMD32(lowHalf: c8, highHalf: c9)
    let w0_5 = SIMD32(lowHalf: c10, highHalf: c11)
    let w0_6 = SIMD32(lowHalf: c12, highHalf: c13)
    let w0_7 = SIMD32(lowHalf: c14, highHalf: c15)
    let r0_0 = w0_0.evenHalf, r0_8 = w0_0.oddHalf
    let r0_1 = w0_1.evenHalf, r0_9 = w0_1.oddHalf
    let r0_2 = w0_2.evenHalf, r0_10 = w0_2.oddHalf
    let r0_3 = w0_3.evenHalf, r0_11 = w0_3.oddHalf
    let r0_4 = w0_4.evenHalf, r0_12 = w0_4.oddHalf
    let r0_5 = w0_5.evenHalf, r0_13 = w0_5.oddHalf
    let r0_6 = w0_6.evenHalf, r0_14 = w0_6.oddHalf
    let r0_7 = w0_7.evenHalf, r0_15 = w0_7.oddHalf
    let w1_0 = SIMD32(lowHalf: r0_0, highHalf: r0_1)
    let w1_1 = SIMD32(lowHalf: r0_2, highHalf: r0_3)
    let w1_2 = SIMD32(lowHalf: r0_4, highHalf: r0_5)
    let w1_3 = SIMD32(lowHalf: r0_6, highHalf: r0_7)
    let w1_4 = SIMD32(lowHalf: r0_8, highHalf: r0_9)
    let w1_5 = SIMD32(lowHalf: r0_10, highHalf: r0_11)
    let w1_6 = SIMD32(lowHalf: r0_12, highHalf: r0_13)
    let w1_7 = SIMD32(lowHalf: r0_14, highHalf: r0_15)
    let r1_0 = w1_0.evenHalf, r1_8 = w1_0.oddHalf
    let r1_1 = w1_1.evenHalf, r1_9 = w1_1.oddHalf
    let r1_2 = w1_2.evenHalf, r1_10 = w1_2.oddHalf
    let r1_3 = w1_3.evenHalf, r1_11 = w1_3.oddHalf
    let r1_4 = w1_4.evenHalf, r1_12 = w1_4.oddHalf
    let r1_5 = w1_5.evenHalf, r1_13 = w1_5.oddHalf
    let r1_6 = w1_6.evenHalf, r1_14 = w1_6.oddHalf
    let r1_7 = w1_7.evenHalf, r1_15 = w1_7.oddHalf
    let w2_0 = SIMD32(lowHalf: r1_0, highHalf: r1_1)
    let w2_1 = SIMD32(lowHalf: r1_2, highHalf: r1_3)
    let w2_2 = SIMD32(lowHalf: r1_4, highHalf: r1_5)
    let w2_3 = SIMD32(lowHalf: r1_6, highHalf: r1_7)
    let w2_4 = SIMD32(lowHalf: r1_8, highHalf: r1_9)
    let w2_5 = SIMD32(lowHalf: r1_10, highHalf: r1_11)
    let w2_6 = SIMD32(lowHalf: r1_12, highHalf: r1_13)
    let w2_7 = SIMD32(lowHalf: r1_14, highHalf: r1_15)
    let r2_0 = w2_0.evenHalf, r2_8 = w2_0.oddHalf
    let r2_1 = w2_1.evenHalf, r2_9 = w2_1.oddHalf
    let r2_2 = w2_2.evenHalf, r2_10 = w2_2.oddHalf
    let r2_3 = w2_3.evenHalf, r2_11 = w2_3.oddHalf
    let r2_4 = w2_4.evenHalf, r2_12 = w2_4.oddHalf
    let r2_5 = w2_5.evenHalf, r2_13 = w2_5.oddHalf
    let r2_6 = w2_6.evenHalf, r2_14 = w2_6.oddHalf
    let r2_7 = w2_7.evenHalf, r2_15 = w2_7.oddHalf
    let w3_0 = SIMD32(lowHalf: r2_0, highHalf: r2_1)
    let w3_1 = SIMD32(lowHalf: r2_2, highHalf: r2_3)
    let w3_2 = SIMD32(lowHalf: r2_4, highHalf: r2_5)
    let w3_3 = SIMD32(lowHalf: r2_6, highHalf: r2_7)
    let w3_4 = SIMD32(lowHalf: r2_8, highHalf: r2_9)
    let w3_5 = SIMD32(lowHalf: r2_10, highHalf: r2_11)
    let w3_6 = SIMD32(lowHalf: r2_12, highHalf: r2_13)
    let w3_7 = SIMD32(lowHalf: r2_14, highHalf: r2_15)
    let r3_0 = w3_0.evenHalf, r3_8 = w3_0.oddHalf
    let r3_1 = w3_1.evenHalf, r3_9 = w3_1.oddHalf
    let r3_2 = w3_2.evenHalf, r3_10 = w3_2.oddHalf
    let r3_3 = w3_3.evenHalf, r3_11 = w3_3.oddHalf
    let r3_4 = w3_4.evenHalf, r3_12 = w3_4.oddHalf
    let r3_5 = w3_5.evenHalf, r3_13 = w3_5.oddHalf
    let r3_6 = w3_6.evenHalf, r3_14 = w3_6.oddHalf
    let r3_7 = w3_7.evenHalf, r3_15 = w3_7.oddHalf
    store(r3_0, c, columns: columns, add: addToC)
    if rows > 1 { store(r3_1, c + 1 * ldc, columns: columns, add: addToC) }
    if rows > 2 { store(r3_2, c + 2 * ldc, columns: columns, add: addToC) }
    if rows > 3 { store(r3_3, c + 3 * ldc, columns: columns, add: addToC) }
    if rows > 4 { store(r3_4, c + 4 * ldc, columns: columns, add: addToC) }
    if rows > 5 { store(r3_5, c + 5 * ldc, columns: columns, add: addToC) }
    if rows > 6 { store(r3_6, c + 6 * ldc, columns: columns, add: addToC) }
    if rows > 7 { store(r3_7, c + 7 * ldc, columns: columns, add: addToC) }
    if rows > 8 { store(r3_8, c + 8 * ldc, columns: columns, add: addToC) }
    if rows > 9 { store(r3_9, c + 9 * ldc, columns: columns, add: addToC) }
    if rows > 10 { store(r3_10, c + 10 * ldc, columns: columns, add: addToC) }
    if rows > 11 { store(r3_11, c + 11 * ldc, columns: columns, add: addToC) }
    if rows > 12 { store(r3_12, c + 12 * ldc, columns: columns, add: addToC) }
    if rows > 13 { store(r3_13, c + 13 * ldc, columns: columns, add: addToC) }
    if rows > 14 { store(r3_14, c + 14 * ldc, columns: columns, add: addToC) }
    if rows > 15 { store(r3_15, c + 15 * ldc, columns: columns, add: addToC) }
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
