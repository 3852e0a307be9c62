// In-place accumulation of gradients: whole buffers and strided regions (slices).

extension Kernels {
    /// dst[i] += src[i] for i < count.
    public static func addInPlace(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        parallelChunks(count: count, costPerElement: 1) { start, length in
            addFloats(src + start, into: dst + start, count: length)
        }
    }

    /// destination[i] = (((v₀[i] + v₁[i]) + v₂[i]) + …) / divisor (no division without one),
    /// for `vectors` v₀, v₁, … of `count` floats: a sum whose order is fixed by the list, so
    /// whoever computes it, with however many threads, gets the same bits. Data-parallel
    /// training averages gradients with it in one process and across processes alike. The
    /// destination may be one of the vectors (the same elements, not shifted ones).
    public static func orderedSum(of vectors: [UnsafePointer<Float>], into destination: UnsafeMutablePointer<Float>, count: Int,
                                  dividingBy divisor: Float? = nil) {
        precondition(!vectors.isEmpty, "orderedSum: no vectors")
        // Blocks small enough for the cache, each summed in a scratch block before it is
        // written, so the destination may alias a vector.
        let block = 1024
        parallelChunks(count: count, costPerElement: vectors.count) { start, length in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { scratch in
                let sum = scratch.baseAddress!
                for lower in stride(from: start, to: start + length, by: block) {
                    let size = Swift.min(block, start + length - lower)
                    sum.update(from: vectors[0] + lower, count: size)
                    for vector in vectors.dropFirst() { addFloats(vector + lower, into: sum, count: size) }
                    if let divisor { for index in 0..<size { sum[index] /= divisor } }
                    (destination + lower).update(from: sum, count: size)
                }
            }
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
