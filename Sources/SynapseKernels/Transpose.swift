// Matrix transpose in 8×8 register tiles.

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

extension Kernels {
    /// dst[c · destinationStride + r] = src[r · sourceStride + c] for r < rows, c < columns.
    public static func transpose(_ src: UnsafePointer<Float>, sourceStride: Int, rows: Int, columns: Int,
                                 into dst: UnsafeMutablePointer<Float>, destinationStride: Int) {
        var r0 = 0
        while r0 + 8 <= rows {
            var c0 = 0
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
        for r in r0..<rows {
            for c in 0..<columns { dst[c * destinationStride + r] = src[r * sourceStride + c] }
        }
    }

    /// dst (columns×rows, contiguous) = transpose of src (rows×columns with row stride `sourceStride`).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                                 into dst: UnsafeMutablePointer<Float>) {
        transpose(src, sourceStride: sourceStride, rows: rows, columns: columns, into: dst, destinationStride: rows)
    }
}
