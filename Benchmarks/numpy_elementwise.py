"""numpy reference for synapse-bench's elementwise rows. Prints one 'name seconds' line per row.

Each row is the best of `repeats` runs on float32 arrays of `count` elements, matching the Swift side.
Usage: python3 Benchmarks/numpy_elementwise.py [count] [repeats]
"""
import sys, time
import numpy as np

count = int(sys.argv[1]) if len(sys.argv) > 1 else 16 * 1024 * 1024
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
rng = np.random.default_rng(0)
a = rng.standard_normal(count, dtype=np.float32)
b = rng.standard_normal(count, dtype=np.float32)
out = np.empty_like(a)

def best(fn):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return min(times)

rows = {
    "memcpy": lambda: np.copyto(out, a),
    "add": lambda: a + b,
    "add_into": lambda: np.add(a, b, out=out),
    "mul": lambda: a * b,
    "exp": lambda: np.exp(a),
    "sum": lambda: a.sum(),
}
for name, fn in rows.items():
    print(name, f"{best(fn):.6f}", flush=True)
