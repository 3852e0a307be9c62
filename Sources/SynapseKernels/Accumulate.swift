// In-place accumulation of gradients: whole buffers and strided regions (slices).

extension Kernels {
    /// dst[i] += src[i] for i < count.
    public static func addInPlace(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        parallelChunks(count: count, costPerElement: 1) { start, length in
            addFloats(src + start, into: dst + start, count: length)
        }
    }

    /// Adds every element of `shape` from `src` into `dst`, each addressed through its own
    /// element strides: the backward of a slice, written into the input's gradient in place.
    public static func stridedAdd(shape: [Int], from src: UnsafePointer<Float>, strides sourceStrides: [Int],
                                  into dst: UnsafeMutablePointer<Float>, strides destinationStrides: [Int]) {
        guard shape.allSatisfy({ $0 > 0 }) else { return }
        let (dims, from, to) = mergeDimensions(shape, sourceStrides, destinationStrides)
        guard let inner = dims.last, let innerFrom = from.last, let innerTo = to.last else {
            dst.pointee += src.pointee
            return
        }
        forEachOffset(dims: Array(dims.dropLast()), steps: Array(from.dropLast()), Array(to.dropLast())) { source, destination in
            if innerFrom == 1 && innerTo == 1 {
                addFloats(src + source, into: dst + destination, count: inner)
            } else {
                for i in 0..<inner { dst[destination + i * innerTo] += src[source + i * innerFrom] }
            }
        }
    }
}

@inline(__always)
func addFloats(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
    let width = FloatVector.scalarCount
    var i = 0
    while i + width <= count {
        storeVector(loadVector(dst + i) + loadVector(src + i), dst + i)
        i += width
    }
    while i < count {
        dst[i] += src[i]
        i += 1
    }
}
