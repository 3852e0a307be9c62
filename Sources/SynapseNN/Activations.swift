// Parameter-free layers: activations, reshaping and identity.

import SynapseCore

/// max(x, 0).
public final class ReLU: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// max(x, 0) + slope · min(x, 0).
public final class LeakyReLU: Module, UnaryLayer {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.leakyRelu(negativeSlope: negativeSlope) }
}

/// 1 / (1 + e^−x).
public final class Sigmoid: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// The hyperbolic tangent.
public final class Tanh: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

/// GELU, exact (erf) form.
public final class GELU: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.gelu() }
}

/// Softmax along `axis`.
public final class Softmax: Module, UnaryLayer {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.softmax(axis: axis) }
}

/// Returns its input.
public final class Identity: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input }
}

/// Merges axes `startAxis...endAxis`; the default keeps the batch axis, as `nn.Flatten`.
public final class Flatten: Module, UnaryLayer {
    public let startAxis: Int, endAxis: Int
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
    }
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.flattened(startAxis: startAxis, endAxis: endAxis)
    }
}

/// Zeroes each element with probability `p` in training mode and scales the rest by
/// 1 / (1 − p), so evaluation needs no rescaling. Masks come from the global generator.
public final class Dropout: Module, UnaryLayer {
    public let p: Float
    public init(p: Float = 0.5) {
        require(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
    }
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        let keep = Tensor.uniform(input.shape) .>= p
        return input * (keep / (1 - p))
    }
}
