"""Writes recurrent.safetensors: PyTorch's outputs, final states and gradients for a 2-layer
bidirectional LSTM, a bidirectional GRU and a 2-layer RNN on a variable-length batch.

Run from the repository root: /tmp/torch/bin/python Tests/SynapseNNTests/Fixtures/make_recurrent_fixture.py
Each network's tensors are prefixed with its name: its parameters under PyTorch's state_dict
names, the inputs x, h0 (c0), the loss weights R (output), S (h_n), U (c_n), the results
output, h_n (c_n), and the gradients of loss = sum(output*R) + sum(h_n*S) [+ sum(c_n*U)] as
grad.<input or parameter name>. The lengths are in the metadata.
"""
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from safetensors.torch import save_file

torch.manual_seed(0)
lengths = [5, 2, 4]
tensors = {}


def run(name, net, batch_first):
    n, t, d = 3, 5, 2 if net.bidirectional else 1
    shape = (n, t, net.input_size) if batch_first else (t, n, net.input_size)
    x = torch.randn(shape, requires_grad=True)
    h0 = (0.5 * torch.randn(d * net.num_layers, n, net.hidden_size)).requires_grad_()
    is_lstm = isinstance(net, nn.LSTM)
    c0 = (0.5 * torch.randn(d * net.num_layers, n, net.hidden_size)).requires_grad_() if is_lstm else None
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    out, state = net(packed, (h0, c0) if is_lstm else h0)
    output, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=t)
    h_n, c_n = state if is_lstm else (state, None)
    R, S = torch.randn(output.shape), torch.randn(h_n.shape)
    loss = (output * R).sum() + (h_n * S).sum()
    if is_lstm:
        U = torch.randn(c_n.shape)
        loss = loss + (c_n * U).sum()
    loss.backward()
    record = {"x": x, "h0": h0, "R": R, "S": S, "output": output, "h_n": h_n,
              "grad.x": x.grad, "grad.h0": h0.grad}
    if is_lstm:
        record.update({"c0": c0, "U": U, "c_n": c_n, "grad.c0": c0.grad})
    for key, parameter in net.named_parameters():
        record[key] = parameter
        record["grad." + key] = parameter.grad
    for key, value in record.items():
        tensors[f"{name}.{key}"] = value.detach().contiguous().clone()


run("lstm", nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), True)
run("gru", nn.GRU(3, 4, bidirectional=True, batch_first=True), True)
run("rnn", nn.RNN(3, 4, num_layers=2), False)
save_file(tensors, "Tests/SynapseNNTests/Fixtures/recurrent.safetensors",
          metadata={"lengths": ",".join(map(str, lengths)), "made_by": "make_recurrent_fixture.py", "torch": torch.__version__})
