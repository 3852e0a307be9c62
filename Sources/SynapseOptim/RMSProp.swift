// RMSProp and Adagrad.

import SynapseCore
import SynapseNN

/// RMSProp as in PyTorch: v ← αv + (1 − α)g², w ← w − lr · g / (√v + ε); with `momentum`,
/// b ← momentum · b + g / (√v + ε) and w ← w − lr · b. `weightDecay` adds λw to g.
public final class RMSProp: Optimizer {
    public var alpha: Float
    public var epsilon: Float
    public var momentum: Float
    public var weightDecay: Float

    public init(parameters: [Parameter], lr: Float = 0.01, alpha: Float = 0.99, epsilon: Float = 1e-8,
                momentum: Float = 0, weightDecay: Float = 0, l1: Float = 0) {
        require(alpha >= 0 && alpha < 1 && epsilon > 0 && momentum >= 0 && weightDecay >= 0,
                "RMSProp: alpha must be in [0, 1), epsilon positive, momentum and weight decay non-negative")
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: lr, l1: l1)
    }

    public override func update(_ parameter: Parameter, gradient: Tensor, state: inout [String: Tensor]) {
        let lr = learningRate, alpha = alpha, epsilon = epsilon, momentum = momentum, decay = weightDecay
        var squareAverage = takeState("square_avg", shape: parameter.shape, from: &state)
        var buffer = takeState("momentum_buffer", shape: momentum > 0 ? parameter.shape : [0], from: &state)
        gradient.withUnsafeBufferPointer { g in
            squareAverage.withUnsafeMutableBufferPointer { v in
                buffer.withUnsafeMutableBufferPointer { b in
                    parameter.updateInPlace { w in
                        for i in 0..<w.count {
                            let d = g[i] + decay * w[i]
                            v[i] = alpha * v[i] + (1 - alpha) * d * d
                            let scaled = d / (v[i].squareRoot() + epsilon)
                            if momentum > 0 {
                                b[i] = momentum * b[i] + scaled
                                w[i] -= lr * b[i]
                            } else {
                                w[i] -= lr * scaled
                            }
                        }
                    }
                }
            }
        }
        state["square_avg"] = squareAverage
        if momentum > 0 { state["momentum_buffer"] = buffer }
    }
}

/// Adagrad as in PyTorch: s ← s + g², w ← w − lr · g / (√s + ε).
public final class Adagrad: Optimizer {
    public var epsilon: Float
    public var weightDecay: Float

    public init(parameters: [Parameter], lr: Float = 0.01, epsilon: Float = 1e-10, weightDecay: Float = 0, l1: Float = 0) {
        require(epsilon > 0 && weightDecay >= 0, "Adagrad: epsilon must be positive and weight decay non-negative")
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: lr, l1: l1)
    }

    public override func update(_ parameter: Parameter, gradient: Tensor, state: inout [String: Tensor]) {
        let lr = learningRate, epsilon = epsilon, decay = weightDecay
        var sum = takeState("sum", shape: parameter.shape, from: &state)
        gradient.withUnsafeBufferPointer { g in
            sum.withUnsafeMutableBufferPointer { s in
                parameter.updateInPlace { w in
                    for i in 0..<w.count {
                        let d = g[i] + decay * w[i]
                        s[i] += d * d
                        w[i] -= lr * d / (s[i].squareRoot() + epsilon)
                    }
                }
            }
        }
        state["sum"] = sum
    }
}
