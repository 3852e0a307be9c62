"""The anchors script's nanoGPT task over several torch seeds.

The anchor (../shared/anchors/torch_sequence_models.py gpt) trains once, after
torch.manual_seed(0), and estimates validation loss from 20 random batches, so one run's figure
moves by a few hundredths with the seed. This runs the anchor's own `task_gpt` after each of the
given seeds (its manual_seed(0) call is redirected to the seed) and prints its lines per seed.

Usage: /tmp/torch/bin/python Benchmarks/anchor_gpt_seeds.py 0 1 2
"""
import argparse
import importlib.util
import sys

import torch

spec = importlib.util.spec_from_file_location("anchor", "../shared/anchors/torch_sequence_models.py")
anchor = importlib.util.module_from_spec(spec)
seeds = [int(s) for s in sys.argv[1:]] or [0]
sys.argv = sys.argv[:1] + ["gpt"]
spec.loader.exec_module(anchor)
torch.set_num_threads(2)
real_seed = torch.manual_seed
args = argparse.Namespace(quick=False, threads=2)
for seed in seeds:
    torch.manual_seed = lambda _ignored, seed=seed: real_seed(seed)
    print(f"seed {seed}:", flush=True)
    anchor.task_gpt(args)
torch.manual_seed = real_seed
