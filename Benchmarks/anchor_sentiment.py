"""The anchors script's sentiment task as a module: its code, the pooled UCI sentences and its split.

Shared by Benchmarks/anchor_sentiment_seeds.py and Benchmarks/anchor_sentiment_glove.py, which
run the anchor's Kim CNN on the anchor's own split (../shared/anchors/torch_sequence_models.py
sentiment: sklearn's train_test_split, test_size=0.2, stratified, random_state=0).
"""
import importlib.util
import sys

import numpy as np
import torch
from sklearn.model_selection import train_test_split


def load():
    """(anchor module, labels y, token lists, padded length T, train indices, test indices)."""
    spec = importlib.util.spec_from_file_location("anchor", "../shared/anchors/torch_sequence_models.py")
    anchor = importlib.util.module_from_spec(spec)
    arguments, sys.argv = sys.argv, sys.argv[:1] + ["sentiment"]
    spec.loader.exec_module(anchor)
    sys.argv = arguments
    torch.set_num_threads(2)
    texts, labels = [], []
    for site in ("amazon_cells", "imdb", "yelp"):
        t, l = anchor.read_labelled_lines(f"{anchor.DATA}/sentiment-labelled-sentences/{site}_labelled.txt")
        texts += t
        labels += l
    y = np.array([int(l) for l in labels])
    tokens = [anchor.tokenize(t) for t in texts]
    length = min(100, max(5, max(len(t) for t in tokens)))
    train, test = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=y, random_state=0)
    return anchor, y, tokens, length, train, test
