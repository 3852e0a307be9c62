// 2-D convolution over NCHW tensors, and its gradients.

import SynapseKernels

extension Tensor {
    /// 2-D cross-correlation, as `torch.nn.functional.conv2d`: self is [N, C, H, W], `weight` is
    /// [O, C / groups, kH, kW] and `bias` (optional) is [O]; the result is [N, O, H′, W′].
    /// With `fusingReLU` the result is `relu()` of that, applied inside the kernel while each
    /// image's output is in the cache, and differentiated as the two ops would be.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       dilation: (Int, Int) = (1, 1), groups: Int = 1, fusingReLU: Bool = false) -> Tensor {
        convolution(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                    fusingReLU: fusingReLU, maxPool: nil)
    }

    /// `conv2d(…).relu().maxPool2d(…)` (without the ReLU unless `fusingReLU`) as one kernel,
    /// for inference: each image is convolved, rectified and pooled while it is in the cache,
    /// and only the pooled planes reach memory. It records no gradient, so call it inside
    /// `withoutGradients` (a `Sequential` does so by itself at inference).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                       dilation: (Int, Int) = (1, 1), groups: Int = 1, fusingReLU: Bool,
                       maxPool: (kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int))) -> Tensor {
        require(!GradientMode.isEnabled || (!requiresGrad && !weight.requiresGrad && !(bias?.requiresGrad ?? false)),
                "conv2d with a fused max pool has no backward pass; call it inside withoutGradients")
        return convolution(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                           fusingReLU: fusingReLU, maxPool: maxPool)
    }

    private func convolution(weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
                             groups: Int, fusingReLU: Bool,
                             maxPool: (kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int))?) -> Tensor {
        let geometry = check { () throws(ShapeError) in
            try Shape.convolution(input: shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                  padding: padding, dilation: dilation, groups: groups)
        }
        let input = self
        var epilogue = ConvolutionEpilogue(rectify: fusingReLU)
        var outputShape = [geometry.batch, geometry.outChannels, geometry.outputHeight, geometry.outputWidth]
        if let maxPool {
            let pool = PoolingGeometry(planes: geometry.outChannels, height: geometry.outputHeight, width: geometry.outputWidth,
                                       kernelHeight: maxPool.kernelSize.0, kernelWidth: maxPool.kernelSize.1,
                                       strideY: maxPool.stride.0, strideX: maxPool.stride.1,
                                       paddingY: maxPool.padding.0, paddingX: maxPool.padding.1)
            require(pool.kernelHeight > 0 && pool.kernelWidth > 0 && pool.strideY > 0 && pool.strideX > 0
                    && pool.paddingY >= 0 && pool.paddingX >= 0 && 2 * pool.paddingY <= pool.kernelHeight
                    && 2 * pool.paddingX <= pool.kernelWidth && pool.outputHeight > 0 && pool.outputWidth > 0,
                    "conv2d: max pool \(maxPool) does not fit the \(geometry.outputHeight)×\(geometry.outputWidth) convolution output")
            epilogue.maxPool = pool
            outputShape = [geometry.batch, geometry.outChannels, pool.outputHeight, pool.outputWidth]
        }
        let result = Tensor(uninitializedShape: outputShape)
        withExtendedLifetime(bias) {
            Kernels.convolutionForward(geometry, input: pointer, weight: weight.pointer,
                                       bias: bias.map { UnsafePointer($0.pointer) }, output: result.pointer, epilogue: epilogue)
        }
        if maxPool != nil { return result }
        let inputs = [input, weight] + (bias.map { [$0] } ?? [])
        // The output's values without its graph node, which would hold the closure that holds it.
        let rectified: Tensor? = fusingReLU ? Tensor(shape: result.shape, storage: result.storage) : nil
        return record(fusingReLU ? "conv2d+relu" : "conv2d", result, inputs: inputs) { upstream, needs in
            // Through a fused ReLU: the output is positive exactly where the convolution was.
            let g = rectified.map { Tensor.fusedGradient(.reluBackward, upstream, $0) } ?? upstream
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
