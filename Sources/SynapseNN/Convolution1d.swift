// 1-D convolution over [N, C, L] sequences, as torch.nn.Conv1d.

import SynapseCore

/// 1-D convolution, as `torch.nn.Conv1d`: input [N, in, L], weight [out, in / groups, k],
/// bias [out], output [N, out, L'] with L' = ⌊(L + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.
/// PyTorch's default initialization U(−1/√fanIn, 1/√fanIn), unless `initializer` chooses the
/// weight's; state_dict names `weight` and `bias`.
///
/// It runs on the 2-D convolution kernels as a height-1 image, so it shares their
/// vectorised, threaded forward and backward passes.
///
/// ```swift
/// let conv = Conv1d(128, 100, kernelSize: 3)
/// let features = conv(embedded.transposed(1, 2)).relu().max(axis: 2)   // max over time
/// ```
public final class Conv1d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    public let bias: Parameter?
    public let stride: Int, padding: Int, dilation: Int, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, initializer: Initializer? = nil) {
        require(inChannels > 0 && outChannels > 0 && groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                "Conv1d: \(inChannels) → \(outChannels) channels cannot be split into \(groups) groups")
        require(kernelSize > 0 && stride > 0 && dilation > 0, "Conv1d: kernel size, stride and dilation must be positive")
        switch padding {
        case .explicit(let left, let right):
            require(left >= 0 && left == right, "Conv1d: padding must be one non-negative size for both ends")
            self.padding = left
        case .valid:
            self.padding = 0
        case .same:
            let span = dilation * (kernelSize - 1)
            require(stride == 1 && span % 2 == 0, "Conv1d: padding \"same\" needs stride 1 and an odd dilated kernel size")
            self.padding = span / 2
        }
        self.stride = stride
        self.dilation = dilation
        self.groups = groups
        let bound = 1 / Float(inChannels / groups * kernelSize).squareRoot()
        _weight = Parameter((initializer ?? .uniform(bound: bound)).make([outChannels, inChannels / groups, kernelSize]))
        self.bias = bias ? Parameter(Initializer.uniform(bound: bound).make([outChannels])) : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        require(input.rank == 3, "Conv1d: input must be [N, C, L], got \(input.shape)")
        let (n, length) = (input.shape[0], input.shape[2])
        let w = weight.shape
        let output = input.reshaped([n, input.shape[1], 1, length])
            .conv2d(weight: weight.reshaped([w[0], w[1], 1, w[2]]), bias: bias?.value, stride: (1, stride),
                    padding: (0, padding), dilation: (1, dilation), groups: groups)
        return traced(output.reshaped([n, w[0], output.shape[3]]))
    }
}
