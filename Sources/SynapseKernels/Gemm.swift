// Single-precision GEMM: C = op(A) · op(B) (+ C), cache-blocked, packed and threaded.
//
// B is packed into panels of 32 columns and A into blocks of 12 rows, so the micro-kernel
// reads both as contiguous streams (rows of a large A would otherwise alias in the L1 cache).
// A slab of A is packed once per depth block and reused for every block of B, because
// packing A transposes it and costs more than copying B's rows.
// The 12×32 micro-kernel keeps 24 SIMD16 accumulators in registers (two per row), so
// there are enough independent fused multiply-adds in flight to hide their latency, and
// each broadcast A element feeds two of them. That needs AVX-512's 32 registers; elsewhere
// (AVX2, NEON) each 12×32 block runs as four 6×16 quarters of 12 SIMD8 accumulators. Threads split C into tiles, each an
// independent GEMM, and every element of C is summed over k in the same order whatever the
// thread count, so results are bitwise identical with 1, 2 or more threads.

import CSynapse
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

typealias PanelVector = SIMD16<Float>

private let microRows = 12
private let microColumns = 32
/// The deepest k block; k is split into equal blocks no deeper than this, so a k of 288 runs
/// as one block rather than 256 + 32.
let kBlock = 384
/// Columns of B per block: a packed block (kBlock × nBlock) stays in the L2 cache while
/// every row block of A streams past it.
private let nBlock = 512
/// Rows of A per slab: a packed slab (mBlock × kBlock) is reused by every column block.
private let mBlock = 3072

extension Kernels {
    /// The smallest m · n · k that `gemm` splits across threads; smaller products run on the
    /// calling thread.
    public static let gemmThreadingWork = 1 << 19

    /// Row-major GEMM. `op(A)` is m×k and `op(B)` is k×n; with `transposeA` the buffer `a`
    /// holds A as k×m (likewise `b`). `lda`, `ldb`, `ldc` are the row strides of the buffers.
    /// With `accumulate` the product is added to C (β = 1), otherwise C is overwritten.
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
             prepacked: nil, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// C = op(A) · B (+ C) with B packed beforehand by `packGemmOperand`: for a product that
    /// reuses one B many times, such as a recurrent layer's W_hh at every time step, where
    /// packing B would otherwise cost as much as the product itself.
    public static func gemm(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, packedB: PackedGemmOperand,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        if let plain = packedB.plain {
            gemm(transposeA: transposeA, transposeB: false, m: m, n: packedB.n, k: packedB.k, a: a, lda: lda,
                 b: plain, ldb: packedB.n, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        gemm(transposeA: transposeA, transposeB: false, m: m, n: packedB.n, k: packedB.k, a: a, lda: lda,
             b: packedB.panels, ldb: packedB.n, prepacked: packedB, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// Columns `columns` of C = op(A) · B (+ C), with B packed, on the calling thread only: for
    /// a caller that splits one product over its own tasks and runs more work on each task's
    /// columns before the join, such as a recurrent step's gate kernel. `columns` must start
    /// on a panel boundary (a multiple of `gemmPanelWidth`). Each element is summed in the
    /// same order as by the threaded `gemm`, so the split never changes a bit of the result.
    public static func gemm(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, packedB: PackedGemmOperand,
                            columns: Range<Int>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        precondition(columns.lowerBound % microColumns == 0 && columns.upperBound <= packedB.n,
                     "gemm: columns \(columns) must start on a \(microColumns)-column panel and lie within \(packedB.n)")
        guard m > 0, !columns.isEmpty else { return }
        let rowStride = transposeA ? 1 : lda, columnStride = transposeA ? lda : 1
        if let plain = packedB.plain {
            gemmNarrow(transposeA: transposeA, transposeB: false, m: m, n: columns.count, k: packedB.k, a: a, lda: lda,
                       b: plain + columns.lowerBound, ldb: packedB.n, c: c + columns.lowerBound, ldc: ldc, accumulate: accumulate)
            return
        }
        gemmTile(rowStride: rowStride, columnStride: columnStride, transposeB: false, inPlace: false,
                 m: m, n: columns.count, k: packedB.k, a: a, b: packedB.panels, ldb: packedB.n,
                 prepacked: packedB, firstPanel: columns.lowerBound / microColumns,
                 c: c + columns.lowerBound, ldc: ldc, accumulate: accumulate)
    }

    /// The column width of GEMM's packed panels.
    public static var gemmPanelWidth: Int { microColumns }

    /// op(B) (k × n) packed into the micro-kernel's panels, once, for `gemm(…, packedB:…)`.
    public static func packGemmOperand(transposeB: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) -> PackedGemmOperand {
        let operand = PackedGemmOperand(k: k, n: n, narrow: n <= PanelVector.scalarCount || k == 0)
        if let plain = operand.plain {
            for p in 0..<k {
                for j in 0..<n { plain[p * n + j] = transposeB ? b[j * ldb + p] : b[p * ldb + j] }
            }
            return operand
        }
        var depth0 = 0
        while depth0 < k {
            let depth = min(operand.blockDepth, k - depth0)
            packBlockOfB(b, ldb: ldb, transposed: transposeB, inPlace: false, depth0: depth0, depth: depth,
                         column0: 0, width: n, into: operand.panels + depth0 * operand.paddedColumns)
            depth0 += depth
        }
        return operand
    }

    private static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, prepacked: PackedGemmOperand?,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        if n <= PanelVector.scalarCount {
            // A narrow C (a classifier's 10 outputs) would waste most of each 32-wide panel.
            gemmNarrow(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        // Below about a million flops, waking a second thread costs more than it saves.
        let threads = m * n * k >= gemmThreadingWork ? threadCount : 1
        let rowStride = transposeA ? 1 : lda, columnStride = transposeA ? lda : 1
        // A small row-major B already sits in cache with each panel's rows contiguous, so the
        // micro-kernel reads it in place; only a ragged last panel is packed, for its padding.
        let inPlace = prepacked == nil && !transposeB && k * n <= 1 << 17
        // Each task computes its own tile of C as an independent GEMM, packing what it reads
        // itself: one fork and join for the whole product, and no barrier between packing and
        // computing. Splitting columns repacks A in every task and splitting rows repacks B,
        // so split the side whose duplicated packing costs less. A B read in place costs
        // nothing to share, so then rows are split, into equal parts in units of 4 rows (the
        // micro-kernel's ragged steps) rather than whole 12-row blocks.
        let rowBlocks = (m + microRows - 1) / microRows, panels = (n + microColumns - 1) / microColumns
        let evenRows = inPlace && m >= 2 * microRows * threads
        let splitColumns = !evenRows && panels >= threads && (m < n || rowBlocks < threads)
        let tasks = evenRows ? threads : min(threads, splitColumns ? panels : rowBlocks)
        let rowUnit = evenRows ? 4 : microRows, rowUnits = (m + rowUnit - 1) / rowUnit
        parallelFor(tasks) { task in
            if splitColumns {
                let first = panels * task / tasks * microColumns, end = min(n, panels * (task + 1) / tasks * microColumns)
                gemmTile(rowStride: rowStride, columnStride: columnStride, transposeB: transposeB, inPlace: inPlace,
                         m: m, n: end - first, k: k, a: a, b: transposeB ? b + first * ldb : b + first, ldb: ldb,
                         prepacked: prepacked, firstPanel: first / microColumns, c: c + first, ldc: ldc, accumulate: accumulate)
            } else {
                let first = rowUnits * task / tasks * rowUnit, end = min(m, rowUnits * (task + 1) / tasks * rowUnit)
                gemmTile(rowStride: rowStride, columnStride: columnStride, transposeB: transposeB, inPlace: inPlace,
                         m: end - first, n: n, k: k, a: a + first * rowStride, b: b, ldb: ldb,
                         prepacked: prepacked, firstPanel: 0, c: c + first * ldc, ldc: ldc, accumulate: accumulate)
            }
        }
    }

    /// One thread's GEMM, BLIS-style: for each slab of A (up to mBlock rows × one depth block),
    /// packed once, stream every block of B (one depth block × nBlock columns, packed into the
    /// L2 cache) past it, 12 rows × 32 columns of C at a time. With `prepacked`, B's blocks are
    /// read from it, starting at panel `firstPanel`, instead of being packed.
    private static func gemmTile(rowStride: Int, columnStride: Int, transposeB: Bool, inPlace: Bool,
                                 m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                                 prepacked: PackedGemmOperand?, firstPanel: Int,
                                 c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let blockDepth = gemmBlockDepth(k)
        let packedA = scratch(.packedA, count: min(m, mBlock).roundedUp(to: microRows) * blockDepth)
        let scratchB = prepacked == nil ? scratch(.packedB, count: blockDepth * min(n, nBlock).roundedUp(to: microColumns)) : nil
        var row0 = 0
        while row0 < m {
            let height = min(mBlock, m - row0)
            let rowBlocks = (height + microRows - 1) / microRows
            var depth0 = 0
            while depth0 < k {
                let depth = min(blockDepth, k - depth0)
                for block in 0..<rowBlocks {
                    let row = row0 + block * microRows
                    packRows(a + row * rowStride + depth0 * columnStride, rowStride: rowStride, columnStride: columnStride,
                             rows: min(microRows, m - row), depth: depth, into: packedA + block * microRows * depth)
                }
                var column0 = 0
                while column0 < n {
                    let width = min(nBlock, n - column0)
                    let packedB: UnsafeMutablePointer<Float>
                    if let prepacked {
                        packedB = prepacked.panels + depth0 * prepacked.paddedColumns
                            + (firstPanel + column0 / microColumns) * depth * microColumns
                    } else {
                        packedB = scratchB!
                        packBlockOfB(b, ldb: ldb, transposed: transposeB, inPlace: inPlace, depth0: depth0, depth: depth,
                                     column0: column0, width: width, into: packedB)
                    }
                    let fullPanels = width / microColumns
                    for block in 0..<rowBlocks {
                        let row = row0 + block * microRows
                        for panel in 0..<(width + microColumns - 1) / microColumns {
                            let column = panel * microColumns
                            let direct = inPlace && panel < fullPanels
                            microKernel(depth: depth, a: packedA + block * microRows * depth,
                                        b: direct ? b + depth0 * ldb + column0 + column : UnsafePointer(packedB + panel * depth * microColumns),
                                        bStride: direct ? ldb : microColumns,
                                        c: c + row * ldc + column0 + column, ldc: ldc, rows: min(microRows, m - row),
                                        columns: min(microColumns, width - column), addToC: accumulate || depth0 > 0)
                        }
                    }
                    column0 += width
                }
                depth0 += depth
            }
            row0 += height
        }
    }

    /// Packs rows depth0..<depth0+depth of columns column0..<column0+width of op(B) as panels
    /// of `microColumns`: row p of panel j at packed[(j · depth + p) · microColumns]. With
    /// `inPlace` only a ragged last panel is packed.
    private static func packBlockOfB(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, inPlace: Bool,
                                     depth0: Int, depth: Int, column0: Int, width: Int,
                                     into packed: UnsafeMutablePointer<Float>) {
        let panels = (width + microColumns - 1) / microColumns
        let fullPanels = width / microColumns
        if inPlace {
            if fullPanels < panels {
                packPanel(b + depth0 * ldb, ldb: ldb, transposed: false, k: depth, column: column0 + fullPanels * microColumns,
                          width: width - fullPanels * microColumns, into: packed + fullPanels * depth * microColumns)
            }
            return
        }
        if transposed {
            for panel in 0..<panels {
                packPanel(b + depth0, ldb: ldb, transposed: true, k: depth, column: column0 + panel * microColumns,
                          width: min(microColumns, width - panel * microColumns), into: packed + panel * depth * microColumns)
            }
        } else {
            // Walk B row by row: reading a panel's strip of every row instead would touch
            // a new page per row and thrash the TLB on large matrices.
            packRowsOfB(b + depth0 * ldb + column0, ldb: ldb, rows: 0..<depth, k: depth, width: width, into: packed)
        }
    }
}

/// The depth of GEMM's k blocks: k split into equal blocks no deeper than `kBlock`.
private func gemmBlockDepth(_ k: Int) -> Int {
    let depthBlocks = max(1, (k + kBlock - 1) / kBlock)
    return (k + depthBlocks - 1) / depthBlocks
}

/// A k × n right-hand GEMM operand packed once into the micro-kernel's 32-column panels (each
/// depth block of B stored as consecutive panels), or, for n ≤ 16, kept as a plain row-major
/// copy for the narrow kernels.
public final class PackedGemmOperand: @unchecked Sendable {
    public let k: Int, n: Int
    let blockDepth: Int
    let paddedColumns: Int
    let panels: UnsafeMutablePointer<Float>
    let plain: UnsafeMutablePointer<Float>?

    init(k: Int, n: Int, narrow: Bool) {
        self.k = k
        self.n = n
        blockDepth = gemmBlockDepth(k)
        paddedColumns = n.roundedUp(to: microColumns)
        let count = narrow ? max(k * n, 1) : max(k * paddedColumns, 1)
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, 64, count * MemoryLayout<Float>.stride) == 0, let memory else {
            fatalError("synapse: cannot allocate a packed GEMM operand of \(count) floats")
        }
        panels = memory.bindMemory(to: Float.self, capacity: count)
        plain = narrow ? panels : nil
    }

    deinit { free(panels) }
}

extension Int {
    fileprivate func roundedUp(to multiple: Int) -> Int { (self + multiple - 1) / multiple * multiple }
}

/// Packs rows `rows` of B (not transposed) for all panels of a `width`-column block: row p of
/// panel j lands at packed[(j · k + p) · microColumns].
private func packRowsOfB(_ b: UnsafePointer<Float>, ldb: Int, rows: Range<Int>, k: Int, width: Int,
                         into packed: UnsafeMutablePointer<Float>) {
    let fullPanels = width / microColumns, tail = width - fullPanels * microColumns
    for p in rows {
        let source = b + p * ldb
        for panel in 0..<fullPanels {
            let from = UnsafeRawPointer(source + panel * microColumns)
            let to = UnsafeMutableRawPointer(packed + (panel * k + p) * microColumns)
            to.storeBytes(of: from.loadUnaligned(as: PanelVector.self), as: PanelVector.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: 64, as: PanelVector.self), toByteOffset: 64, as: PanelVector.self)
        }
        if tail > 0 {
            let to = packed + (fullPanels * k + p) * microColumns
            for j in 0..<tail { to[j] = source[fullPanels * microColumns + j] }
            for j in tail..<microColumns { to[j] = 0 }
        }
    }
}

/// Packs columns `column..<column+width` of op(B) (all k rows) as k consecutive rows of
/// `microColumns` floats, zero-padding past `width`.
private func packPanel(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, k: Int, column: Int, width: Int,
                       into panel: UnsafeMutablePointer<Float>) {
    if !transposed && width == microColumns {
        for p in 0..<k {
            let source = UnsafeRawPointer(b + p * ldb + column), target = UnsafeMutableRawPointer(panel + p * microColumns)
            target.storeBytes(of: source.loadUnaligned(as: PanelVector.self), as: PanelVector.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: 64, as: PanelVector.self), toByteOffset: 64, as: PanelVector.self)
        }
        return
    }
    if width < microColumns { panel.update(repeating: 0, count: k * microColumns) }
    if transposed {
        // Column j of op(B) is row j of b.
        Kernels.transpose(b + column * ldb, sourceStride: ldb, rows: width, columns: k,
                          into: panel, destinationStride: microColumns)
    } else {
        for p in 0..<k {
            (panel + p * microColumns).update(from: b + p * ldb + column, count: width)
        }
    }
}

/// Packs rows × depth of A (element (r, p) at a[r · rowStride + p · columnStride]) as `depth`
/// groups of `microRows` consecutive floats, zero-filling rows past `rows`.
private func packRows(_ a: UnsafePointer<Float>, rowStride: Int, columnStride: Int, rows: Int, depth: Int,
                      into packed: UnsafeMutablePointer<Float>) {
    if rows < microRows { packed.update(repeating: 0, count: depth * microRows) }
    if rowStride == 1 && rows == microRows {
        // Columns of a transposed A are already contiguous: two vector copies per k step.
        for p in 0..<depth {
            let source = UnsafeRawPointer(a + p * columnStride), target = UnsafeMutableRawPointer(packed + p * microRows)
            target.storeBytes(of: source.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self), toByteOffset: 32, as: SIMD4<Float>.self)
        }
        return
    }
    if rowStride == 1 {
        for p in 0..<depth {
            let source = a + p * columnStride, target = packed + p * microRows
            for r in 0..<rows { target[r] = source[r] }
        }
        return
    }
    Kernels.transpose(a, sourceStride: rowStride, rows: rows, columns: depth, into: packed, destinationStride: microRows)
}

/// C[0..<rows, 0..<columns] (+)= packed A (depth × 12) · a B panel (depth rows of 32, `bStride` apart).
/// A ragged block runs a variant that computes only the rows (4, 8 or 12) and columns (16 or
/// 32) it needs: a 64-row or 196-column product would otherwise spend a tenth of its
/// multiply-adds on padding.
private func microKernel(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, addToC: Bool) {
    if synapse_target_has_avx512() == 0 {
        // Without AVX-512 there are 16 vector registers of 8 floats (AVX2) or 32 of 4 (NEON):
        // 24 SIMD16 accumulators would spill, so the block runs as 6×16 quarters, each with
        // 12 SIMD8 accumulators, reading its half of the packed A and B in place.
        for top in stride(from: 0, to: rows, by: 6) {
            for left in stride(from: 0, to: columns, by: 16) {
                narrowTile(depth: depth, a: a + top, b: b + left, bStride: bStride, c: c + top * ldc + left, ldc: ldc,
                           rows: min(6, rows - top), columns: min(16, columns - left), addToC: addToC)
            }
        }
        return
    }
    let wide = columns > PanelVector.scalarCount
    switch (rows > 8 ? 12 : rows > 4 ? 8 : 4, wide) {
    case (12, true):
        tile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, rows: rows, columns: columns, addToC: addToC, rowLimit: 12, wide: true)
    case (12, false):
        tile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, rows: rows, columns: columns, addToC: addToC, rowLimit: 12, wide: false)
    case (8, true):
        tile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, rows: rows, columns: columns, addToC: addToC, rowLimit: 8, wide: true)
    case (8, false):
        tile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, rows: rows, columns: columns, addToC: addToC, rowLimit: 8, wide: false)
    case (_, true):
        tile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, rows: rows, columns: columns, addToC: addToC, rowLimit: 4, wide: true)
    case (_, false):
        tile(depth: depth, a: a, b: b, bStride: bStride, c: c, ldc: ldc, rows: rows, columns: columns, addToC: addToC, rowLimit: 4, wide: false)
    }
}

/// The micro-kernel body for at most `rowLimit` rows and 16 or (`wide`) 32 columns; inlined
/// with constant limits, so each variant keeps only its own multiply-adds.
@inline(__always)
private func tile(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
                  c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, addToC: Bool, rowLimit: Int, wide: Bool) {
    var c00 = PanelVector(), c01 = PanelVector()
    var c10 = PanelVector(), c11 = PanelVector()
    var c20 = PanelVector(), c21 = PanelVector()
    var c30 = PanelVector(), c31 = PanelVector()
    var c40 = PanelVector(), c41 = PanelVector()
    var c50 = PanelVector(), c51 = PanelVector()
    var c60 = PanelVector(), c61 = PanelVector()
    var c70 = PanelVector(), c71 = PanelVector()
    var c80 = PanelVector(), c81 = PanelVector()
    var c90 = PanelVector(), c91 = PanelVector()
    var c100 = PanelVector(), c101 = PanelVector()
    var c110 = PanelVector(), c111 = PanelVector()
    // Walk both operands by pointer bumps: an index times a stride costs a multiply and an
    // overflow check per step, which compete with the FMAs for execution ports.
    var row = UnsafeRawPointer(b), ap = a
    let end = a + depth * microRows
    while ap < end {
        let b0 = row.loadUnaligned(as: PanelVector.self)
        let b1 = wide ? row.loadUnaligned(fromByteOffset: 64, as: PanelVector.self) : PanelVector()
            let x0 = PanelVector(repeating: ap[0])
            c00 = multiplyAdd(c00, x0, b0); if wide { c01 = multiplyAdd(c01, x0, b1) }
            let x1 = PanelVector(repeating: ap[1])
            c10 = multiplyAdd(c10, x1, b0); if wide { c11 = multiplyAdd(c11, x1, b1) }
            let x2 = PanelVector(repeating: ap[2])
            c20 = multiplyAdd(c20, x2, b0); if wide { c21 = multiplyAdd(c21, x2, b1) }
            let x3 = PanelVector(repeating: ap[3])
            c30 = multiplyAdd(c30, x3, b0); if wide { c31 = multiplyAdd(c31, x3, b1) }
        if rowLimit > 4 {
            let x4 = PanelVector(repeating: ap[4])
            c40 = multiplyAdd(c40, x4, b0); if wide { c41 = multiplyAdd(c41, x4, b1) }
            let x5 = PanelVector(repeating: ap[5])
            c50 = multiplyAdd(c50, x5, b0); if wide { c51 = multiplyAdd(c51, x5, b1) }
            let x6 = PanelVector(repeating: ap[6])
            c60 = multiplyAdd(c60, x6, b0); if wide { c61 = multiplyAdd(c61, x6, b1) }
            let x7 = PanelVector(repeating: ap[7])
            c70 = multiplyAdd(c70, x7, b0); if wide { c71 = multiplyAdd(c71, x7, b1) }
        }
        if rowLimit > 8 {
            let x8 = PanelVector(repeating: ap[8])
            c80 = multiplyAdd(c80, x8, b0); if wide { c81 = multiplyAdd(c81, x8, b1) }
            let x9 = PanelVector(repeating: ap[9])
            c90 = multiplyAdd(c90, x9, b0); if wide { c91 = multiplyAdd(c91, x9, b1) }
            let x10 = PanelVector(repeating: ap[10])
            c100 = multiplyAdd(c100, x10, b0); if wide { c101 = multiplyAdd(c101, x10, b1) }
            let x11 = PanelVector(repeating: ap[11])
            c110 = multiplyAdd(c110, x11, b0); if wide { c111 = multiplyAdd(c111, x11, b1) }
        }
        row += bStride &* MemoryLayout<Float>.stride
        ap += microRows
    }
    store(c00, c01, c, columns: columns, add: addToC)
    if rows > 1 { store(c10, c11, c + 1 * ldc, columns: columns, add: addToC) }
    if rows > 2 { store(c20, c21, c + 2 * ldc, columns: columns, add: addToC) }
    if rows > 3 { store(c30, c31, c + 3 * ldc, columns: columns, add: addToC) }
    if rows > 4 { store(c40, c41, c + 4 * ldc, columns: columns, add: addToC) }
    if rows > 5 { store(c50, c51, c + 5 * ldc, columns: columns, add: addToC) }
    if rows > 6 { store(c60, c61, c + 6 * ldc, columns: columns, add: addToC) }
    if rows > 7 { store(c70, c71, c + 7 * ldc, columns: columns, add: addToC) }
    if rows > 8 { store(c80, c81, c + 8 * ldc, columns: columns, add: addToC) }
    if rows > 9 { store(c90, c91, c + 9 * ldc, columns: columns, add: addToC) }
    if rows > 10 { store(c100, c101, c + 10 * ldc, columns: columns, add: addToC) }
    if rows > 11 { store(c110, c111, c + 11 * ldc, columns: columns, add: addToC) }
}

/// The 6×16 micro-kernel for targets without AVX-512: C[0..<rows, 0..<columns] (+)= rows 0..<6
/// of a packed A block (`microRows` floats per k step) times 16 columns of a B panel.
private func narrowTile(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bStride: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, columns: Int, addToC: Bool) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var row = UnsafeRawPointer(b), ap = a
    let end = a + depth * microRows
    while ap < end {
        let b0 = row.loadUnaligned(as: V.self), b1 = row.loadUnaligned(fromByteOffset: 32, as: V.self)
        let x0 = V(repeating: ap[0]); c00 = multiplyAdd(c00, x0, b0); c01 = multiplyAdd(c01, x0, b1)
        let x1 = V(repeating: ap[1]); c10 = multiplyAdd(c10, x1, b0); c11 = multiplyAdd(c11, x1, b1)
        let x2 = V(repeating: ap[2]); c20 = multiplyAdd(c20, x2, b0); c21 = multiplyAdd(c21, x2, b1)
        let x3 = V(repeating: ap[3]); c30 = multiplyAdd(c30, x3, b0); c31 = multiplyAdd(c31, x3, b1)
        let x4 = V(repeating: ap[4]); c40 = multiplyAdd(c40, x4, b0); c41 = multiplyAdd(c41, x4, b1)
        let x5 = V(repeating: ap[5]); c50 = multiplyAdd(c50, x5, b0); c51 = multiplyAdd(c51, x5, b1)
        row += bStride &* MemoryLayout<Float>.stride
        ap += microRows
    }
    @inline(__always) func put(_ low: V, _ high: V, _ target: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(target)
        if columns == 16 {
            raw.storeBytes(of: addToC ? low + raw.loadUnaligned(as: V.self) : low, as: V.self)
            raw.storeBytes(of: addToC ? high + raw.loadUnaligned(fromByteOffset: 32, as: V.self) : high, toByteOffset: 32, as: V.self)
        } else {
            for j in 0..<columns {
                let value = j < 8 ? low[j] : high[j - 8]
                target[j] = addToC ? target[j] + value : value
            }
        }
    }
    put(c00, c01, c)
    if rows > 1 { put(c10, c11, c + ldc) }
    if rows > 2 { put(c20, c21, c + 2 * ldc) }
    if rows > 3 { put(c30, c31, c + 3 * ldc) }
    if rows > 4 { put(c40, c41, c + 4 * ldc) }
    if rows > 5 { put(c50, c51, c + 5 * ldc) }
}

/// Writes (or adds) the first `columns` of a 32-wide row held in two vectors.
@inline(__always)
private func store(_ low: PanelVector, _ high: PanelVector, _ row: UnsafeMutablePointer<Float>, columns: Int, add: Bool) {
    let raw = UnsafeMutableRawPointer(row)
    if columns == microColumns {
        let first = add ? low + raw.loadUnaligned(as: PanelVector.self) : low
        let second = add ? high + raw.loadUnaligned(fromByteOffset: 64, as: PanelVector.self) : high
        raw.storeBytes(of: first, as: PanelVector.self)
        raw.storeBytes(of: second, toByteOffset: 64, as: PanelVector.self)
    } else {
        synapse_store_prefix16(row, low, Int32(min(columns, 16)), add ? 1 : 0)
        if columns > 16 { synapse_store_prefix16(row + 16, high, Int32(columns - 16), add ? 1 : 0) }
    }
}
