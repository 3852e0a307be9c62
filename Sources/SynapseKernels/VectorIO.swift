// Unaligned vector loads and stores, including partial vectors for loop tails.

import CSynapse

@inlinable @inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> FloatVector {
    UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
}

@inlinable @inline(__always)
func storeVector(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self)
}

/// Loads `count` (< 8) floats, padding the remaining lanes with `padding`.
@inlinable @inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, count: Int, padding: Float = 0) -> FloatVector {
    var v = FloatVector(repeating: padding)
    for lane in 0..<count { v[lane] = p[lane] }
    return v
}

/// Loads 8 floats spaced `stride` apart (stride may be 0 for a broadcast operand).
@inlinable @inline(__always)
func loadStrided(_ p: UnsafePointer<Float>, stride: Int, count: Int = FloatVector.scalarCount) -> FloatVector {
    var v = FloatVector(repeating: 0)
    for lane in 0..<count { v[lane] = p[lane * stride] }
    return v
}

@inlinable @inline(__always)
func storePartial(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, count: Int) {
    for lane in 0..<count { p[lane] = v[lane] }
}

/// Accumulator j holds column j of a 16 × 16 tile; writes (or adds) the first `columns` lanes of
/// each of the tile's first `rows` rows, `ldc` floats apart: an in-register transpose on the way
/// to memory.
@inline(__always)
func storeTransposed(_ accumulators: (PanelVector, PanelVector, PanelVector, PanelVector, PanelVector, PanelVector,
                                      PanelVector, PanelVector, PanelVector, PanelVector, PanelVector, PanelVector,
                                      PanelVector, PanelVector, PanelVector, PanelVector),
                     rows: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, columns: Int, addToC: Bool) {
    var tile = accumulators
    withUnsafePointer(to: &tile) { tile in
        UnsafeRawPointer(tile).withMemoryRebound(to: Float.self, capacity: 16 * PanelVector.scalarCount) { tile in
            synapse_store_transposed16(tile, 16, 16, Int32(rows), c, ldc, Int32(columns), addToC ? 1 : 0)
        }
    }
}

/// Copies `count` floats between buffers that do not overlap. Rows up to a few hundred floats
/// (image rows, patches) go by vector moves, since a memmove call per short row costs more than
/// the copy; longer ones by memmove.
@inline(__always)
func copyFloats(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
    guard count <= 256 else {
        destination.update(from: source, count: count)
        return
    }
    let width = PanelVector.scalarCount
    var i = 0
    while i + width <= count {
        UnsafeMutableRawPointer(destination + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: PanelVector.self),
                                                            as: PanelVector.self)
        i += width
    }
    if i < count {
        synapse_store_prefix16(destination + i, synapse_load_prefix16(source + i, Int32(count - i)), Int32(count - i), 0)
    }
}
