// Layer normalization as one fused op (SynapseKernels/LayerNormalization.swift) instead of the
// ten broadcast ops of its composition.

import SynapseKernels

extension Tensor {
    /// Layer normalization over the trailing axes `normalizedShape`, as `F.layer_norm`:
    /// (x − mean) / √(variance + ε) · weight + bias, with the population variance of each slice.
    /// `weight` and `bias`, when given, have shape `normalizedShape`.
    public func layerNormalized(_ normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                                epsilon: Float = 1e-5) -> Tensor {
        let k = normalizedShape.count
        require(k > 0 && rank >= k && Array(shape.suffix(k)) == normalizedShape,
                "layerNormalized: input \(Shape.describe(shape)) does not end in \(Shape.describe(normalizedShape))")
        for (name, parameter) in [("weight", weight), ("bias", bias)] {
            if let parameter {
                require(parameter.shape == normalizedShape,
                        "layerNormalized: \(name) must be \(Shape.describe(normalizedShape)), got \(Shape.describe(parameter.shape))")
            }
        }
        let size = normalizedShape.reduce(1, *), rows = count / Swift.max(size, 1)
        let result = Tensor(uninitializedShape: shape)
        let mean = Tensor(uninitializedShape: [rows]), inverseDeviation = Tensor(uninitializedShape: [rows])
        Kernels.layerNorm(pointer, weight: weight.map { UnsafePointer($0.pointer) }, bias: bias.map { UnsafePointer($0.pointer) },
                          result.pointer, mean: mean.pointer, inverseDeviation: inverseDeviation.pointer,
                          rows: rows, size: size, epsilon: epsilon)
        let input = detached(), scale = weight?.detached()
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return record("layerNorm", result, inputs: inputs) { g, needs in
            let dx = Tensor(uninitializedShape: input.shape)
            let dWeight = weight != nil && needs[1] ? Tensor(uninitializedShape: normalizedShape) : nil
            let dBias = bias != nil && needs[inputs.count - 1] ? Tensor(uninitializedShape: normalizedShape) : nil
            Kernels.layerNormBackward(input.pointer, weight: scale.map { UnsafePointer($0.pointer) }, mean: mean.pointer,
                                      inverseDeviation: inverseDeviation.pointer, outputGradient: g.pointer,
                                      inputGradient: dx.pointer, weightGradient: dWeight?.pointer,
                                      biasGradient: dBias?.pointer, rows: rows, size: size)
            var gradients: [Tensor?] = [needs[0] ? dx : nil]
            if weight != nil { gradients.append(dWeight) }
            if bias != nil { gradients.append(dBias) }
            return gradients
        }
    }
}
