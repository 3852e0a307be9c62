"""The anchors script's sentiment CNN over several torch seeds, on its own split.

The anchor (../shared/anchors/torch_sequence_models.py sentiment) trains its Kim CNN once,
after torch.manual_seed(0). One seed says little on 600 test sentences (Synapse's seeds 0-4
range over five points), so this runs the anchor's own `train_cnn` on its own split after each
of the given seeds, and prints one line per seed.

Usage: /tmp/torch/bin/python Benchmarks/anchor_sentiment_seeds.py 0 1 2 3 4
"""
import sys

import torch

from anchor_sentiment import load

seeds = [int(s) for s in sys.argv[1:]] or [0]
anchor, y, toks, T, tr, te = load()
for seed in seeds:
    torch.manual_seed(seed)
    acc, spe, _ = anchor.train_cnn([toks[i] for i in tr], y[tr], [toks[i] for i in te], y[te], T, 2, 10)
    print(f"seed {seed}: cnn_test_acc={acc:.4f} s_per_epoch={spe:.2f}", flush=True)
