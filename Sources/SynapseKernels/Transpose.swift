// Matrix transpose in 16×16 and 8×8 register tiles.

import CSynapse

typealias Tile = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                  SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

/// One unzip round: each pair of rows is split into its even and odd lanes. Three rounds
/// rotate the six index bits (row, lane) by three places, which is exactly a transpose.
@inline(__always)
private func unzipRound(_ t: Tile) -> Tile {
    let w0 = SIMD16(lowHalf: t.0, highHalf: t.1), w1 = SIMD16(lowHalf: t.2, highHalf: t.3)
    let w2 = SIMD16(lowHalf: t.4, highHalf: t.5), w3 = SIMD16(lowHalf: t.6, highHalf: t.7)
    return (w0.evenHalf, w1.evenHalf, w2.evenHalf, w3.evenHalf, w0.oddHalf, w1.oddHalf, w2.oddHalf, w3.oddHalf)
}

@inline(__always)
private func transposeTile(_ t: Tile) -> Tile {
    unzipRound(unzipRound(unzipRound(t)))
}

/// Stores the first `count` (< 8) lanes of `v`, four at once where there are four.
@inline(__always)
private func storeLeading(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
    var lane = 0
    if count >= 4 {
        UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
        lane = 4
    }
    while lane < count {
        p[lane] = v[lane]
        lane += 1
    }
}

extension Kernels {
    /// dst[c · destinationStride + r] = src[r · sourceStride + c] for r < rows, c < columns.
    public static func transpose(_ src: UnsafePointer<Float>, sourceStride: Int, rows: Int, columns: Int,
                                 into dst: UnsafeMutablePointer<Float>, destinationStride: Int) {
        // Blocks of up to 16 rows × 16 columns go through the C helper, whose AVX-512 shuffles
        // turn a block around in 64 instructions (a 12-row GEMM block fills 12 of its rows);
        // the 8 × 8 tiles below take the edges and the last few rows.
        guard synapse_target_has_avx512() != 0 else {
            // Without AVX-512 the 16-float shuffles above take several instructions each,
            // and 8 × 8 tiles of single-register shuffles are faster.
            transposeInTilesOfEight(src, sourceStride: sourceStride, rows: rows, columns: columns, into: dst,
                                    destinationStride: destinationStride, firstRow: 0, firstColumn: 0)
            return
        }
        var r0 = 0
        while rows - r0 >= 8 {
            let blockRows = min(16, rows - r0)
            var c0 = 0
            while c0 + 16 <= columns {
                synapse_store_transposed16(src + r0 * sourceStride + c0, sourceStride, Int32(blockRows), 16,
                                           dst + c0 * destinationStride + r0, destinationStride, Int32(blockRows), 0)
                c0 += 16
            }
            if c0 < columns {
                transposeInTilesOfEight(src, sourceStride: sourceStride, rows: r0 + blockRows, columns: columns, into: dst,
                                        destinationStride: destinationStride, firstRow: r0, firstColumn: c0)
            }
            r0 += blockRows
        }
        transposeInTilesOfEight(src, sourceStride: sourceStride, rows: rows, columns: columns, into: dst,
                                destinationStride: destinationStride, firstRow: r0, firstColumn: 0)
    }

    /// dst (columns×rows, contiguous) = transpose of src (rows×columns with row stride `sourceStride`).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                                 into dst: UnsafeMutablePointer<Float>) {
        transpose(src, sourceStride: sourceStride, rows: rows, columns: columns, into: dst, destinationStride: rows)
    }
}

/// `Kernels.transpose` of rows firstRow..<rows and columns firstColumn..<columns, in 8 × 8
/// register tiles and scalar edges.
private func transposeInTilesOfEight(_ src: UnsafePointer<Float>, sourceStride: Int, rows: Int, columns: Int,
                                     into dst: UnsafeMutablePointer<Float>, destinationStride: Int, firstRow: Int, firstColumn: Int) {
        var r0 = firstRow
        while r0 + 8 <= rows {
            var c0 = firstColumn
            while c0 + 8 <= columns {
                let s = UnsafeRawPointer(src + r0 * sourceStride + c0), step = sourceStride * 4
                let t = transposeTile((
                    s.loadUnaligned(as: SIMD8<Float>.self), s.loadUnaligned(fromByteOffset: step, as: SIMD8<Float>.self),
                    s.loadUnaligned(fromByteOffset: 2 * step, as: SIMD8<Float>.self), s.loadUnaligned(fromByteOffset: 3 * step, as: SIMD8<Float>.self),
                    s.loadUnaligned(fromByteOffset: 4 * step, as: SIMD8<Float>.self), s.loadUnaligned(fromByteOffset: 5 * step, as: SIMD8<Float>.self),
                    s.loadUnaligned(fromByteOffset: 6 * step, as: SIMD8<Float>.self), s.loadUnaligned(fromByteOffset: 7 * step, as: SIMD8<Float>.self)))
                let d = UnsafeMutableRawPointer(dst + c0 * destinationStride + r0), out = destinationStride * 4
                d.storeBytes(of: t.0, as: SIMD8<Float>.self)
                d.storeBytes(of: t.1, toByteOffset: out, as: SIMD8<Float>.self)
                d.storeBytes(of: t.2, toByteOffset: 2 * out, as: SIMD8<Float>.self)
                d.storeBytes(of: t.3, toByteOffset: 3 * out, as: SIMD8<Float>.self)
                d.storeBytes(of: t.4, toByteOffset: 4 * out, as: SIMD8<Float>.self)
                d.storeBytes(of: t.5, toByteOffset: 5 * out, as: SIMD8<Float>.self)
                d.storeBytes(of: t.6, toByteOffset: 6 * out, as: SIMD8<Float>.self)
                d.storeBytes(of: t.7, toByteOffset: 7 * out, as: SIMD8<Float>.self)
                c0 += 8
            }
            for r in r0..<(r0 + 8) {
                for c in c0..<columns { dst[c * destinationStride + r] = src[r * sourceStride + c] }
            }
            r0 += 8
        }
        if r0 < rows {
            // Fewer than 8 rows left (a 12-row GEMM block leaves 4): zero rows fill the tile,
            // and each transposed row is stored as far as the rows that exist.
            let leftover = rows - r0
            var c0 = firstColumn
            while c0 + 8 <= columns {
                let s = UnsafeRawPointer(src + r0 * sourceStride + c0), step = sourceStride * 4
                @inline(__always) func row(_ i: Int) -> SIMD8<Float> {
                    i < leftover ? s.loadUnaligned(fromByteOffset: i * step, as: SIMD8<Float>.self) : SIMD8()
                }
                let t = transposeTile((row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7)))
                let d = dst + c0 * destinationStride + r0
                storeLeading(t.0, d, count: leftover)
                storeLeading(t.1, d + destinationStride, count: leftover)
                storeLeading(t.2, d + 2 * destinationStride, count: leftover)
                storeLeading(t.3, d + 3 * destinationStride, count: leftover)
                storeLeading(t.4, d + 4 * destinationStride, count: leftover)
                storeLeading(t.5, d + 5 * destinationStride, count: leftover)
                storeLeading(t.6, d + 6 * destinationStride, count: leftover)
                storeLeading(t.7, d + 7 * destinationStride, count: leftover)
                c0 += 8
            }
            for r in r0..<rows {
                for c in c0..<columns { dst[c * destinationStride + r] = src[r * sourceStride + c] }
            }
        }
}
