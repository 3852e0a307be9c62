import CSynapse

// GEMM for outputs at most 16 columns wide: a classifier's logits and their gradients.
//
// The general kernel's 32-wide panels would spend most of their lanes on padding here, so
// op(B) is packed into one zero-padded 16-wide panel. With a row-major A each row of C is one
// SIMD16 accumulator, eight rows at a time; with a transposed A each column of C is one,
// over 16 rows (two, over 32 rows, for C up to 12 columns wide). Threads split the rows, and
// each element's sum runs over k in the same order whatever the thread count.

extension Kernels {
    /// `gemm` for n ≤ 16; same arguments and meaning.
    static func gemmNarrow(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        // A row-major A is read in place eight rows at a time, broadcasting its elements
        // against B's 16-wide rows. A transposed A holds each step's rows side by side, so it
        // is the vector instead: 16 rows of C per block (32 for up to 12 columns), one
        // accumulator per column of C and 16 rows.
        let blockRows = transposeA ? (n <= pairedColumnLimit ? 2 * PanelVector.scalarCount : PanelVector.scalarCount) : 8
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

/// The widest C that the paired kernel computes: its 2 × 12 accumulators, two columns of A
/// and a broadcast fill 27 of the 32 vector registers.
private let pairedColumnLimit = 12

/// C[0..<rows, 0..<columns] (+)= A · B, where A's column r (r < rows ≤ 32, and rows ≤ 16 when
/// columns > 12) is a[r + p · lda] over p < depth, and B's row p starts at b + p · bStride.
/// Only the first `columns` of each row of B are read, rounded up to an even count. Even
/// column counts are specializations (a type parameter, which the compiler specializes where
/// an argument would not fold), so a 10-column C computes exactly 10 columns.
private func narrowColumnsKernel(depth: Int, a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>, bStride: Int,
                                 c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, addToC: Bool) {
    let lanes = PanelVector.scalarCount
    if rows == 2 * lanes {
        // Each broadcast of B feeds two multiply-adds, halving the loads per FMA.
        switch columns {
        case ...2: pairedColumnsBody(UpToTwo.self, depth: depth, a: a, lda: lda, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        case ...4: pairedColumnsBody(UpToFour.self, depth: depth, a: a, lda: lda, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        case ...6: pairedColumnsBody(UpToSix.self, depth: depth, a: a, lda: lda, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        case ...8: pairedColumnsBody(UpToEight.self, depth: depth, a: a, lda: lda, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        case ...10: pairedColumnsBody(UpToTen.self, depth: depth, a: a, lda: lda, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        default: pairedColumnsBody(UpToTwelve.self, depth: depth, a: a, lda: lda, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        }
        return
    }
    if rows > lanes {
        singleColumnsKernel(depth: depth, a: a, lda: lda, rows: lanes, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
        singleColumnsKernel(depth: depth, a: a + lanes, lda: lda, rows: rows - lanes, b: b, bStride: bStride, c: c + lanes * ldc, ldc: ldc,
                            columns: columns, addToC: addToC)
        return
    }
    singleColumnsKernel(depth: depth, a: a, lda: lda, rows: rows, b: b, bStride: bStride, c: c, ldc: ldc, columns: columns, addToC: addToC)
}

/// `narrowColumnsKernel` for rows ≤ 16.
private func singleColumnsKernel(depth: Int, a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>, bStride: Int,
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

/// 32 full rows of C: two vectors of A per step against each broadcast of B.
private func pairedColumnsBody<Limit: ColumnCount>(_ limit: Limit.Type, depth: Int, a: UnsafePointer<Float>, lda: Int,
                                                   b: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                   columns: Int, addToC: Bool) {
    let zero = PanelVector()
    var c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero
    var c6 = zero, c7 = zero, c8 = zero, c9 = zero, c10 = zero, c11 = zero
    var d0 = zero, d1 = zero, d2 = zero, d3 = zero, d4 = zero, d5 = zero
    var d6 = zero, d7 = zero, d8 = zero, d9 = zero, d10 = zero, d11 = zero
    var ap = UnsafeRawPointer(a), bp = b
    let rowBytes = lda * MemoryLayout<Float>.stride, halfBytes = MemoryLayout<PanelVector>.stride
    for _ in 0..<depth {
        let low = ap.loadUnaligned(as: PanelVector.self), high = ap.loadUnaligned(fromByteOffset: halfBytes, as: PanelVector.self)
        var broadcast = PanelVector(repeating: bp[0])
        c0 = multiplyAdd(c0, low, broadcast); d0 = multiplyAdd(d0, high, broadcast)
        broadcast = PanelVector(repeating: bp[1])
        c1 = multiplyAdd(c1, low, broadcast); d1 = multiplyAdd(d1, high, broadcast)
        if Limit.count > 2 {
            broadcast = PanelVector(repeating: bp[2])
            c2 = multiplyAdd(c2, low, broadcast); d2 = multiplyAdd(d2, high, broadcast)
            broadcast = PanelVector(repeating: bp[3])
            c3 = multiplyAdd(c3, low, broadcast); d3 = multiplyAdd(d3, high, broadcast)
        }
        if Limit.count > 4 {
            broadcast = PanelVector(repeating: bp[4])
            c4 = multiplyAdd(c4, low, broadcast); d4 = multiplyAdd(d4, high, broadcast)
            broadcast = PanelVector(repeating: bp[5])
            c5 = multiplyAdd(c5, low, broadcast); d5 = multiplyAdd(d5, high, broadcast)
        }
        if Limit.count > 6 {
            broadcast = PanelVector(repeating: bp[6])
            c6 = multiplyAdd(c6, low, broadcast); d6 = multiplyAdd(d6, high, broadcast)
            broadcast = PanelVector(repeating: bp[7])
            c7 = multiplyAdd(c7, low, broadcast); d7 = multiplyAdd(d7, high, broadcast)
        }
        if Limit.count > 8 {
            broadcast = PanelVector(repeating: bp[8])
            c8 = multiplyAdd(c8, low, broadcast); d8 = multiplyAdd(d8, high, broadcast)
            broadcast = PanelVector(repeating: bp[9])
            c9 = multiplyAdd(c9, low, broadcast); d9 = multiplyAdd(d9, high, broadcast)
        }
        if Limit.count > 10 {
            broadcast = PanelVector(repeating: bp[10])
            c10 = multiplyAdd(c10, low, broadcast); d10 = multiplyAdd(d10, high, broadcast)
            broadcast = PanelVector(repeating: bp[11])
            c11 = multiplyAdd(c11, low, broadcast); d11 = multiplyAdd(d11, high, broadcast)
        }
        ap += rowBytes
        bp += bStride
    }
    let lanes = PanelVector.scalarCount
    storeTransposed((c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, zero, zero, zero, zero),
                    rows: lanes, into: c, ldc: ldc, columns: columns, addToC: addToC)
    storeTransposed((d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, zero, zero, zero, zero),
                    rows: lanes, into: c + lanes * ldc, ldc: ldc, columns: columns, addToC: addToC)
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
    storeTransposed((c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15),
                    rows: rows, into: c, ldc: ldc, columns: columns, addToC: addToC)
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
