// The affine map of a fully connected layer, x · Wᵀ + b, as one fused op.

import SynapseKernels

extension Tensor {
    /// x · weightᵀ + bias over the last axis, as `torch.nn.functional.linear`: self is
    /// [..., in], `weight` is [out, in], `bias` is [out]; the result is [..., out]. One GEMM
    /// with the transpose folded in, and the bias added in place.
    /// With `fusingReLU` the result is `relu()` of that, applied in place on the fresh product.
    public func linear(weight: Tensor, bias: Tensor? = nil, fusingReLU: Bool = false) -> Tensor {
        require(rank >= 1 && weight.rank == 2 && shape[rank - 1] == weight.shape[1],
                "linear: input \(Shape.describe(shape)) and weight \(Shape.describe(weight.shape)) are incompatible (expected input [..., \(weight.rank == 2 ? weight.shape[1] : -1)])")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias {
            require(bias.shape == [outFeatures], "linear: bias must be [\(outFeatures)], got \(Shape.describe(bias.shape))")
        }
        let rows = count / Swift.max(inFeatures, 1)
        let flat = Tensor(shape: [rows, inFeatures], storage: storage)
        let product: Tensor
        if rows <= 4 {
            // A few rows (a layer at one generated token): packing the weight for GEMM would
            // cost more than the product, so each output is a dot product along the rows.
            product = Tensor(uninitializedShape: [rows, outFeatures])
            Kernels.gemmDotProducts(m: rows, n: outFeatures, k: inFeatures, a: pointer, lda: inFeatures, b: weight.pointer,
                                    ldb: inFeatures, c: product.pointer, ldc: outFeatures, accumulate: false)
        } else {
            product = Tensor.product(flat, transposeA: false, weight, transposeB: true)
        }
        if let bias {
            Kernels.binary(.add, product.pointer, bias.pointer, product.pointer,
                           layout: BroadcastLayout(shape: [rows, outFeatures], stridesA: [outFeatures, 1], stridesB: [0, 1]))
        }
        if fusingReLU { Kernels.unary(.relu, product.pointer, product.pointer, count: product.count) }
        let result = Tensor(shape: Array(shape.dropLast()) + [outFeatures], storage: product.storage)
        let inputShape = shape
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        let rectified: Tensor? = fusingReLU ? product : nil
        return record(fusingReLU ? "linear+relu" : "linear", result, inputs: inputs) { g, needs in
            var g2 = Tensor(shape: [rows, outFeatures], storage: g.storage)
            // Through a fused ReLU: the output is positive exactly where the affine map was.
            if let rectified { g2 = Tensor.fusedGradient(.reluBackward, g2, rectified) }
            let dx = needs[0] ? Tensor.product(g2, transposeA: false, weight, transposeB: false).reshaped(inputShape) : nil
            let dw = needs[1] ? Tensor.product(g2, transposeA: true, flat, transposeB: false) : nil
            let db = needs.count > 2 && needs[2] ? g2.sum(axes: [0]) : nil
            return [dx, dw, db]
        }
    }
}
