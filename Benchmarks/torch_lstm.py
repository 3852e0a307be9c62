"""PyTorch reference for synapse-bench's LSTM rows. Prints 'name forward_ms train_ms' per row.

Each row is nn.LSTM(batch_first=True) on a random [N, T, in] input with zero initial states;
forward runs under no_grad, train is forward + backward(dy) with input and weight gradients,
as in training a model whose input is an embedding.
Usage: python Benchmarks/torch_lstm.py [rounds] [threads]
"""
import sys, time
import torch

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
threads = int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)

def best(fn, repeats=2):
    fn()
    result = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        result = min(result, (time.perf_counter() - t0) / repeats)
    return result

for name, (steps, batch, features, hidden, layers) in {
    "lstm_T128_B32_in128_H256_L2": (128, 32, 128, 256, 2),
    "lstm_T64_B32_in64_H256_L1": (64, 32, 64, 256, 1),
}.items():
    lstm = torch.nn.LSTM(features, hidden, num_layers=layers, batch_first=True)
    x = torch.randn(batch, steps, features, requires_grad=True)
    dy = torch.randn(batch, steps, hidden)
    def forward():
        with torch.no_grad():
            lstm(x)
    def train():
        out, _ = lstm(x)
        out.backward(dy)
        lstm.zero_grad(); x.grad = None
    print(name, f"{best(forward) * 1e3:.4f}", f"{best(train) * 1e3:.4f}", flush=True)
