"""How far the anchors script's validation estimate for its nanoGPT model moves by chance.

The anchor (../shared/anchors/torch_sequence_models.py gpt), like nanoGPT, reports validation
loss as the mean over 20 random batches of 12 windows of 64 characters. This trains the
anchor's model exactly as its `task_gpt` does (torch seed 0, 2,000 steps, its schedule,
AdamW groups and clipping), then prints the loss over the whole validation split and the
spread of that 20-batch estimate over 200 draws, with the share of draws at or below 1.88
(nanoGPT's published figure for this configuration).

Usage: /tmp/torch/bin/python Benchmarks/anchor_gpt_estimates.py   (from the repository root; a few minutes)
"""
import importlib.util
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

spec = importlib.util.spec_from_file_location("anchor", "../shared/anchors/torch_sequence_models.py")
anchor = importlib.util.module_from_spec(spec)
sys.argv = sys.argv[:1] + ["gpt"]
spec.loader.exec_module(anchor)
torch.set_num_threads(2)

torch.manual_seed(0)
chars, train, val = anchor.shakespeare()
V, B, T, iterations = len(chars), 12, 64, 2000
warmup, lr_max, lr_min = iterations // 20, 1e-3, 1e-4


def learning_rate(step):
    if step < warmup:
        return lr_max * (step + 1) / (warmup + 1)
    ratio = (step - warmup) / (iterations - warmup)
    return lr_min + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr_max - lr_min)


model = anchor.GPT(V)
parameters = list(model.parameters())
optimizer = torch.optim.AdamW([{"params": [p for p in parameters if p.dim() >= 2], "weight_decay": 0.1},
                               {"params": [p for p in parameters if p.dim() < 2], "weight_decay": 0.0}],
                              lr=lr_max, betas=(0.9, 0.99))
for step in range(iterations):
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step)
    x, y = anchor.get_batch(train, B, T)
    loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()

model.eval()
with torch.no_grad():
    # The whole split in consecutive windows of 64: every character predicted once.
    windows = (len(val) - 1) // T
    xs, ys = val[:windows * T].view(windows, T), val[1:windows * T + 1].view(windows, T)
    total = sum(F.cross_entropy(model(xs[i:i + 256]).reshape(-1, V), ys[i:i + 256].reshape(-1), reduction="sum").item()
                for i in range(0, windows, 256))
    estimates = []
    for draw in range(200):
        torch.manual_seed(1000 + draw)
        estimates.append(np.mean([F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1)).item()
                                  for x, y in (anchor.get_batch(val, B, T) for _ in range(20))]))
estimates = np.array(estimates)
print(f"whole split {total / (windows * T):.4f}; 20-batch estimates over 200 draws: mean {estimates.mean():.4f} "
      f"sd {estimates.std():.4f} min {estimates.min():.4f} max {estimates.max():.4f} "
      f"share <= 1.88: {(estimates <= 1.88).mean():.3f}")
