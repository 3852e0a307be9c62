// Adam and AdamW.

import Foundation
import SynapseCore
import SynapseKernels
import SynapseNN

/// Adam (Kingma & Ba) as in PyTorch: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
/// w ← w − lr · m̂ / (√v̂ + ε) with bias-corrected m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).
/// `weightDecay` adds an L2 term to the gradient; `decoupledWeightDecay` makes it AdamW's
/// w ← w − lr · λ · w applied before the update instead.
public class Adam: Optimizer {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public let decoupledWeightDecay: Bool
    /// Per-parameter weight decay that replaces `weightDecay`, from parameter groups.
    private var groupWeightDecay: [ObjectIdentifier: Float] = [:]

    public init(parameters: [Parameter], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false, l1: Float = 0) {
        require(betas.0 >= 0 && betas.0 < 1 && betas.1 >= 0 && betas.1 < 1, "Adam: betas must be in [0, 1), got \(betas)")
        require(epsilon > 0 && weightDecay >= 0, "Adam: epsilon must be positive and weight decay non-negative")
        beta1 = betas.0
        beta2 = betas.1
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        super.init(parameters: parameters, learningRate: lr, l1: l1)
    }

    public override func update(_ parameter: Parameter, gradient: Tensor, state: inout [String: Tensor]) {
        guard gradient.count > 0 else { return }
        let step = Float((state["step"]?.item ?? 0) + 1)
        state["step"] = Tensor(step)
        let lr = learningRate, beta1 = beta1, beta2 = beta2, epsilon = epsilon
        let correction1 = 1 - Float(Foundation.pow(Double(beta1), Double(step)))
        let correction2 = 1 - Float(Foundation.pow(Double(beta2), Double(step)))
        let decay = groupWeightDecay[ObjectIdentifier(parameter)] ?? weightDecay
        let l2 = decoupledWeightDecay ? 0 : decay
        let shrink = decoupledWeightDecay ? 1 - lr * decay : 1
        var average = takeState("exp_avg", shape: parameter.shape, from: &state)
        var squareAverage = takeState("exp_avg_sq", shape: parameter.shape, from: &state)
        gradient.withUnsafeBufferPointer { g in
            average.withUnsafeMutableBufferPointer { m in
                squareAverage.withUnsafeMutableBufferPointer { v in
                    parameter.updateInPlace { w in
                        Kernels.adamStep(weights: w.baseAddress!, gradient: g.baseAddress!, firstMoment: m.baseAddress!,
                                         secondMoment: v.baseAddress!, count: w.count, learningRate: lr, beta1: beta1,
                                         beta2: beta2, epsilon: epsilon, correction1: correction1, correction2: correction2,
                                         l2: l2, shrink: shrink)
                    }
                }
            }
        }
        state["exp_avg"] = average
        state["exp_avg_sq"] = squareAverage
    }
}

extension Adam {
    /// Gives the parameters of each group its own weight decay, as PyTorch's parameter groups
    /// do: GPT training decays matrices and embeddings but not norms and biases. Parameters in
    /// no group keep `weightDecay`.
    public func setWeightDecay(_ groups: [(parameters: [Parameter], weightDecay: Float)]) {
        for group in groups {
            require(group.weightDecay >= 0, "Adam: weight decay must be non-negative, got \(group.weightDecay)")
            for parameter in group.parameters { groupWeightDecay[ObjectIdentifier(parameter)] = group.weightDecay }
        }
    }
}

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, default λ = 0.01 as in PyTorch.
public final class AdamW: Adam {
    public init(parameters: [Parameter], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, l1: Float = 0) {
        super.init(parameters: parameters, lr: lr, betas: betas, epsilon: epsilon, weightDecay: weightDecay,
                   decoupledWeightDecay: true, l1: l1)
    }
}
