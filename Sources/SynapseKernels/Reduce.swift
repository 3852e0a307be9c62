// Reductions over the middle axis of an [outer, size, inner] view of a contiguous buffer.

/// The reductions the kernels provide.
public enum ReductionOperation: Sendable {
    case sum, max, min
}

/// Elements per block of a long sum. Each block is summed in Float with eight-lane partial
/// sums and the block totals are added in Double, in block order: that keeps long sums
/// accurate, and since the blocks are fixed, splitting them across threads cannot change
/// the result.
private let sumBlock = 256

/// The Float sum of one block of at most `sumBlock` contiguous floats.
@inline(__always)
private func blockSum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    let width = FloatVector.scalarCount
    var acc0 = FloatVector(repeating: 0), acc1 = FloatVector(repeating: 0)
    var i = 0
    while i + 2 * width <= count {
        acc0 += loadVector(x + i)
        acc1 += loadVector(x + i + width)
        i += 2 * width
    }
    if i + width <= count {
        acc0 += loadVector(x + i)
        i += width
    }
    var partial = (acc0 + acc1).sum()
    while i < count {
        partial += x[i]
        i += 1
    }
    return partial
}

/// Sums `count` contiguous floats block by block (see `sumBlock`).
func sumContiguous(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    let blocks = (count + sumBlock - 1) / sumBlock
    if blocks >= 1024 && Kernels.threadCount > 1 {
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: blocks)
        defer { partials.deallocate() }
        let tasks = Kernels.threadCount * 4
        Kernels.parallelFor(tasks) { task in
            for block in (blocks * task / tasks)..<(blocks * (task + 1) / tasks) {
                partials[block] = blockSum(x + block * sumBlock, min(sumBlock, count - block * sumBlock))
            }
        }
        var total = 0.0
        for block in 0..<blocks { total += Double(partials[block]) }
        return Float(total)
    }
    var total = 0.0
    for block in 0..<blocks {
        total += Double(blockSum(x + block * sumBlock, min(sumBlock, count - block * sumBlock)))
    }
    return Float(total)
}

@inline(__always)
func extremumContiguous(_ x: UnsafePointer<Float>, _ count: Int, isMax: Bool) -> Float {
    let width = FloatVector.scalarCount
    var i = 0
    var best = FloatVector(repeating: isMax ? -.infinity : .infinity)
    var sawNaN = false
    while i + width <= count {
        let v = loadVector(x + i)
        if any(v .!= v) { sawNaN = true }
        best = isMax ? VectorMath.greater(best, v) : VectorMath.lesser(best, v)
        i += width
    }
    var result = isMax ? best.max() : best.min()
    while i < count {
        let v = x[i]
        if v.isNaN { sawNaN = true }
        result = isMax ? Swift.max(result, v) : Swift.min(result, v)
        i += 1
    }
    return sawNaN ? .nan : result
}

extension Kernels {
    /// out[o, i] = reduce over k of x[o, k, i], for the [outer, size, inner] view of `x`.
    /// `size` must be at least 1. NaN propagates through max and min, as in PyTorch.
    /// Large reductions are split over outputs (never over the reduced axis), so every
    /// output is summed in the same order whatever the thread count.
    public static func reduce(_ operation: ReductionOperation, _ x: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, outer: Int, size: Int, inner: Int) {
        let work = outer * size * inner
        if inner == 1 {
            let tasks = outer > 1 && work >= 1 << 16 ? min(outer, threadCount * 4) : 1
            parallelFor(tasks) { task in
                for o in (outer * task / tasks)..<(outer * (task + 1) / tasks) {
                    let row = x + o * size
                    switch operation {
                    case .sum: out[o] = sumContiguous(row, size)
                    case .max: out[o] = extremumContiguous(row, size, isMax: true)
                    case .min: out[o] = extremumContiguous(row, size, isMax: false)
                    }
                }
            }
            return
        }
        // Each task owns a range of columns of every slab, so the inner loop stays contiguous.
        let columnTasks = work >= 1 << 16 ? min(threadCount * 4, max(1, inner / 64)) : 1
        parallelFor(columnTasks) { task in
            let first = inner * task / columnTasks, end = inner * (task + 1) / columnTasks
            for o in 0..<outer {
                reduceColumns(operation, x + o * size * inner + first, size: size, stride: inner,
                              columns: end - first, into: out + o * inner + first)
            }
        }
    }

    /// Index of the first maximum (or minimum) along the middle axis of [outer, size, inner].
    public static func argReduce(isMax: Bool, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Int>,
                                 outer: Int, size: Int, inner: Int) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = x + o * size * inner + i
                var bestIndex = 0
                var best = base[0]
                for k in 1..<max(size, 1) {
                    let v = base[k * inner]
                    if best.isNaN { break }
                    if v.isNaN || (isMax ? v > best : v < best) {
                        best = v
                        bestIndex = k
                    }
                }
                out[o * inner + i] = bestIndex
            }
        }
    }
}

/// target[i] = reduce over k of slab[k · stride + i] for i < columns.
private func reduceColumns(_ operation: ReductionOperation, _ slab: UnsafePointer<Float>, size: Int, stride: Int,
                           columns: Int, into target: UnsafeMutablePointer<Float>) {
    target.update(from: slab, count: columns)
    switch operation {
    case .sum:
        sumRows(slab, size: size, stride: stride, columns: columns, into: target)
    case .max, .min:
        // Maximum and Minimum propagate NaN, as PyTorch's max and min do.
        for k in 1..<max(size, 1) {
            if operation == .max {
                binaryRun(Maximum(), target, 1, slab + k * stride, 1, target, columns)
            } else {
                binaryRun(Minimum(), target, 1, slab + k * stride, 1, target, columns)
            }
        }
    }
}

/// target[i] (already holding row 0) += rows 1..<size, accumulating blocks of 32 rows in
/// Float and the block totals in Double so long columns keep their precision.
private func sumRows(_ slab: UnsafePointer<Float>, size: Int, stride: Int, columns: Int, into target: UnsafeMutablePointer<Float>) {
    if size <= 32 {
        for k in 1..<max(size, 1) { binaryRun(Add(), target, 1, slab + k * stride, 1, target, columns) }
        return
    }
    let totals = UnsafeMutablePointer<Double>.allocate(capacity: columns)
    defer { totals.deallocate() }
    totals.initialize(repeating: 0, count: columns)
    var k = 1
    while true {
        let end = min(k + 31, size)
        while k < end {
            binaryRun(Add(), target, 1, slab + k * stride, 1, target, columns)
            k += 1
        }
        for i in 0..<columns { totals[i] += Double(target[i]) }
        if k >= size { break }
        target.update(from: slab + k * stride, count: columns)
        k += 1
    }
    for i in 0..<columns { target[i] = Float(totals[i]) }
}
