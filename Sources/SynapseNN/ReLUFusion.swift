// Running a ReLU, and a max pool after it, inside the kernel of the layer before them.

import SynapseCore

/// A layer whose kernel can apply the ReLU that follows it, while its output is still in the
/// cache: a `Sequential` running inference calls `callAsFunction(_:fusingReLU: true)` for such
/// a layer followed by `ReLU` and skips the ReLU, saving a pass over memory (for a batch of
/// convolution outputs larger than the cache, a third of the pair's time).
public protocol ReLUFusing: UnaryLayer {
    /// The layer's output, passed through ReLU when `fusingReLU` is true.
    func callAsFunction(_ input: Tensor, fusingReLU: Bool) -> Tensor
}

/// A convolution that can also fuse the max pooling after its ReLU, at inference: each image
/// is convolved, rectified and pooled while it is in the cache, and only the pooled planes
/// reach memory.
public protocol MaxPoolFusing: ReLUFusing {
    /// `pool(relu(self(input)))`, or `pool(self(input))` without `fusingReLU`, in one kernel.
    func callAsFunction(_ input: Tensor, fusingReLU: Bool, thenPooling pool: MaxPool2d) -> Tensor
}

extension Conv2d: MaxPoolFusing {
    public func callAsFunction(_ input: Tensor, fusingReLU: Bool, thenPooling pool: MaxPool2d) -> Tensor {
        input.conv2d(weight: weight, bias: bias?.value, stride: stride, padding: padding, dilation: dilation, groups: groups,
                     fusingReLU: fusingReLU, maxPool: (pool.kernelSize, pool.stride, pool.padding))
    }

    public func callAsFunction(_ input: Tensor, fusingReLU: Bool) -> Tensor {
        input.conv2d(weight: weight, bias: bias?.value, stride: stride, padding: padding, dilation: dilation, groups: groups,
                     fusingReLU: fusingReLU)
    }
}
