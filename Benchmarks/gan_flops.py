"""Floating-point operations in one epoch of the anchor's DCGAN, counted by PyTorch.

torch.utils.flop_counter.FlopCounterMode counts the matrix products and convolutions (forward
and backward) of one training step of ../shared/anchors/torch_sequence_models.py gan: the
discriminator's stage (G(z), D on real and detached fake images, backward, all D's weight
gradients), then the generator's stage through the updated D, twice: as the anchor runs it
(its `loss_g.backward()` also computes D's weight gradients, which it throws away) and as
Synapse's trainer runs it (`backward(inputs:)` to G's parameters only). It prints both per
batch of 128 and per epoch of the `--quick` run's 6,000 images (46 batches of 128 and one of 112).

Usage: /tmp/torch/bin/python Benchmarks/gan_flops.py
"""
import importlib.util
import sys

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

spec = importlib.util.spec_from_file_location("anchor", "../shared/anchors/torch_sequence_models.py")
anchor = importlib.util.module_from_spec(spec)
sys.argv = sys.argv[:1] + ["gan"]
spec.loader.exec_module(anchor)
torch.set_num_threads(1)
G, D = anchor.Generator(), anchor.Discriminator()
bce = nn.BCEWithLogitsLoss()
real = torch.randn(128, 1, 28, 28)


def discriminator_stage():
    fake = G(torch.randn(128, 64))
    d_real, d_fake = D(real), D(fake.detach())
    (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))).backward()
    return fake


def generator_stage(fake, generator_only):
    out = D(fake)
    loss = bce(out, torch.ones_like(out))
    loss.backward(inputs=list(G.parameters())) if generator_only else loss.backward()


for name, generator_only in (("anchor", False), ("synapse", True)):
    with FlopCounterMode(display=False) as d_count:
        fake = discriminator_stage()
    with FlopCounterMode(display=False) as g_count:
        generator_stage(fake, generator_only)
    batch = d_count.get_total_flops() + g_count.get_total_flops()
    print(f"{name}: D stage {d_count.get_total_flops() / 1e9:.3f} GFLOP + G stage {g_count.get_total_flops() / 1e9:.3f} GFLOP "
          f"per batch of 128; {batch * (46 + 112 / 128) / 1e12:.4f} TFLOP per 6,000-image epoch")
