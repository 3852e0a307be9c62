// 2-D convolution over NCHW tensors, and its gradients.

import SynapseKernels

extension Tensor {
    /// 2-D cross-correlation, as `torch.nn.functional.conv2d`: self is [N, C, H, W], `weight` is
    /// [O, C / groups, kH, kW] and `bias` (optional) is [O]; the result is [N, O, H′, W′].
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let geometry = check { () throws(ShapeError) in
            try Shape.convolution(input: shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                  padding: padding, dilation: dilation, groups: groups)
        }
        let input = self
        let result = Tensor(uninitializedShape: [geometry.batch, geometry.outChannels, geometry.outputHeight, geometry.outputWidth])
        withExtendedLifetime(bias) {
            Kernels.convolutionForward(geometry, input: pointer, weight: weight.pointer,
                                       bias: bias.map { UnsafePointer($0.pointer) }, output: result.pointer)
        }
        let inputs = [input, weight] + (bias.map { [$0] } ?? [])
        return record("conv2d", result, inputs: inputs) { g, needs in
            var gradInput: Tensor?
            if needs[0] {
                let dx = Tensor(uninitializedShape: input.shape)
                Kernels.convolutionBackwardData(geometry, gradOutput: g.pointer, weight: weight.pointer, gradInput: dx.pointer)
                gradInput = dx
            }
            var gradWeight: Tensor?, gradBias: Tensor?
            if needs[1] || needs.count > 2 && needs[2] {
                let dw = Tensor(uninitializedShape: weight.shape)
                let db = needs.count > 2 && needs[2] ? Tensor(uninitializedShape: [geometry.outChannels]) : nil
                withExtendedLifetime(db) {
                    Kernels.convolutionBackwardWeight(geometry, input: input.pointer, gradOutput: g.pointer,
                                                      gradWeight: dw.pointer, gradBias: db?.pointer)
                }
                gradWeight = needs[1] ? dw : nil
                gradBias = db
            }
            return [gradInput, gradWeight, gradBias]
        }
    }
}

extension Shape {
    static func convolution(input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: (Int, Int),
                            dilation: (Int, Int), groups: Int) throws(ShapeError) -> ConvolutionGeometry {
        guard input.count == 4 else {
            throw ShapeError("conv2d: input must be [N, C, H, W], got \(describe(input))")
        }
        guard weight.count == 4 else {
            throw ShapeError("conv2d: weight must be [outChannels, inChannels / groups, kH, kW], got \(describe(weight))")
        }
        guard groups > 0, input[1] % groups == 0, weight[0] % groups == 0 else {
            throw ShapeError("conv2d: \(input[1]) input and \(weight[0]) output channels are not divisible into \(groups) groups")
        }
        guard weight[1] * groups == input[1] else {
            throw ShapeError("conv2d: weight \(describe(weight)) expects \(weight[1] * groups) input channels, input \(describe(input)) has \(input[1])")
        }
        guard stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            throw ShapeError("conv2d: stride and dilation must be positive and padding non-negative")
        }
        if let bias, bias != [weight[0]] {
            throw ShapeError("conv2d: bias must be [\(weight[0])], got \(describe(bias))")
        }
        let geometry = ConvolutionGeometry(
            batch: input[0], inChannels: input[1], outChannels: weight[0], height: input[2], width: input[3],
            kernelHeight: weight[2], kernelWidth: weight[3], strideY: stride.0, strideX: stride.1,
            paddingY: padding.0, paddingX: padding.1, dilationY: dilation.0, dilationX: dilation.1, groups: groups)
        guard geometry.outputHeight > 0, geometry.outputWidth > 0 else {
            throw ShapeError("conv2d: kernel \(weight[2])×\(weight[3]) (dilation \(dilation.0)×\(dilation.1)) does not fit input \(input[2])×\(input[3]) with padding \(padding.0)×\(padding.1)")
        }
        return geometry
    }
}
