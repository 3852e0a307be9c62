"""PyTorch reference for synapse-bench's attention rows. Prints 'name forward_ms train_ms' per row.

Each row is torch.nn.functional.scaled_dot_product_attention on random [B, H, T, D] query, key
and value (float32, contiguous), causal or not, no mask, no dropout. Forward runs under no_grad;
train is forward + backward(dy) with gradients for all three inputs. On the CPU PyTorch picks
its flash-attention kernel for these inputs.
Usage: python Benchmarks/torch_attention.py [rounds] [threads]
"""
import sys, time
import torch
import torch.nn.functional as F

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
threads = int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)

BATCH, HEADS = 4, 4

def best(fn, repeats):
    fn()
    result = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        result = min(result, (time.perf_counter() - t0) / repeats)
    return result

for steps in (64, 256, 1024):
    for depth in (32, 64):
        for causal in (False, True):
            name = f"attention_T{steps}_D{depth}_{'causal' if causal else 'full'}"
            q, k, v = (torch.randn(BATCH, HEADS, steps, depth, requires_grad=True) for _ in range(3))
            dy = torch.randn(BATCH, HEADS, steps, depth)
            repeats = max(1, 2 ** 20 // (steps * steps))
            def forward():
                with torch.no_grad():
                    F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            def train():
                F.scaled_dot_product_attention(q, k, v, is_causal=causal).backward(dy)
                q.grad = k.grad = v.grad = None
            print(name, f"{best(forward, repeats) * 1e3:.4f}", f"{best(train, repeats) * 1e3:.4f}", flush=True)
