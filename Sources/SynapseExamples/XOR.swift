// The seed's first example: a 2-3-1 network learning XOR, trained two ways from the same
// weights — with hand-derived backpropagation equations, and with autodiff.

import Foundation
import Synapse

/// The four parameters of the 2-3-1 network (or their gradients).
public struct XORParameters {
    public var w1: Tensor  // [2, 3]
    public var b1: Tensor  // [3]
    public var w2: Tensor  // [3, 1]
    public var b2: Tensor  // [1]

    public var all: [Tensor] { [w1, b1, w2, b2] }

    /// The largest absolute elementwise difference from `other`.
    public func maxDifference(from other: XORParameters) -> Float {
        zip(all, other.all).map { ($0 - $1).abs().max().item }.max() ?? 0
    }

    /// Plain gradient descent: θ ← θ − lr · ∇θ.
    func descending(_ gradient: XORParameters, learningRate: Float) -> XORParameters {
        withoutGradients {
            XORParameters(w1: w1 - learningRate * gradient.w1, b1: b1 - learningRate * gradient.b1,
                          w2: w2 - learningRate * gradient.w2, b2: b2 - learningRate * gradient.b2)
        }
    }
}

/// What one training run of both methods produced.
public struct XORReport {
    /// The largest gradient disagreement between the two methods over all epochs.
    public let maxGradientDifference: Float
    public let manualLoss: Float
    public let autodiffLoss: Float
    /// Network outputs for the four inputs after training, per method.
    public let manualOutputs: [Float]
    public let autodiffOutputs: [Float]

    /// Whether all four outputs of both methods are within `tolerance` of the XOR targets.
    public func solved(tolerance: Float = 0.1) -> Bool {
        let targets = XORExample.targets.scalars
        return zip(manualOutputs, targets).allSatisfy { Swift.abs($0 - $1) < tolerance }
            && zip(autodiffOutputs, targets).allSatisfy { Swift.abs($0 - $1) < tolerance }
    }
}

public enum XORExample {
    /// The four XOR inputs, one per row.
    public static let inputs = Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    /// The XOR targets, one per row.
    public static let targets = Tensor([[0], [1], [1], [0]])

    /// Weights drawn uniformly from [-1, 1) with a fixed seed; both methods start here.
    public static func initialParameters(seed: UInt64) -> XORParameters {
        var generator = RandomGenerator(seed: seed)
        return XORParameters(w1: .uniform([2, 3], low: -1, high: 1, generator: &generator),
                             b1: .uniform([3], low: -1, high: 1, generator: &generator),
                             w2: .uniform([3, 1], low: -1, high: 1, generator: &generator),
                             b2: .uniform([1], low: -1, high: 1, generator: &generator))
    }

    /// The textbook derivation. Forward: a = xW1 + b1, z = σ(a), ŷ = zW2 + b2, L = mean((ŷ − t)²).
    /// Backward: δ2 = 2(ŷ − t)/N, ∂W2 = zᵀδ2, ∂b2 = Σδ2, δ1 = (δ2 W2ᵀ) ⊙ z(1 − z), ∂W1 = xᵀδ1, ∂b1 = Σδ1.
    public static func manualGradients(_ p: XORParameters) -> (loss: Float, gradients: XORParameters) {
        withoutGradients {
            let x = inputs, t = targets
            let a = x.matmul(p.w1) + p.b1
            let z = a.sigmoid()
            let y = z.matmul(p.w2) + p.b2
            let loss = (y - t).square().mean().item
            let delta2 = 2 * (y - t) / Float(t.count)
            let gradW2 = z.T.matmul(delta2)
            let gradB2 = delta2.sum(axis: 0)
            let delta1 = delta2.matmul(p.w2.T) * z * (1 - z)
            let gradW1 = x.T.matmul(delta1)
            let gradB1 = delta1.sum(axis: 0)
            return (loss, XORParameters(w1: gradW1, b1: gradB1, w2: gradW2, b2: gradB2))
        }
    }

    /// The same forward pass through autodiff; `backward()` supplies the gradients.
    public static func autodiffGradients(_ p: XORParameters) -> (loss: Float, gradients: XORParameters) {
        let w1 = p.w1.requiringGrad(), b1 = p.b1.requiringGrad()
        let w2 = p.w2.requiringGrad(), b2 = p.b2.requiringGrad()
        let y = (inputs.matmul(w1) + b1).sigmoid().matmul(w2) + b2
        let loss = (y - targets).square().mean()
        loss.backward()
        return (loss.item, XORParameters(w1: w1.grad!, b1: b1.grad!, w2: w2.grad!, b2: b2.grad!))
    }

    /// The network's outputs for the four inputs.
    public static func predict(_ p: XORParameters) -> [Float] {
        withoutGradients { ((inputs.matmul(p.w1) + p.b1).sigmoid().matmul(p.w2) + p.b2).scalars }
    }

    /// Trains both ways side by side with full-batch gradient descent, comparing their gradients
    /// every epoch. `log` receives a line every `logEvery` epochs.
    public static func train(epochs: Int = 5000, learningRate: Float = 0.5, seed: UInt64 = 0,
                             logEvery: Int = 500, log: (String) -> Void = { _ in }) -> XORReport {
        require(epochs > 0, "xor: epochs must be positive, got \(epochs)")
        var manual = initialParameters(seed: seed)
        var automatic = manual
        var maxDifference: Float = 0
        var manualLoss: Float = 0, autodiffLoss: Float = 0
        for epoch in 1...epochs {
            let m = manualGradients(manual)
            let a = autodiffGradients(automatic)
            maxDifference = Swift.max(maxDifference, m.gradients.maxDifference(from: a.gradients))
            manualLoss = m.loss
            autodiffLoss = a.loss
            if epoch == 1 || epoch % logEvery == 0 || epoch == epochs {
                log("epoch \(pad(epoch, to: String(epochs).count))  loss (equations) \(scientific(m.loss))  loss (autodiff) \(scientific(a.loss))")
            }
            manual = manual.descending(m.gradients, learningRate: learningRate)
            automatic = automatic.descending(a.gradients, learningRate: learningRate)
        }
        return XORReport(maxGradientDifference: maxDifference, manualLoss: manualLoss, autodiffLoss: autodiffLoss,
                         manualOutputs: predict(manual), autodiffOutputs: predict(automatic))
    }
}

func pad(_ value: Int, to width: Int) -> String {
    String(repeating: " ", count: max(0, width - String(value).count)) + String(value)
}

func scientific(_ value: Float) -> String {
    String(format: "%.4e", Double(value))
}
