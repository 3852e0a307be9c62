// The transposed convolution layer: learned upsampling, as a GAN's generator uses.

import SynapseCore

/// 2-D transposed convolution, as `torch.nn.ConvTranspose2d`: weight [in, out / groups, kH, kW],
/// bias [out]. The output is (H − 1) · stride − 2 · padding + dilation · (kH − 1) +
/// outputPadding + 1 high (likewise wide). PyTorch's default initialization
/// U(−1/√fanIn, 1/√fanIn) for both, with fanIn = out / groups · kH · kW (PyTorch reads fan-in
/// from the weight's second axis), unless `initializer` chooses the weight's — DCGAN's
/// `.normal(standardDeviation: 0.02)`, for instance.
public final class ConvTranspose2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    public let bias: Parameter?
    public let stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int), groups: Int

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                            initializer: Initializer? = nil) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), outputPadding: (outputPadding, outputPadding),
                  dilation: (dilation, dilation), groups: groups, bias: bias, initializer: initializer)
    }

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                groups: Int = 1, bias: Bool = true, initializer: Initializer? = nil) {
        require(inChannels > 0 && outChannels > 0 && groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                "ConvTranspose2d: \(inChannels) → \(outChannels) channels cannot be split into \(groups) groups")
        require(kernelSize.0 > 0 && kernelSize.1 > 0 && stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
                "ConvTranspose2d: kernel size, stride and dilation must be positive")
        require(padding.0 >= 0 && padding.1 >= 0, "ConvTranspose2d: padding must be non-negative")
        require(outputPadding.0 >= 0 && outputPadding.1 >= 0 && outputPadding.0 < stride.0 && outputPadding.1 < stride.1,
                "ConvTranspose2d: output padding must be non-negative and smaller than the stride")
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        let fanIn = outChannels / groups * kernelSize.0 * kernelSize.1
        let bound = 1 / Float(fanIn).squareRoot()
        _weight = Parameter((initializer ?? .uniform(bound: bound)).make([inChannels, outChannels / groups, kernelSize.0, kernelSize.1]))
        self.bias = bias ? Parameter(Initializer.uniform(bound: bound).make([outChannels])) : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.convTranspose2d(weight: weight, bias: bias?.value, stride: stride, padding: padding,
                              outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}
