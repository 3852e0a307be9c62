// Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

import SynapseCore
import SynapseNN

/// PyTorch's SGD: g ← ∇ + weightDecay · w (L2); with momentum, b ← momentum · b + (1 − dampening) · g
/// (b = g on the first step) and g ← g + momentum · b (Nesterov) or g ← b; then w ← w − lr · g.
public final class SGD: Optimizer {
    public var momentum: Float
    public var dampening: Float
    public var nesterov: Bool
    public var weightDecay: Float

    public init(parameters: [Parameter], lr: Float, momentum: Float = 0, dampening: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0, l1: Float = 0) {
        require(momentum >= 0 && weightDecay >= 0, "SGD: momentum and weight decay must be non-negative")
        require(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: lr, l1: l1)
    }

    public override func update(_ parameter: Parameter, gradient: Tensor, state: inout [String: Tensor]) {
        let lr = learningRate, decay = weightDecay, momentum = momentum, dampening = dampening, nesterov = nesterov
        let firstStep = state["momentum"] == nil
        gradient.withUnsafeBufferPointer { g in
            if momentum == 0 {
                parameter.updateInPlace { w in
                    for i in 0..<w.count { w[i] -= lr * (g[i] + decay * w[i]) }
                }
                return
            }
            var buffer = takeState("momentum", shape: parameter.shape, from: &state)
            buffer.withUnsafeMutableBufferPointer { b in
                parameter.updateInPlace { w in
                    for i in 0..<w.count {
                        let d = g[i] + decay * w[i]
                        b[i] = firstStep ? d : momentum * b[i] + (1 - dampening) * d
                        w[i] -= lr * (nesterov ? d + momentum * b[i] : b[i])
                    }
                }
            }
            state["momentum"] = buffer
        }
    }
}
