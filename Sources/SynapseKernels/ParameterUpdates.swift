// Optimizer updates and weight averaging: one pass over a parameter and its state buffers.
//
// These are memory-bound (a few flops per element read), so each is one vectorized pass,
// split across threads for large parameters. Every element is updated independently, so
// results do not depend on the thread count.

/// An update of one vector's worth of elements at a time; `lanes` is the vector width except
/// for a tail. A struct rather than a closure, so that each update is specialized and inlined
/// into the loop.
private protocol VectorUpdate {
    func update(at offset: Int, lanes: Int)
}

/// Applies `update` over `0..<count`, in parallel chunks when the parameter is large.
@inline(__always)
private func forEachVector<Update: VectorUpdate>(_ update: Update, count: Int, costPerElement: Int) {
    Kernels.parallelChunks(count: count, costPerElement: costPerElement) { start, length in
        let width = FloatVector.scalarCount, end = start + length
        var i = start
        while i + width <= end {
            update.update(at: i, lanes: width)
            i += width
        }
        if i < end { update.update(at: i, lanes: end - i) }
    }
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>, lanes: Int) -> FloatVector {
    lanes == FloatVector.scalarCount ? loadVector(p) : loadPartial(p, count: lanes)
}

@inline(__always)
private func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
    if lanes == FloatVector.scalarCount { storeVector(v, p) } else { storePartial(v, p, count: lanes) }
}

private struct PlainStep: VectorUpdate {
    let weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>
    let rate: FloatVector, decay: FloatVector

    @inline(__always) func update(at i: Int, lanes: Int) {
        let w = load(weights + i, lanes: lanes)
        let d = load(gradient + i, lanes: lanes).addingProduct(decay, w)
        store(w.addingProduct(rate, d), weights + i, lanes: lanes)
    }
}

private struct MomentumStep: VectorUpdate {
    let weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>
    let rate: FloatVector, decay: FloatVector, momentum: FloatVector, take: FloatVector
    let nesterov: Bool, firstStep: Bool

    @inline(__always) func update(at i: Int, lanes: Int) {
        let w = load(weights + i, lanes: lanes)
        let d = load(gradient + i, lanes: lanes).addingProduct(decay, w)
        let b = firstStep ? d : (momentum * load(buffer + i, lanes: lanes)).addingProduct(take, d)
        store(b, buffer + i, lanes: lanes)
        store(w.addingProduct(rate, nesterov ? d.addingProduct(momentum, b) : b), weights + i, lanes: lanes)
    }
}

private struct AdamStep: VectorUpdate {
    let weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>
    let firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>
    let l2: FloatVector, shrink: FloatVector, beta1: FloatVector, beta2: FloatVector
    let stepSize: FloatVector, inverseCorrection2: FloatVector, epsilon: FloatVector

    @inline(__always) func update(at i: Int, lanes: Int) {
        let w = load(weights + i, lanes: lanes)
        let d = load(gradient + i, lanes: lanes).addingProduct(l2, w)
        let m = (beta1 * load(firstMoment + i, lanes: lanes)).addingProduct(1 - beta1, d)
        let v = (beta2 * load(secondMoment + i, lanes: lanes)).addingProduct((1 - beta2) * d, d)
        store(m, firstMoment + i, lanes: lanes)
        store(v, secondMoment + i, lanes: lanes)
        let denominator = (v * inverseCorrection2).squareRoot() + epsilon
        store(w * shrink - stepSize * m / denominator, weights + i, lanes: lanes)
    }
}

private struct MovingAverageStep: VectorUpdate {
    let average: UnsafeMutablePointer<Float>, value: UnsafePointer<Float>
    let keep: FloatVector, take: FloatVector

    @inline(__always) func update(at i: Int, lanes: Int) {
        let mixed = (keep * load(average + i, lanes: lanes)).addingProduct(take, load(value + i, lanes: lanes))
        store(mixed, average + i, lanes: lanes)
    }
}

extension Kernels {
    /// One SGD step in place, as PyTorch computes it: d = g + weightDecay · w; with momentum,
    /// b ← d on the first step and b ← momentum · b + (1 − dampening) · d after; then
    /// w ← w − lr · (nesterov ? d + momentum · b : b), or w ← w − lr · d without momentum
    /// (`momentumBuffer` nil).
    public static func sgdStep(weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                               momentumBuffer: UnsafeMutablePointer<Float>?, count: Int,
                               learningRate: Float, weightDecay: Float, momentum: Float, dampening: Float,
                               nesterov: Bool, firstStep: Bool) {
        let rate = FloatVector(repeating: -learningRate), decay = FloatVector(repeating: weightDecay)
        guard let momentumBuffer else {
            forEachVector(PlainStep(weights: weights, gradient: gradient, rate: rate, decay: decay), count: count, costPerElement: 3)
            return
        }
        let step = MomentumStep(weights: weights, gradient: gradient, buffer: momentumBuffer, rate: rate, decay: decay,
                                momentum: FloatVector(repeating: momentum), take: FloatVector(repeating: 1 - dampening),
                                nesterov: nesterov, firstStep: firstStep)
        forEachVector(step, count: count, costPerElement: 3)
    }

    /// One Adam step in place: d = g + l2 · w, m ← β₁m + (1 − β₁)d, v ← β₂v + (1 − β₂)d²,
    /// w ← w · shrink − lr · (m / correction1) / (√(v / correction2) + ε). AdamW passes
    /// l2 = 0 and shrink = 1 − lr · λ.
    public static func adamStep(weights: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
                                firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>,
                                count: Int, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                                correction1: Float, correction2: Float, l2: Float, shrink: Float) {
        let step = AdamStep(weights: weights, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
                            l2: FloatVector(repeating: l2), shrink: FloatVector(repeating: shrink),
                            beta1: FloatVector(repeating: beta1), beta2: FloatVector(repeating: beta2),
                            stepSize: FloatVector(repeating: learningRate / correction1),
                            inverseCorrection2: FloatVector(repeating: 1 / correction2), epsilon: FloatVector(repeating: epsilon))
        forEachVector(step, count: count, costPerElement: 8)
    }

    /// average[i] ← keep · average[i] + (1 − keep) · value[i] for `count` elements: one step of
    /// an exponential moving average.
    public static func moveAverage(_ average: UnsafeMutablePointer<Float>, toward value: UnsafePointer<Float>,
                                   keep: Float, count: Int) {
        let step = MovingAverageStep(average: average, value: value, keep: FloatVector(repeating: keep),
                                     take: FloatVector(repeating: 1 - keep))
        forEachVector(step, count: count, costPerElement: 2)
    }
}
