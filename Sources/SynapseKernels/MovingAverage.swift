// The update of an exponential moving average of weights.

extension Kernels {
    /// average[i] ← keep · average[i] + (1 − keep) · value[i] for `count` elements: one step of
    /// an exponential moving average. Memory-bound, so large arrays are split across threads.
    public static func moveAverage(_ average: UnsafeMutablePointer<Float>, toward value: UnsafePointer<Float>,
                                   keep: Float, count: Int) {
        let take = 1 - keep
        parallelChunks(count: count, costPerElement: 2) { start, length in
            let average = average + start, value = value + start
            let keepVector = FloatVector(repeating: keep), takeVector = FloatVector(repeating: take)
            var i = 0
            while i + FloatVector.scalarCount <= length {
                let mixed = (loadVector(average + i) * keepVector).addingProduct(loadVector(value + i), takeVector)
                storeVector(mixed, average + i)
                i += FloatVector.scalarCount
            }
            while i < length {
                average[i] = (average[i] * keep).addingProduct(value[i], take)
                i += 1
            }
        }
    }
}
