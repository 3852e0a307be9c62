// Max and average pooling over NCHW tensors, and their gradients.

import SynapseKernels

extension Tensor {
    /// Max pooling over [N, C, H, W]; `stride` defaults to the kernel size. Padding counts as −∞.
    public func maxPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let geometry = poolingGeometry("maxPool2d", kernelSize: kernelSize, stride: stride, padding: padding)
        let result = Tensor(uninitializedShape: Array(shape.prefix(2)) + [geometry.outputHeight, geometry.outputWidth])
        guard GradientMode.isEnabled && requiresGrad else {
            // Nothing will go backward through this: the argmax indices are not needed.
            Kernels.maxPoolForward(geometry, input: pointer, output: result.pointer, indices: nil)
            return result
        }
        // The kernel writes every index, so the buffer is filled in place without zeroing first.
        let indices = [Int32](unsafeUninitializedCapacity: result.count) { index, initialized in
            if let base = index.baseAddress {
                Kernels.maxPoolForward(geometry, input: pointer, output: result.pointer, indices: base)
            }
            initialized = result.count
        }
        let inputShape = shape
        return record("maxPool2d", result, inputs: [self]) { g, _ in
            let dx = Tensor(uninitializedShape: inputShape)
            indices.withUnsafeBufferPointer { index in
                guard let base = index.baseAddress else { return }
                Kernels.maxPoolBackward(geometry, gradOutput: g.pointer, indices: base, gradInput: dx.pointer)
            }
            return [dx]
        }
    }

    /// Average pooling over [N, C, H, W]; `stride` defaults to the kernel size. Padded zeros
    /// count toward each average, as PyTorch's default.
    public func avgPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let geometry = poolingGeometry("avgPool2d", kernelSize: kernelSize, stride: stride, padding: padding)
        let result = Tensor(uninitializedShape: Array(shape.prefix(2)) + [geometry.outputHeight, geometry.outputWidth])
        Kernels.averagePoolForward(geometry, input: pointer, output: result.pointer)
        let inputShape = shape
        return record("avgPool2d", result, inputs: [self]) { g, _ in
            let dx = Tensor(uninitializedShape: inputShape)
            Kernels.averagePoolBackward(geometry, gradOutput: g.pointer, gradInput: dx.pointer)
            return [dx]
        }
    }

    private func poolingGeometry(_ op: String, kernelSize: (Int, Int), stride: (Int, Int)?, padding: (Int, Int)) -> PoolingGeometry {
        let stride = stride ?? kernelSize
        require(rank == 4, "\(op): input must be [N, C, H, W], got \(Shape.describe(shape))")
        require(kernelSize.0 > 0 && kernelSize.1 > 0 && stride.0 > 0 && stride.1 > 0,
                "\(op): kernel size and stride must be positive")
        require(padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernelSize.0 && 2 * padding.1 <= kernelSize.1,
                "\(op): padding \(padding.0)×\(padding.1) must be at most half the kernel \(kernelSize.0)×\(kernelSize.1)")
        let geometry = PoolingGeometry(planes: shape[0] * shape[1], height: shape[2], width: shape[3],
                                       kernelHeight: kernelSize.0, kernelWidth: kernelSize.1,
                                       strideY: stride.0, strideX: stride.1, paddingY: padding.0, paddingX: padding.1)
        require(geometry.outputHeight > 0 && geometry.outputWidth > 0,
                "\(op): kernel \(kernelSize.0)×\(kernelSize.1) does not fit input \(Shape.describe(shape))")
        return geometry
    }
}
