// Layout kernels: strided gathers into contiguous buffers, and block copies.

extension Kernels {
    /// Copies every element of `shape` from `src` to `dst`, each addressed through its own
    /// element strides. A zero source stride repeats an element (broadcasting); permuted
    /// strides transpose; strided destinations scatter a slice back into place.
    public static func stridedCopy(shape: [Int], from src: UnsafePointer<Float>, strides sourceStrides: [Int],
                                   to dst: UnsafeMutablePointer<Float>, strides destinationStrides: [Int]) {
        guard shape.allSatisfy({ $0 > 0 }) else { return }
        let (dims, from, to) = mergeDimensions(shape, sourceStrides, destinationStrides)
        guard let inner = dims.last, let innerFrom = from.last, let innerTo = to.last else {
            dst.pointee = src.pointee
            return
        }
        let rank = dims.count
        if rank >= 2 && innerTo == 1 && to[rank - 2] == inner && from[rank - 2] == 1 && innerFrom == dims[rank - 2] {
            // A dense 2-D transpose at the innermost level: use the cache-tiled kernel per matrix.
            let columns = dims[rank - 2]
            forEachOffset(dims: Array(dims.dropLast(2)), steps: Array(from.dropLast(2)), Array(to.dropLast(2))) { source, destination in
                transpose(src + source, rows: inner, columns: columns, sourceStride: innerFrom, into: dst + destination)
            }
            return
        }
        forEachOffset(dims: Array(dims.dropLast()), steps: Array(from.dropLast()), Array(to.dropLast())) { source, destination in
            let from = src + source, to = dst + destination
            if innerFrom == 1 && innerTo == 1 {
                to.update(from: from, count: inner)
            } else if innerFrom == 0 && innerTo == 1 {
                to.update(repeating: from.pointee, count: inner)
            } else {
                for i in 0..<inner { to[i * innerTo] = from[i * innerFrom] }
            }
        }
    }

    /// Copies `outer` blocks of `blockLength` floats from `src` (block stride `sourceStride`)
    /// to `dst` (block stride `destinationStride`), which must not overlap; used by concatenation
    /// and the convolution gradients.
    public static func copyBlocks(_ src: UnsafePointer<Float>, sourceStride: Int,
                                  _ dst: UnsafeMutablePointer<Float>, destinationStride: Int,
                                  blocks outer: Int, blockLength: Int) {
        for o in 0..<outer {
            copyFloats(src + o * sourceStride, to: dst + o * destinationStride, count: blockLength)
        }
    }
}

/// Merges dimensions of `shape` that are laid out one after the other in both buffers, and
/// drops size-1 dimensions, so strided loops run over as few, as long rows as possible.
func mergeDimensions(_ shape: [Int], _ sourceStrides: [Int], _ destinationStrides: [Int]) -> (dims: [Int], from: [Int], to: [Int]) {
    var dims: [Int] = [], from: [Int] = [], to: [Int] = []
    for axis in shape.indices where shape[axis] != 1 {
        if let last = dims.last, from.last! == sourceStrides[axis] * shape[axis],
           to.last! == destinationStrides[axis] * shape[axis] {
            dims[dims.count - 1] = last * shape[axis]
            from[from.count - 1] = sourceStrides[axis]
            to[to.count - 1] = destinationStrides[axis]
        } else {
            dims.append(shape[axis])
            from.append(sourceStrides[axis])
            to.append(destinationStrides[axis])
        }
    }
    return (dims, from, to)
}

/// Calls `body(sourceOffset, destinationOffset)` for every index of `dims` in row-major
/// order, where each offset is Σ index[d] · steps[d]. The body runs once per row of work,
/// never per element.
@inline(__always)
func forEachOffset(dims: [Int], steps sourceSteps: [Int], _ destinationSteps: [Int], _ body: (Int, Int) -> Void) {
    let count = dims.reduce(1, *)
    var index = [Int](repeating: 0, count: dims.count)
    var source = 0, destination = 0
    for _ in 0..<count {
        body(source, destination)
        var axis = dims.count - 1
        while axis >= 0 {
            index[axis] += 1
            source += sourceSteps[axis]
            destination += destinationSteps[axis]
            if index[axis] < dims[axis] { break }
            source -= sourceSteps[axis] * dims[axis]
            destination -= destinationSteps[axis] * dims[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
