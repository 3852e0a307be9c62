"""Writes tiny.safetensors, the fixture SafeTensorsTests reads.

Run with a Python that has torch and safetensors:  python make_fixture.py
The tensors are a PyTorch nn.Linear(3, 2) state_dict with fixed values, plus one float64
and one int64 tensor to exercise dtype conversion.
"""
import torch
from safetensors.torch import save_file

linear = torch.nn.Linear(3, 2)
with torch.no_grad():
    linear.weight.copy_(torch.tensor([[0.5, -1.25, 2.0], [3.0, 0.125, -0.75]]))
    linear.bias.copy_(torch.tensor([0.1, -0.2]))
tensors = dict(linear.state_dict())
tensors["extra.float64"] = torch.tensor([1.5, -2.5], dtype=torch.float64)
tensors["extra.int64"] = torch.tensor([[7, -3]], dtype=torch.int64)
save_file(tensors, "tiny.safetensors", metadata={"made_by": "make_fixture.py"})
