// Weight initializers, with PyTorch's formulas.

import Foundation
import SynapseCore

/// How to draw a weight tensor's initial values. Fans follow PyTorch: for a weight of shape
/// [out, in, k…], fanIn = in · Πk and fanOut = out · Πk.
public enum Initializer: Sendable {
    /// U(−a, a) with a = gain · √(6 / (fanIn + fanOut)) (Glorot & Bengio).
    case xavierUniform(gain: Float = 1)
    /// N(0, σ²) with σ = gain · √(2 / (fanIn + fanOut)).
    case xavierNormal(gain: Float = 1)
    /// U(−b, b) with b = gain · √(3 / fanIn), gain = √(2 / (1 + a²)) (He et al.).
    case kaimingUniform(a: Float = 0)
    /// N(0, σ²) with σ = √(2 / (1 + a²)) / √fanIn.
    case kaimingNormal(a: Float = 0)
    /// U(−bound, bound).
    case uniform(bound: Float)
    /// N(mean, standardDeviation²), whatever the fans: DCGAN initialises its convolutions with
    /// `.normal(standardDeviation: 0.02)`, as `torch.nn.init.normal_(w, 0, 0.02)`.
    case normal(mean: Float = 0, standardDeviation: Float)
    case zeros

    /// A tensor of `shape` drawn with this initializer from `generator`.
    public func make(_ shape: [Int], generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .xavierUniform(let gain):
            let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
            return .uniform(shape, low: -bound, high: bound, generator: &generator)
        case .xavierNormal(let gain):
            return .randn(shape, generator: &generator) * (gain * (2 / Float(fanIn + fanOut)).squareRoot())
        case .kaimingUniform(let a):
            let bound = (2 / (1 + a * a)).squareRoot() * (3 / Float(fanIn)).squareRoot()
            return .uniform(shape, low: -bound, high: bound, generator: &generator)
        case .kaimingNormal(let a):
            return .randn(shape, generator: &generator) * ((2 / (1 + a * a)).squareRoot() / Float(fanIn).squareRoot())
        case .uniform(let bound):
            return .uniform(shape, low: -bound, high: bound, generator: &generator)
        case .normal(let mean, let standardDeviation):
            return .randn(shape, generator: &generator) * standardDeviation + mean
        case .zeros:
            return .zeros(shape)
        }
    }

    /// A tensor drawn from the global generator (`GlobalRandom.seed` makes it reproducible).
    public func make(_ shape: [Int]) -> Tensor {
        GlobalRandom.withGenerator { make(shape, generator: &$0) }
    }

    static func fans(_ shape: [Int]) -> (Int, Int) {
        guard shape.count >= 2 else { return (max(shape.first ?? 1, 1), max(shape.first ?? 1, 1)) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (max(shape[1] * receptive, 1), max(shape[0] * receptive, 1))
    }
}
