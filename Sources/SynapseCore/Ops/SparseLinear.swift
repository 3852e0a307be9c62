// The fully connected layer's affine map with a sparse weight, for inference.

import SynapseKernels

extension Tensor {
    /// x · weightᵀ + bias over the last axis with a sparse `weight` [out, in] (CSR), as
    /// `linear(weight:bias:)` computes with the dense weight. Inference only: the result
    /// records no gradient, so call it inside `withoutGradients` (a pruned `Linear` does so
    /// by itself in evaluation).
    public func linear(sparseWeight weight: SparseMatrix, bias: Tensor? = nil, fusingReLU: Bool = false) -> Tensor {
        require(!GradientMode.isEnabled || !requiresGrad,
                "linear(sparseWeight:) has no backward pass; call it inside withoutGradients or on an input that needs no gradient")
        let (inFeatures, outFeatures) = (weight.columns, weight.rows)
        require(rank >= 1 && shape[rank - 1] == inFeatures,
                "linear: input \(Shape.describe(shape)) and sparse weight [\(outFeatures), \(inFeatures)] are incompatible "
                + "(expected input [..., \(inFeatures)])")
        if let bias {
            require(bias.shape == [outFeatures], "linear: bias must be [\(outFeatures)], got \(Shape.describe(bias.shape))")
        }
        let rows = count / Swift.max(inFeatures, 1)
        let result = Tensor(uninitializedShape: Array(shape.dropLast()) + [outFeatures])
        withExtendedLifetime(bias) {
            Kernels.sparseLinear(input: pointer, batch: rows, weight: weight, bias: bias.map { UnsafePointer($0.pointer) },
                                 output: result.pointer)
        }
        if fusingReLU { Kernels.unary(.relu, result.pointer, result.pointer, count: result.count) }
        return result
    }
}
