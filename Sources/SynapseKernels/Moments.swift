// Mean and variance statistics for layer and batch normalization.

extension Kernels {
    /// Per-row mean and population variance of a [rows, size] buffer (layer normalization's
    /// statistics). Two passes, the second over centered values, keep the variance accurate when
    /// the mean is large; rows are split across threads, each row computed by one of them.
    public static func rowMoments(_ x: UnsafePointer<Float>, rows: Int, size: Int,
                                  mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        guard size > 0 else { return }
        let tasks = rows > 1 && rows * size >= 1 << 16 ? min(rows, threadCount * 4) : 1
        parallelFor(tasks) { task in
            for r in (rows * task / tasks)..<(rows * (task + 1) / tasks) {
                let row = x + r * size
                let average = sumContiguous(row, size) / Float(size)
                mean[r] = average
                variance[r] = centeredSquareSum(row, count: size, mean: average) / Float(size)
            }
        }
    }

    /// Per-channel mean and population variance over an NCHW buffer: channel c pools all
    /// batch × plane values (batch normalization's statistics). Channels are split across threads.
    public static func channelMoments(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                                      mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        let count = batch * plane
        guard count > 0 else { return }
        let tasks = channels > 1 && batch * channels * plane >= 1 << 16 ? min(channels, threadCount * 4) : 1
        parallelFor(tasks) { task in
            for c in (channels * task / tasks)..<(channels * (task + 1) / tasks) {
                var total = 0.0
                for n in 0..<batch { total += Double(sumContiguous(x + (n * channels + c) * plane, plane)) }
                let average = Float(total / Double(count))
                var squares = 0.0
                for n in 0..<batch {
                    squares += Double(centeredSquareSum(x + (n * channels + c) * plane, count: plane, mean: average))
                }
                mean[c] = average
                variance[c] = Float(squares / Double(count))
            }
        }
    }
}

/// Σ (x − mean)² over `count` contiguous floats, with blocks added in Double as in `sumContiguous`.
private func centeredSquareSum(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    let width = FloatVector.scalarCount
    let center = FloatVector(repeating: mean)
    var total = 0.0
    var start = 0
    while start < count {
        let end = min(start + 256, count)
        var acc = FloatVector(repeating: 0)
        var i = start
        while i + width <= end {
            let d = loadVector(x + i) - center
            acc += d * d
            i += width
        }
        var partial = acc.sum()
        while i < end {
            let d = x[i] - mean
            partial += d * d
            i += 1
        }
        total += Double(partial)
        start = end
    }
    return Float(total)
}
