"""Writes conv1d.safetensors: PyTorch nn.Conv1d outputs and gradients for SynapseNNTests.

Run from the repository root: /tmp/torch/bin/python Tests/SynapseNNTests/Fixtures/make_conv1d_fixture.py
For each case (prefix a, b): the parameters under their state_dict names, the input x, the
loss weights R, the output, and grad.x / grad.weight / grad.bias of loss = sum(output * R).
a: Conv1d(6, 4, 3, stride=2, padding=1, groups=2) on [2, 6, 9]
b: Conv1d(5, 3, 4, dilation=2, padding=0) on [3, 5, 12]
"""
import os
import torch
from torch import nn
from safetensors.torch import save_file

torch.manual_seed(0)
tensors = {}
for name, conv, shape in [("a", nn.Conv1d(6, 4, 3, stride=2, padding=1, groups=2), (2, 6, 9)),
                          ("b", nn.Conv1d(5, 3, 4, dilation=2), (3, 5, 12))]:
    x = torch.randn(shape, requires_grad=True)
    out = conv(x)
    r = torch.randn(out.shape)
    (out * r).sum().backward()
    for key, value in conv.state_dict().items():
        tensors[f"{name}.{key}"] = value
    tensors.update({f"{name}.x": x.detach(), f"{name}.R": r, f"{name}.output": out.detach(),
                    f"{name}.grad.x": x.grad, f"{name}.grad.weight": conv.weight.grad, f"{name}.grad.bias": conv.bias.grad})
save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv1d.safetensors"))
