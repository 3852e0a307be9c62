// Layer normalization over the last axis, forward and backward, each in one kernel.
//
// A row is read once for its statistics (sums of values and squares shifted by the row's first
// value, so a large mean does not cancel the variance away) and once more, from the L1 cache, to
// write the normalized and scaled result. The backward recomputes x̂ from the saved mean and
// 1/σ. Weight and bias gradients are summed per fixed block of rows and the blocks then in order,
// so they are bitwise identical at any thread count.

private let rowsPerBlock = 32

extension Kernels {
    /// y = (x − mean) / √(var + ε) · weight + bias per row of `x` [rows, size]; weight and bias
    /// [size] are optional. Writes each row's mean and 1/√(var + ε) for the backward.
    public static func layerNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                 inverseDeviation: UnsafeMutablePointer<Float>, rows: Int, size: Int, epsilon: Float) {
        guard rows > 0, size > 0 else { return }
        let width = FloatVector.scalarCount
        let tasks = rows > 1 && rows * size >= 1 << 15 ? min(rows, threadCount * 4) : 1
        let chunk = (rows + tasks - 1) / tasks
        parallelFor(tasks) { task in
            for row in (task * chunk)..<min(rows, (task + 1) * chunk) {
                let input = x + row * size, output = y + row * size
                let shift = input[0]
                var sum = FloatVector(), squares = FloatVector()
                var c = 0
                while c + width <= size {
                    let v = loadVector(input + c) - shift
                    sum += v
                    squares += v * v
                    c += width
                }
                var tailSum: Float = 0, tailSquares: Float = 0
                while c < size {
                    let v = input[c] - shift
                    tailSum += v
                    tailSquares += v * v
                    c += 1
                }
                let n = Float(size)
                let shiftedMean = (sum.sum() + tailSum) / n
                let variance = max(0, (squares.sum() + tailSquares) / n - shiftedMean * shiftedMean)
                let mu = shift + shiftedMean, inverse = 1 / (variance + epsilon).squareRoot()
                mean[row] = mu
                inverseDeviation[row] = inverse
                c = 0
                while c + width <= size {
                    var v = (loadVector(input + c) - mu) * inverse
                    if let weight { v *= loadVector(weight + c) }
                    if let bias { v += loadVector(bias + c) }
                    storeVector(v, output + c)
                    c += width
                }
                while c < size {
                    var v = (input[c] - mu) * inverse
                    if let weight { v *= weight[c] }
                    if let bias { v += bias[c] }
                    output[c] = v
                    c += 1
                }
            }
        }
    }

    /// The gradients of `layerNorm`: dx (overwritten), and dweight and dbias (overwritten, each
    /// only when its pointer is given) from the output gradient `dy` and the saved statistics.
    public static func layerNormBackward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
                                         mean: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>,
                                         outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                         weightGradient: UnsafeMutablePointer<Float>?, biasGradient: UnsafeMutablePointer<Float>?,
                                         rows: Int, size: Int) {
        guard rows > 0, size > 0 else { return }
        let width = FloatVector.scalarCount
        let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
        let wantsParameters = weightGradient != nil || biasGradient != nil
        // Per block: the partial weight gradient, then the partial bias gradient.
        let partials = wantsParameters ? UnsafeMutablePointer<Float>.allocate(capacity: blocks * 2 * size) : nil
        defer { partials?.deallocate() }
        let tasks = rows * size >= 1 << 15 ? blocks : 1
        let blocksPerTask = (blocks + tasks - 1) / tasks
        parallelFor(tasks) { task in
            for block in (task * blocksPerTask)..<min(blocks, (task + 1) * blocksPerTask) {
                let partialWeight = partials.map { $0 + block * 2 * size }, partialBias = partialWeight.map { $0 + size }
                partialWeight?.update(repeating: 0, count: 2 * size)
                for row in (block * rowsPerBlock)..<min(rows, (block + 1) * rowsPerBlock) {
                    let input = x + row * size, gradient = dy + row * size, output = dx + row * size
                    let mu = mean[row], inverse = inverseDeviation[row]
                    // mean(g) and mean(g · x̂), with g = dy · weight.
                    var gSum = FloatVector(), gxSum = FloatVector()
                    var c = 0
                    while c + width <= size {
                        let normalized = (loadVector(input + c) - mu) * inverse
                        var g = loadVector(gradient + c)
                        if let partialWeight, let partialBias {
                            storeVector(loadVector(partialWeight + c) + g * normalized, partialWeight + c)
                            storeVector(loadVector(partialBias + c) + g, partialBias + c)
                        }
                        if let weight { g *= loadVector(weight + c) }
                        gSum += g
                        gxSum += g * normalized
                        c += width
                    }
                    var gTail: Float = 0, gxTail: Float = 0
                    while c < size {
                        let normalized = (input[c] - mu) * inverse
                        var g = gradient[c]
                        if let partialWeight, let partialBias {
                            partialWeight[c] += g * normalized
                            partialBias[c] += g
                        }
                        if let weight { g *= weight[c] }
                        gTail += g
                        gxTail += g * normalized
                        c += 1
                    }
                    let n = Float(size)
                    let gMean = (gSum.sum() + gTail) / n, gxMean = (gxSum.sum() + gxTail) / n
                    c = 0
                    while c + width <= size {
                        let normalized = (loadVector(input + c) - mu) * inverse
                        var g = loadVector(gradient + c)
                        if let weight { g *= loadVector(weight + c) }
                        storeVector((g - gMean - normalized * gxMean) * inverse, output + c)
                        c += width
                    }
                    while c < size {
                        let normalized = (input[c] - mu) * inverse
                        var g = gradient[c]
                        if let weight { g *= weight[c] }
                        output[c] = (g - gMean - normalized * gxMean) * inverse
                        c += 1
                    }
                }
            }
        }
        guard let partials else { return }
        if let weightGradient { weightGradient.update(from: partials, count: size) }
        if let biasGradient { biasGradient.update(from: partials + size, count: size) }
        for block in 1..<max(blocks, 1) {
            let partial = partials + block * 2 * size
            if let weightGradient { addInPlace(partial, into: weightGradient, count: size) }
            if let biasGradient { addInPlace(partial + size, into: biasGradient, count: size) }
        }
    }
}
