// Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

import SynapseCore
import SynapseKernels
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
        guard gradient.count > 0 else { return }
        let firstStep = state["momentum"] == nil
        var buffer = momentum == 0 ? nil : takeState("momentum", shape: parameter.shape, from: &state)
        gradient.withUnsafeBufferPointer { g in
            parameter.updateInPlace { w in
                func step(_ momentumBuffer: UnsafeMutablePointer<Float>?) {
                    Kernels.sgdStep(weights: w.baseAddress!, gradient: g.baseAddress!, momentumBuffer: momentumBuffer, count: w.count,
                                    learningRate: learningRate, weightDecay: weightDecay, momentum: momentum,
                                    dampening: dampening, nesterov: nesterov, firstStep: firstStep)
                }
                if buffer == nil {
                    step(nil)
                } else {
                    buffer!.withUnsafeMutableBufferPointer { step($0.baseAddress!) }
                }
            }
        }
        if let buffer { state["momentum"] = buffer }
    }
}
