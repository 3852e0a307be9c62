// Reductions over the middle axis of an [outer, size, inner] view of a contiguous buffer.

/// The reductions the kernels provide.
public enum ReductionOperation: Sendable {
    case sum, max, min
}

/// Sums `count` contiguous floats. Eight-lane partial sums over blocks of 256, with the
/// blocks added in Double, keep the error small on long rows; the order is fixed, so the
/// result is the same on every run.
@inline(__always)
func sumContiguous(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    let width = FloatVector.scalarCount
    let block = 256
    var total = 0.0
    var start = 0
    while start < count {
        let end = min(start + block, count)
        var acc0 = FloatVector(repeating: 0), acc1 = FloatVector(repeating: 0)
        var i = start
        while i + 2 * width <= end {
            acc0 += loadVector(x + i)
            acc1 += loadVector(x + i + width)
            i += 2 * width
        }
        if i + width <= end {
            acc0 += loadVector(x + i)
            i += width
        }
        var partial = (acc0 + acc1).sum()
        while i < end {
            partial += x[i]
            i += 1
        }
        total += Double(partial)
        start = end
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
        best = isMax ? pointwiseMax(best, v) : pointwiseMin(best, v)
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
    public static func reduce(_ operation: ReductionOperation, _ x: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, outer: Int, size: Int, inner: Int) {
        if inner == 1 {
            for o in 0..<outer {
                let row = x + o * size
                switch operation {
                case .sum: out[o] = sumContiguous(row, size)
                case .max: out[o] = extremumContiguous(row, size, isMax: true)
                case .min: out[o] = extremumContiguous(row, size, isMax: false)
                }
            }
            return
        }
        // Reduce whole rows at a time so the inner loop stays contiguous and vectorized.
        for o in 0..<outer {
            let slab = x + o * size * inner
            let target = out + o * inner
            target.update(from: slab, count: inner)
            switch operation {
            case .sum: sumRows(slab, size: size, inner: inner, into: target)
            case .max: for k in 1..<max(size, 1) { binaryRun(Maximum(), target, 1, slab + k * inner, 1, target, inner) }
            case .min: for k in 1..<max(size, 1) { binaryRun(Minimum(), target, 1, slab + k * inner, 1, target, inner) }
            }
            if operation != .sum {
                // pointwiseMax drops NaN; restore PyTorch's NaN propagation.
                for k in 0..<size {
                    let row = slab + k * inner
                    for i in 0..<inner where row[i].isNaN { target[i] = .nan }
                }
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

/// target[i] (already holding row 0) += rows 1..<size, accumulating blocks of rows in
/// Float and the block totals in Double so long columns keep their precision.
private func sumRows(_ slab: UnsafePointer<Float>, size: Int, inner: Int, into target: UnsafeMutablePointer<Float>) {
    if size <= 32 {
        for k in 1..<max(size, 1) { binaryRun(Add(), target, 1, slab + k * inner, 1, target, inner) }
        return
    }
    let totals = UnsafeMutablePointer<Double>.allocate(capacity: inner)
    defer { totals.deallocate() }
    totals.initialize(repeating: 0, count: inner)
    var k = 1
    while true {
        let end = min(k + 31, size)
        while k < end {
            binaryRun(Add(), target, 1, slab + k * inner, 1, target, inner)
            k += 1
        }
        for i in 0..<inner { totals[i] += Double(target[i]) }
        if k >= size { break }
        target.update(from: slab + k * inner, count: inner)
        k += 1
    }
    for i in 0..<inner { target[i] = Float(totals[i]) }
}
