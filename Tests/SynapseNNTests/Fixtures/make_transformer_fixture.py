"""Writes transformer.safetensors: PyTorch nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerDecoderLayer outputs and gradients for SynapseNNTests.

Run from the repository root: /tmp/torch/bin/python Tests/SynapseNNTests/Fixtures/make_transformer_fixture.py
Each case's tensors are prefixed with its name: the module's parameters under their state_dict
names, its inputs, masks as float 0/1 (1 = True = masked out, PyTorch's boolean convention), the
loss weights R, the output, and grad.<input or parameter> of loss = sum(output * R). Dropout is 0
and the modules stay in training mode, so PyTorch takes its reference (not fast) path.
mha_self:  MultiheadAttention(8, 2), time-major x [5, 3, 8], key_padding_mask [3, 5], attn_mask [5, 5]
mha_cross: MultiheadAttention(8, 2, batch_first), query [3, 4, 8], memory [3, 6, 8] as key and value,
           key_padding_mask [3, 6]
enc_post:  TransformerEncoderLayer(8, 2, 16, dropout 0, batch_first), relu, src_key_padding_mask
enc_pre:   the same with norm_first and gelu, a causal src_mask
dec_post:  TransformerDecoderLayer(8, 2, 16, dropout 0, batch_first), causal tgt_mask, memory_key_padding_mask
dec_pre:   the same with norm_first and gelu
"""
import os
import torch
from torch import nn
from safetensors.torch import save_file

torch.manual_seed(0)
tensors = {}


def causal(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


def padding(batch, length, pads):
    mask = torch.zeros(batch, length, dtype=torch.bool)
    for b, count in enumerate(pads):
        if count:
            mask[b, length - count:] = True
    return mask


def record(name, module, inputs, masks, output):
    r = torch.randn(output.shape)
    (output * r).sum().backward()
    values = {"R": r, "output": output}
    for key, value in inputs.items():
        values[key] = value
        values["grad." + key] = value.grad
    for key, value in masks.items():
        values[key] = value.float()
    for key, parameter in module.named_parameters():
        values[key] = parameter
        values["grad." + key] = parameter.grad
    for key, value in values.items():
        tensors[f"{name}.{key}"] = value.detach().contiguous().clone()


mha = nn.MultiheadAttention(8, 2)
x = torch.randn(5, 3, 8, requires_grad=True)
kpm, am = padding(3, 5, [0, 2, 1]), causal(5)
out, _ = mha(x, x, x, key_padding_mask=kpm, attn_mask=am, need_weights=False)
record("mha_self", mha, {"x": x}, {"key_padding_mask": kpm, "attn_mask": am}, out)

mha = nn.MultiheadAttention(8, 2, batch_first=True)
query, memory = torch.randn(3, 4, 8, requires_grad=True), torch.randn(3, 6, 8, requires_grad=True)
kpm = padding(3, 6, [1, 0, 3])
out, _ = mha(query, memory, memory, key_padding_mask=kpm, need_weights=False)
record("mha_cross", mha, {"query": query, "memory": memory}, {"key_padding_mask": kpm}, out)

for name, norm_first, activation in [("enc_post", False, "relu"), ("enc_pre", True, "gelu")]:
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, batch_first=True,
                                       norm_first=norm_first)
    src = torch.randn(3, 5, 8, requires_grad=True)
    if norm_first:
        masks = {"src_mask": causal(5)}
        out = layer(src, src_mask=masks["src_mask"])
    else:
        masks = {"src_key_padding_mask": padding(3, 5, [0, 1, 2])}
        out = layer(src, src_key_padding_mask=masks["src_key_padding_mask"])
    record(name, layer, {"src": src}, masks, out)

for name, norm_first, activation in [("dec_post", False, "relu"), ("dec_pre", True, "gelu")]:
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation=activation, batch_first=True,
                                       norm_first=norm_first)
    tgt, memory = torch.randn(3, 4, 8, requires_grad=True), torch.randn(3, 6, 8, requires_grad=True)
    masks = {"tgt_mask": causal(4), "memory_key_padding_mask": padding(3, 6, [2, 0, 1])}
    out = layer(tgt, memory, tgt_mask=masks["tgt_mask"], memory_key_padding_mask=masks["memory_key_padding_mask"])
    record(name, layer, {"tgt": tgt, "memory": memory}, masks, out)

save_file(tensors, os.path.join(os.path.dirname(os.path.abspath(__file__)), "transformer.safetensors"))
