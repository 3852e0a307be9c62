// Convolution, pooling and 2-D normalization layers over NCHW tensors.

import Foundation
import SynapseCore

/// Zero padding of a convolution: explicit sizes, `.valid` (none) or `.same` (output as
/// large as the input; stride 1 and an odd dilated kernel). An integer literal pads both sides
/// of both axes by that much.
public enum Padding: Sendable, Equatable, ExpressibleByIntegerLiteral {
    case explicit(Int, Int)
    case valid
    case same

    public init(integerLiteral value: Int) { self = .explicit(value, value) }
}

/// 2-D convolution, as `torch.nn.Conv2d`: weight [out, in / groups, kH, kW], bias [out];
/// PyTorch's default initialization U(−1/√fanIn, 1/√fanIn) for both, unless `initializer`
/// chooses the weight's.
public final class Conv2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    public let bias: Parameter?
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, initializer: Initializer? = nil) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: padding, dilation: (dilation, dilation), groups: groups, bias: bias, initializer: initializer)
    }

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: Padding = .valid, dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                initializer: Initializer? = nil) {
        require(inChannels > 0 && outChannels > 0 && groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                "Conv2d: \(inChannels) → \(outChannels) channels cannot be split into \(groups) groups")
        require(kernelSize.0 > 0 && kernelSize.1 > 0 && stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
                "Conv2d: kernel size, stride and dilation must be positive")
        switch padding {
        case .explicit(let y, let x):
            require(y >= 0 && x >= 0, "Conv2d: padding must be non-negative")
            self.padding = (y, x)
        case .valid:
            self.padding = (0, 0)
        case .same:
            let span = (dilation.0 * (kernelSize.0 - 1), dilation.1 * (kernelSize.1 - 1))
            require(stride == (1, 1) && span.0 % 2 == 0 && span.1 % 2 == 0,
                    "Conv2d: padding \"same\" needs stride 1 and an odd dilated kernel size")
            self.padding = (span.0 / 2, span.1 / 2)
        }
        self.stride = stride
        self.dilation = dilation
        self.groups = groups
        let fanIn = inChannels / groups * kernelSize.0 * kernelSize.1
        let bound = 1 / Float(fanIn).squareRoot()
        _weight = Parameter((initializer ?? .uniform(bound: bound)).make([outChannels, inChannels / groups, kernelSize.0, kernelSize.1]))
        self.bias = bias ? Parameter(Initializer.uniform(bound: bound).make([outChannels])) : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        callAsFunction(input, fusingReLU: false)
    }
}

/// The window of a square pooling layer; the stride defaults to the kernel size.
public class Pool2d: Module {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }
}

/// Max pooling.
public final class MaxPool2d: Pool2d, UnaryLayer {
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling (padding counts toward the average).
public final class AvgPool2d: Pool2d, UnaryLayer {
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling to a fixed output size; (1, 1) is global average pooling. The input's
/// height and width must be multiples of the output's.
public final class AdaptiveAvgPool2d: Module, UnaryLayer {
    public let outputSize: (Int, Int)
    public init(_ outputSize: (Int, Int) = (1, 1)) { self.outputSize = outputSize }
    public func callAsFunction(_ input: Tensor) -> Tensor {
        require(input.rank == 4 && input.shape[2] % outputSize.0 == 0 && input.shape[3] % outputSize.1 == 0,
                "AdaptiveAvgPool2d: input \(input.shape) does not divide into \(outputSize.0)×\(outputSize.1)")
        if outputSize == (1, 1) { return input.mean(axes: [2, 3], keepDims: true) }
        let window = (input.shape[2] / outputSize.0, input.shape[3] / outputSize.1)
        return input.avgPool2d(kernelSize: window, stride: window)
    }
}

/// Batch normalization over [N, C, H, W] (PyTorch's `BatchNorm2d`): per-channel statistics
/// over batch and space.
public final class BatchNorm2d: BatchNorm, UnaryLayer {
    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        super.init(channels, epsilon: epsilon, momentum: momentum, op: "BatchNorm2d")
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let channels = weight.shape[0]
        require(input.rank == 4 && input.shape[1] == channels, "BatchNorm2d: expected input [N, \(channels), H, W], got \(input.shape)")
        return normalize(input, op: "BatchNorm2d")
    }
}

/// Zeroes whole channels of [N, C, H, W] with probability `p` in training mode, scaling the
/// rest by 1 / (1 − p) (PyTorch's `Dropout2d`).
public final class Dropout2d: Module, UnaryLayer {
    public let p: Float
    public init(p: Float = 0.5) {
        require(p >= 0 && p < 1, "Dropout2d: p must be in [0, 1), got \(p)")
        self.p = p
    }
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining, p > 0 else { return input }
        require(input.rank == 4, "Dropout2d: expected input [N, C, H, W], got \(input.shape)")
        let keep = Tensor.uniform([input.shape[0], input.shape[1], 1, 1]) .>= p
        return input * (keep / (1 - p))
    }
}
