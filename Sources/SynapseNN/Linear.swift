// The fully connected layer.

import SynapseCore

/// y = x · Wᵀ + b over the last axis. Weight [out, in]; PyTorch's default initialization:
/// weight Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in), and bias U(−1/√in, 1/√in).
///
/// A pruned weight runs as a sparse × dense product at inference when `SparseExecution`
/// says that is faster; the result is the same up to the order of the sums.
public final class Linear: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    /// Nil when built with `bias: false`.
    public let bias: Parameter?

    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer? = nil) {
        require(inFeatures > 0 && outFeatures > 0, "Linear: feature counts must be positive, got \(inFeatures) → \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        _weight = Parameter((initializer ?? .uniform(bound: bound)).make([outFeatures, inFeatures]))
        self.bias = bias ? Parameter(Initializer.uniform(bound: bound).make([outFeatures])) : nil
    }

    let sparseWeight = SparseWeightCache()

    public func callAsFunction(_ input: Tensor) -> Tensor {
        callAsFunction(input, fusingReLU: false)
    }
}

extension Linear: ReLUFusing {
    public func callAsFunction(_ input: Tensor, fusingReLU: Bool) -> Tensor {
        if !GradientMode.isEnabled, let sparse = sparseWeight.matrix(for: $weight, rows: outFeatures) {
            return input.linear(sparseWeight: sparse, bias: bias?.value, fusingReLU: fusingReLU)
        }
        return traced(input.linear(weight: weight, bias: bias?.value, fusingReLU: fusingReLU))
    }
}
