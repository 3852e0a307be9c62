"""Writes conv_transpose.safetensors: PyTorch nn.ConvTranspose2d outputs and gradients for SynapseNNTests.

Run from the repository root: /tmp/torch/bin/python Tests/SynapseNNTests/Fixtures/make_conv_transpose_fixture.py
For each case (prefix a, b, c): the parameters under their state_dict names, the input x, the
loss weights R, the output, and grad.x / grad.weight / grad.bias of loss = sum(output * R).
a: ConvTranspose2d(32, 16, 4, 2, 1) on [2, 32, 7, 7] (the geometry of the DCGAN generator's first upsampling)
b: ConvTranspose2d(6, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(2, 1), groups=2) on [2, 6, 5, 4]
c: ConvTranspose2d(3, 5, 1) on [2, 3, 4, 6] (pointwise)
"""
import os
import torch
from torch import nn
from safetensors.torch import save_file

torch.manual_seed(0)
tensors = {}
cases = [("a", nn.ConvTranspose2d(32, 16, 4, 2, 1), (2, 32, 7, 7)),
         ("b", nn.ConvTranspose2d(6, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(2, 1),
                                  groups=2), (2, 6, 5, 4)),
         ("c", nn.ConvTranspose2d(3, 5, 1), (2, 3, 4, 6))]
for name, conv, shape in cases:
    x = torch.randn(shape, requires_grad=True)
    out = conv(x)
    r = torch.randn(out.shape)
    (out * r).sum().backward()
    for key, value in conv.state_dict().items():
        tensors[f"{name}.{key}"] = value
    tensors.update({f"{name}.x": x.detach(), f"{name}.R": r, f"{name}.output": out.detach(),
                    f"{name}.grad.x": x.grad, f"{name}.grad.weight": conv.weight.grad, f"{name}.grad.bias": conv.bias.grad})
save_file({k: v.contiguous() for k, v in tensors.items()},
          os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_transpose.safetensors"))
