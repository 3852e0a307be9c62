"""The anchors script's Kim CNN with its embeddings started from GloVe, as `synapse text train --embeddings` does.

PyTorch's side of the pretrained-vector comparison: the anchor's own KimCNN, split, tokenizer and
training loop (../shared/anchors/torch_sequence_models.py sentiment: Adam 1e-3, batch 50, 10
epochs), with the embedding width set to the vectors' (50) and the table started as Synapse
starts it: the training words, then the vector file's first 50,000 words not among them;
a word's GloVe vector where the file has it, else U(-a, a) with a = sqrt(3) * std of all the
vectors; zeros for padding; trained with the rest (Kim's CNN-non-static). One line per seed.

Usage: /tmp/torch/bin/python Benchmarks/anchor_sentiment_glove.py GLOVE_TXT [seed ...]
       (Benchmarks/glove_text.py writes GLOVE_TXT)
"""
import sys
import time
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from anchor_sentiment import load

glove_path, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]] or [0]
anchor, y, toks, T, tr, te = load()

words, rows = [], []
with open(glove_path, encoding="utf-8") as f:
    for line in f:
        parts = line.rstrip("\n").split(" ")
        words.append(parts[0])
        rows.append(np.array(parts[1:], dtype=np.float32))
vectors = np.stack(rows)
row_of = {w: i for i, w in enumerate(words)}
bound = 3 ** 0.5 * vectors.std()

for seed in seeds:
    torch.manual_seed(seed)
    counts = Counter(t for i in tr for t in toks[i])
    vocabulary = sorted(counts) + [w for w in words[:50000] if w not in counts]
    stoi = {w: i + 2 for i, w in enumerate(vocabulary)}

    def encode(indices):
        x = torch.zeros(len(indices), T, dtype=torch.long)
        for r, i in enumerate(indices):
            ids = [stoi.get(t, 1) for t in toks[i][:T]]
            x[r, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        return x

    model = anchor.KimCNN(len(stoi) + 2, 2)
    width = vectors.shape[1]
    model.emb = nn.Embedding(len(stoi) + 2, width, padding_idx=0)
    model.convs = nn.ModuleList([nn.Conv1d(width, 100, k) for k in (3, 4, 5)])
    with torch.no_grad():
        table = model.emb.weight
        table.uniform_(-bound, bound)
        for w, i in stoi.items():
            if w in row_of:
                table[i] = torch.from_numpy(vectors[row_of[w]])
        table[0] = 0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xtr, xte, ytr, yte = encode(tr), encode(te), torch.tensor(y[tr]), torch.tensor(y[te])
    t0 = time.perf_counter()
    for _ in range(10):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 50):
            idx = perm[i:i + 50]
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    seconds = (time.perf_counter() - t0) / 10
    model.eval()
    with torch.no_grad():
        accuracy = (model(xte).argmax(1) == yte).float().mean().item()
    print(f"seed {seed}: cnn_glove_test_acc={accuracy:.4f} s_per_epoch={seconds:.2f} vocabulary={len(stoi) + 2}", flush=True)
