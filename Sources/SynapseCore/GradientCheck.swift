// Comparing autodiff gradients with central finite differences.

/// The outcome of `gradientCheck`: the worst disagreement between autodiff and finite differences.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
    /// Whether every element satisfied |analytic − numeric| ≤ absoluteTolerance + relativeTolerance · |numeric|.
    public let passed: Bool
    public let maxAbsoluteError: Float
    /// The element with the largest error relative to its tolerance: input number, flat index, both gradients.
    public let worst: (input: Int, index: Int, analytic: Float, numeric: Float)?

    public var description: String {
        guard let worst else { return "gradientCheck: no elements" }
        return "gradientCheck \(passed ? "passed" : "FAILED"): max |error| \(maxAbsoluteError); worst at input \(worst.input) element \(worst.index): autodiff \(worst.analytic), numeric \(worst.numeric)"
    }
}

/// Checks the gradients of `function` at `inputs` against central finite differences.
///
/// Non-scalar outputs are reduced to a scalar with fixed random weights, so every output
/// element takes part. The projection and the differences are accumulated in Double;
/// `epsilon` is the step in each input element. The defaults suit Float32 functions of
/// inputs of order 1 that are smooth within `epsilon` (keep inputs away from kinks such as
/// relu at 0).
public func gradientCheck(
    _ function: ([Tensor]) -> Tensor,
    at inputs: [Tensor],
    epsilon: Float = 1e-2,
    absoluteTolerance: Float = 1e-3,
    relativeTolerance: Float = 1e-2,
    seed: UInt64 = 0
) -> GradientCheckResult {
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let output = function(leaves)
    var generator = RandomGenerator(seed: seed)
    let weights = Tensor.uniform(output.shape, low: 0.5, high: 1.5, generator: &generator)
    (output * weights).sum().backward()

    func projected(_ candidate: [Tensor]) -> Double {
        let values = withoutGradients { function(candidate) }
        require(values.shape == output.shape, "gradientCheck: the function's output shape changed between calls")
        var total = 0.0
        for i in 0..<values.count { total += Double(values.pointer[i]) * Double(weights.pointer[i]) }
        return total
    }

    var passed = true
    var maxError: Float = 0
    var worstRatio: Float = -1
    var worst: (input: Int, index: Int, analytic: Float, numeric: Float)?
    for (inputIndex, leaf) in leaves.enumerated() {
        let analytic = leaf.grad ?? Tensor.zeros(leaf.shape)
        for element in 0..<leaf.count {
            var candidate = inputs.map { $0.detached() }
            let original = inputs[inputIndex].pointer[element]
            candidate[inputIndex].withUnsafeMutableBufferPointer { $0[element] = original + epsilon }
            let plus = projected(candidate)
            candidate[inputIndex].withUnsafeMutableBufferPointer { $0[element] = original - epsilon }
            let minus = projected(candidate)
            let numeric = Float((plus - minus) / (2 * Double(epsilon)))
            let value = analytic.pointer[element]
            let error = Swift.abs(value - numeric)
            let tolerance = absoluteTolerance + relativeTolerance * Swift.abs(numeric)
            if !(error <= tolerance) || !numeric.isFinite { passed = false }
            maxError = Swift.max(maxError, error)
            let ratio = error / tolerance
            if ratio > worstRatio || ratio.isNaN {
                worstRatio = ratio.isNaN ? .infinity : ratio
                worst = (inputIndex, element, value, numeric)
            }
        }
    }
    return GradientCheckResult(passed: passed, maxAbsoluteError: maxError, worst: worst)
}
