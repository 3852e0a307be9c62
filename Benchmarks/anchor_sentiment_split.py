"""Prints the test indices of the anchors script's sentiment split, one per line.

The pooled UCI sentences (amazon_cells, imdb, yelp, in that order, lines in file order) split
as ../shared/anchors/torch_sequence_models.py splits them: sklearn's train_test_split with
test_size=0.2, stratify=label, random_state=0. `synapse text train --test-indices FILE` then
tests on exactly the anchor's 600 sentences.

Usage: /tmp/torch/bin/python Benchmarks/anchor_sentiment_split.py > /tmp/anchor-test.txt
"""
import numpy as np
from sklearn.model_selection import train_test_split

DATA = "../shared/data/sentiment-labelled-sentences"
labels = []
for site in ("amazon_cells", "imdb", "yelp"):
    with open(f"{DATA}/{site}_labelled.txt", "rb") as f:
        for line in f.read().split(b"\n"):
            text = line.decode("utf-8", errors="replace").strip()
            if text:
                labels.append(int(text.rsplit("\t", 1)[1]))
y = np.array(labels)
_, test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
print("\n".join(str(i) for i in sorted(test)))
