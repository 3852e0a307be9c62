"""Paper estimate of data-parallel scaling past this machine (issue 17).

Each rank keeps its per-process batch (weak scaling, as `mpirun -np N … --distributed`), so
the compute of a step stays what one rank measured here, and a ring all-reduce moves
2(N - 1)/N of the gradient per rank in 2(N - 1) messages. Inputs: the gradient sizes
(parameters x 4 bytes) and the per-rank compute of a step measured by
Benchmarks/distributed_side_by_side.sh (epoch time x (1 - communication share) / steps of the
2-process run, one thread per rank). Links: 25 Gbit/s (3.125 GB/s), 10 us per message.
Synapse averages after backward (no overlap), so a step is compute + communication; the
last column is the bound with full overlap, max(compute, communication).

Usage: python3 Benchmarks/distributed_paper_estimate.py
"""

BANDWIDTH = 25e9 / 8  # bytes per second
LATENCY = 10e-6  # seconds per message

MODELS = [
    # name, parameters, per-rank batch, measured compute per step (s)
    ("mlp (Fashion-MNIST)", 235_146, 32, 0.50e-3),
    ("seed-cnn (Fashion-MNIST)", 804_554, 32, 3.7e-3),
    ("lstm-lm (tinyshakespeare)", 946_625, 16, 0.145),
]

print(f"{'model':26} {'MB/step':>8} {'ranks':>5} {'MB sent/rank':>12} {'comm ms':>8} {'step ms':>8} {'efficiency':>10} {'with overlap':>12}")
for name, parameters, batch, compute in MODELS:
    gradient = parameters * 4
    for ranks in (8, 64):
        volume = 2 * (ranks - 1) / ranks * gradient
        communication = volume / BANDWIDTH + 2 * (ranks - 1) * LATENCY
        step = compute + communication
        overlapped = max(compute, communication)
        print(f"{name:26} {gradient / 1e6:8.2f} {ranks:5d} {volume / 1e6:12.2f} {communication * 1e3:8.2f} {step * 1e3:8.2f} "
              f"{compute / step:10.0%} {compute / overlapped:12.0%}")
