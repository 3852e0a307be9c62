// An exponential moving average of parameters (Polyak averaging), evaluated in place of the
// last iterate.

import SynapseCore
import SynapseKernels
import SynapseNN

/// Keeps an exponential moving average of parameters, as Keras's `use_ema` and timm's
/// `ModelEma` do: after each optimizer step, `update()` sets a ← d·a + (1 − d)·w.
///
/// The averaged weights sit in the flat valley that SGD's last iterate only rattles around,
/// so they usually test better than the last iterate, at no training cost. Until
/// `updateCount` is large, `d` is lowered to (1 + n) / (10 + n), so the first steps'
/// random weights do not linger in the average.
///
///     let average = ExponentialMovingAverage(parameters: model.parameters, decay: 0.999)
///     // after each optimizer.step():
///     average.update()
///     // evaluate with the averaged weights, then continue training:
///     let accuracy = average.withAveragedWeights { evaluate(model, ...) }
public final class ExponentialMovingAverage {
    /// The parameters being averaged, in order.
    public let parameters: [Parameter]
    /// How much of the average each update keeps, in [0, 1).
    public let decay: Float
    /// Updates taken so far.
    public private(set) var updateCount = 0
    private var averages: [Tensor]

    /// Starts the average at the parameters' current values. Frozen parameters are averaged
    /// too (they do not change, so their average is their value).
    public init(parameters: [Parameter], decay: Float = 0.999) {
        require(decay >= 0 && decay < 1, "ExponentialMovingAverage: decay must be in [0, 1), got \(decay)")
        self.parameters = parameters
        self.decay = decay
        averages = parameters.map { parameter in
            parameter.value.withUnsafeBufferPointer { Tensor(Array($0), shape: parameter.shape) }
        }
    }

    /// The decay the next update uses.
    public var currentDecay: Float {
        min(decay, Float(1 + updateCount) / Float(10 + updateCount))
    }

    /// Folds the parameters' current values into the average; call after each optimizer step.
    public func update() {
        let keep = currentDecay
        updateCount += 1
        for (index, parameter) in parameters.enumerated() where averages[index].count > 0 {
            parameter.value.withUnsafeBufferPointer { weights in
                averages[index].withUnsafeMutableBufferPointer { average in
                    Kernels.moveAverage(average.baseAddress!, toward: weights.baseAddress!, keep: keep, count: average.count)
                }
            }
        }
    }

    /// The averaged value of each parameter, in order.
    public var averagedValues: [Tensor] { averages }

    /// Runs `body` with the averaged weights in the parameters, then puts the trained weights
    /// back, so training continues from where it was.
    public func withAveragedWeights<T>(_ body: () throws -> T) rethrows -> T {
        swapWeights()
        defer { swapWeights() }
        return try body()
    }

    /// Writes the averaged weights into the parameters for good (at the end of training).
    public func copyToParameters() {
        for (index, parameter) in parameters.enumerated() {
            averages[index].withUnsafeBufferPointer { average in
                parameter.updateInPlace { weights in
                    for i in 0..<weights.count { weights[i] = average[i] }
                }
            }
        }
    }

    private func swapWeights() {
        for (index, parameter) in parameters.enumerated() {
            averages[index].withUnsafeMutableBufferPointer { average in
                parameter.updateInPlace { weights in
                    for i in 0..<weights.count { swap(&weights[i], &average[i]) }
                }
            }
        }
    }
}
