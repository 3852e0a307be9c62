"""The anchors script's sentiment CNN over several torch seeds, on its own split.

The anchor (../shared/anchors/torch_sequence_models.py sentiment) trains its Kim CNN once,
after torch.manual_seed(0). One seed says little on 600 test sentences (Synapse's seeds 0-4
range over five points), so this runs the anchor's own `train_cnn` on its own split after each
of the given seeds, and prints one line per seed.

Usage: /tmp/torch/bin/python Benchmarks/anchor_sentiment_seeds.py 0 1 2 3 4
"""
import importlib.util
import sys

import numpy as np
import torch
from sklearn.model_selection import train_test_split

spec = importlib.util.spec_from_file_location("anchor", "../shared/anchors/torch_sequence_models.py")
anchor = importlib.util.module_from_spec(spec)
sys.argv = sys.argv[:1] + ["sentiment"] + sys.argv[1:]
seeds = [int(s) for s in sys.argv[2:]] or [0]
spec.loader.exec_module(anchor)
torch.set_num_threads(2)
texts, labels = [], []
for site in ("amazon_cells", "imdb", "yelp"):
    t, l = anchor.read_labelled_lines(f"{anchor.DATA}/sentiment-labelled-sentences/{site}_labelled.txt")
    texts += t
    labels += l
y = np.array([int(l) for l in labels])
toks = [anchor.tokenize(t) for t in texts]
T = min(100, max(5, max(len(t) for t in toks)))
tr, te = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=y, random_state=0)
for seed in seeds:
    torch.manual_seed(seed)
    acc, spe, _ = anchor.train_cnn([toks[i] for i in tr], y[tr], [toks[i] for i in te], y[te], T, 2, 10)
    print(f"seed {seed}: cnn_test_acc={acc:.4f} s_per_epoch={spe:.2f}", flush=True)
