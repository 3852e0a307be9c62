// Numerically stable softmax and log-softmax along the middle axis of [outer, size, inner].

extension Kernels {
    /// Softmax (or log-softmax with `log`) of `x` along the middle axis of its [outer, size, inner] view.
    /// The row maximum is subtracted first, so logits of any magnitude are safe.
    public static func softmax(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        outer: Int, size: Int, inner: Int, log: Bool
    ) {
        guard size > 0 else { return }
        forEachSlab(outer: outer, size: size, inner: inner) { slabs in
            let columnMax = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            let columnSum = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            defer {
                columnMax.deallocate()
                columnSum.deallocate()
            }
            for o in slabs {
                let src = x + o * size * inner
                let dst = out + o * size * inner
                reduce(.max, src, columnMax, outer: 1, size: size, inner: inner)
                for i in 0..<inner where columnMax[i] == -.infinity { columnMax[i] = 0 }
                for k in 0..<size {
                    binaryRun(Subtract(), src + k * inner, 1, columnMax, 1, dst + k * inner, inner)
                }
                // dst holds shifted logits; exponentiate into dst for softmax, or sum the exps for log-softmax.
                if log {
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size * inner)
                    mapContiguous(Exp(), dst, scratch, size * inner)
                    reduce(.sum, scratch, columnSum, outer: 1, size: size, inner: inner)
                    scratch.deallocate()
                    mapContiguous(Log(), columnSum, columnSum, inner)
                    for k in 0..<size {
                        binaryRun(Subtract(), dst + k * inner, 1, columnSum, 1, dst + k * inner, inner)
                    }
                } else {
                    mapContiguous(Exp(), dst, dst, size * inner)
                    reduce(.sum, dst, columnSum, outer: 1, size: size, inner: inner)
                    mapContiguous(Reciprocal(), columnSum, columnSum, inner)
                    for k in 0..<size {
                        binaryRun(Multiply(), dst + k * inner, 1, columnSum, 1, dst + k * inner, inner)
                    }
                }
            }
        }
    }

    /// Gradient of softmax / log-softmax given its output `y` and the output gradient `g`:
    /// softmax: g′ = y · (g − Σ g·y);  log-softmax: g′ = g − e^y · Σ g.
    public static func softmaxBackward(
        output y: UnsafePointer<Float>, gradient g: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, outer: Int, size: Int, inner: Int, log: Bool
    ) {
        guard size > 0 else { return }
        forEachSlab(outer: outer, size: size, inner: inner) { slabs in
            let total = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: size * inner)
            defer {
                total.deallocate()
                scratch.deallocate()
            }
            for o in slabs {
                let ys = y + o * size * inner
                let gs = g + o * size * inner
                let dst = out + o * size * inner
                if log {
                    reduce(.sum, gs, total, outer: 1, size: size, inner: inner)
                    mapContiguous(Exp(), ys, scratch, size * inner)
                    for k in 0..<size {
                        binaryRun(Multiply(), scratch + k * inner, 1, total, 1, scratch + k * inner, inner)
                    }
                    binaryRun(Subtract(), gs, 1, scratch, 1, dst, size * inner)
                } else {
                    binaryRun(Multiply(), gs, 1, ys, 1, scratch, size * inner)
                    reduce(.sum, scratch, total, outer: 1, size: size, inner: inner)
                    for k in 0..<size {
                        binaryRun(Subtract(), gs + k * inner, 1, total, 1, scratch + k * inner, inner)
                    }
                    binaryRun(Multiply(), scratch, 1, ys, 1, dst, size * inner)
                }
            }
        }
    }

    /// Splits the outer slabs of a row-wise op across the pool when the work is large enough.
    /// Each slab is computed by one thread, so results do not depend on the split.
    private static func forEachSlab(outer: Int, size: Int, inner: Int, _ body: (Range<Int>) -> Void) {
        let tasks = outer > 1 && outer * size * inner >= 1 << 15 ? min(outer, threadCount * 4) : 1
        parallelFor(tasks) { task in body((outer * task / tasks)..<(outer * (task + 1) / tasks)) }
    }
}
