// Elementwise functions of one tensor and their gradients.

import SynapseKernels

extension Tensor {
    /// Applies a unary kernel and records `gradient(g, input, output)` as its backward.
    func unary(_ operation: UnaryOperation, op: String,
               gradient: @escaping (_ g: Tensor, _ input: Tensor, _ output: Tensor) -> Tensor) -> Tensor {
        let input = self
        let result = Tensor(uninitializedShape: shape)
        Kernels.unary(operation, pointer, result.pointer, count: count)
        return record(op, result, inputs: [input]) { g, _ in [gradient(g, input, result)] }
    }

    /// Applies a fused gradient kernel g′ = f(g, saved) to same-shaped tensors.
    static func fusedGradient(_ operation: BinaryOperation, _ g: Tensor, _ saved: Tensor) -> Tensor {
        broadcastKernel(operation, g, saved, op: "backward")
    }

    public func exp() -> Tensor { unary(.exp, op: "exp") { g, _, y in g * y } }
    public func log() -> Tensor { unary(.log, op: "log") { g, x, _ in g / x } }
    public func sqrt() -> Tensor { unary(.sqrt, op: "sqrt") { g, _, y in g * 0.5 / y } }
    public func square() -> Tensor { unary(.square, op: "square") { g, x, _ in g * 2 * x } }
    public func abs() -> Tensor { unary(.abs, op: "abs") { g, x, _ in Tensor.fusedGradient(.absBackward, g, x) } }
    public func tanh() -> Tensor { unary(.tanh, op: "tanh") { g, _, y in Tensor.fusedGradient(.tanhBackward, g, y) } }
    public func sigmoid() -> Tensor { unary(.sigmoid, op: "sigmoid") { g, _, y in Tensor.fusedGradient(.sigmoidBackward, g, y) } }
    /// −1, 0 or 1 by the sign of each element; its gradient is zero.
    public func sign() -> Tensor { unary(.sign, op: "sign") { g, _, _ in Tensor.zeros(like: g) } }
    public func relu() -> Tensor { unary(.relu, op: "relu") { g, x, _ in Tensor.fusedGradient(.reluBackward, g, x) } }

    /// GELU with the exact erf formulation (PyTorch's default).
    public func gelu() -> Tensor { unary(.gelu, op: "gelu") { g, x, _ in Tensor.fusedGradient(.geluBackward, g, x) } }

    /// max(x, 0) + slope · min(x, 0).
    public func leakyRelu(negativeSlope: Float = 0.01) -> Tensor {
        unary(.leakyRelu(slope: negativeSlope), op: "leakyRelu") { g, x, _ in
            Tensor.fusedGradient(.leakyReluBackward(slope: negativeSlope), g, x)
        }
    }

    /// Limits every element to [min, max]; the gradient passes only where the input was inside.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        require(lower <= upper, "clamp: min \(lower) is above max \(upper)")
        return unary(.clamp(lower: lower, upper: upper), op: "clamp") { g, x, _ in
            Tensor.fusedGradient(.clampBackward(lower: lower, upper: upper), g, x)
        }
    }
}
