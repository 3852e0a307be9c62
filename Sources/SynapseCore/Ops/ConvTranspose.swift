// 2-D transposed convolution over NCHW tensors, and its gradients. It is the adjoint of a
// convolution, so it runs on the convolution kernels with their roles exchanged: its forward
// is a convolution's input gradient, its input gradient is a convolution's forward, and its
// weight gradient is a convolution's weight gradient with input and output swapped.

import SynapseKernels

extension Tensor {
    /// 2-D transposed convolution, as `torch.nn.functional.conv_transpose2d`: self is
    /// [N, C, H, W], `weight` is [C, O / groups, kH, kW] and `bias` (optional) is [O]; the result
    /// is [N, O, H′, W′] with H′ = (H − 1) · stride − 2 · padding + dilation · (kH − 1) +
    /// outputPadding + 1 (likewise W′). `outputPadding` must be smaller than the stride.
    public func convTranspose2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let geometry = check { () throws(ShapeError) in
            try Shape.transposedConvolution(input: shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                            padding: padding, outputPadding: outputPadding, dilation: dilation,
                                            groups: groups)
        }
        // `geometry` describes the convolution this op is the adjoint of: its input is our
        // output [N, O, H′, W′] and its output is our input [N, C, H, W].
        let input = self, plane = geometry.height * geometry.width
        let result = Tensor(uninitializedShape: [geometry.batch, geometry.inChannels, geometry.height, geometry.width])
        Kernels.convolutionBackwardData(geometry, gradOutput: pointer, weight: weight.pointer, gradInput: result.pointer)
        if let bias {
            Kernels.binary(.add, result.pointer, bias.pointer, result.pointer,
                           layout: BroadcastLayout(shape: [geometry.batch, geometry.inChannels, plane],
                                                   stridesA: [geometry.inChannels * plane, plane, 1], stridesB: [0, 1, 0]))
        }
        let inputs = [input, weight] + (bias.map { [$0] } ?? [])
        return record("convTranspose2d", result, inputs: inputs) { g, needs in
            var gradInput: Tensor?, gradWeight: Tensor?, gradBias: Tensor?
            if needs[0] {
                let dx = Tensor(uninitializedShape: input.shape)
                Kernels.convolutionForward(geometry, input: g.pointer, weight: weight.pointer, bias: nil, output: dx.pointer)
                gradInput = dx
            }
            if needs[1] {
                let dw = Tensor(uninitializedShape: weight.shape)
                Kernels.convolutionBackwardWeight(geometry, input: g.pointer, gradOutput: input.pointer,
                                                  gradWeight: dw.pointer, gradBias: nil)
                gradWeight = dw
            }
            if needs.count > 2 && needs[2] { gradBias = g.sum(axes: [0, 2, 3]) }
            return [gradInput, gradWeight, gradBias]
        }
    }
}

extension Shape {
    /// The convolution whose input gradient is this transposed convolution.
    static func transposedConvolution(input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: (Int, Int),
                                      outputPadding: (Int, Int), dilation: (Int, Int),
                                      groups: Int) throws(ShapeError) -> ConvolutionGeometry {
        let op = "convTranspose2d"
        guard input.count == 4 else { throw ShapeError("\(op): input must be [N, C, H, W], got \(describe(input))") }
        guard weight.count == 4 else {
            throw ShapeError("\(op): weight must be [inChannels, outChannels / groups, kH, kW], got \(describe(weight))")
        }
        guard weight[0] == input[1] else {
            throw ShapeError("\(op): weight \(describe(weight)) expects \(weight[0]) input channels, input \(describe(input)) has \(input[1])")
        }
        guard groups > 0, input[1] % groups == 0 else {
            throw ShapeError("\(op): \(input[1]) input channels are not divisible into \(groups) groups")
        }
        guard stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            throw ShapeError("\(op): stride and dilation must be positive and padding non-negative")
        }
        guard outputPadding.0 >= 0, outputPadding.1 >= 0, outputPadding.0 < stride.0, outputPadding.1 < stride.1 else {
            throw ShapeError("\(op): output padding \(outputPadding.0)×\(outputPadding.1) must be non-negative and smaller than the stride \(stride.0)×\(stride.1)")
        }
        let outChannels = weight[1] * groups
        if let bias, bias != [outChannels] {
            throw ShapeError("\(op): bias must be [\(outChannels)], got \(describe(bias))")
        }
        let height = (input[2] - 1) * stride.0 - 2 * padding.0 + dilation.0 * (weight[2] - 1) + outputPadding.0 + 1
        let width = (input[3] - 1) * stride.1 - 2 * padding.1 + dilation.1 * (weight[3] - 1) + outputPadding.1 + 1
        guard input[2] > 0, input[3] > 0, height > 0, width > 0 else {
            throw ShapeError("\(op): input \(describe(input)) with kernel \(weight[2])×\(weight[3]), stride \(stride.0)×\(stride.1) and padding \(padding.0)×\(padding.1) gives an empty \(height)×\(width) output")
        }
        let geometry = ConvolutionGeometry(
            batch: input[0], inChannels: outChannels, outChannels: input[1], height: height, width: width,
            kernelHeight: weight[2], kernelWidth: weight[3], strideY: stride.0, strideX: stride.1,
            paddingY: padding.0, paddingX: padding.1, dilationY: dilation.0, dilationX: dilation.1, groups: groups)
        assert(geometry.outputHeight == input[2] && geometry.outputWidth == input[3])
        return geometry
    }
}
