"""PyTorch reference for synapse-bench's convolution rows. Prints 'name forward_ms train_ms' per row.

train_ms is forward + backward as in training: the first layer (image input) needs no input
gradient; the second computes input, weight and bias gradients. The convT rows are the DCGAN
generator's ConvTranspose2d layers (4×4, stride 2, padding 1, batch 128) with every gradient, the
s2 rows its discriminator's Conv2d layers (the same kernel, stride and padding).
Usage: python Benchmarks/torch_conv.py [rounds] [threads]
"""
import sys, time
import torch
import torch.nn.functional as F

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
threads = int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)

def best(fn, repeats):
    fn()
    result = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        result = min(result, (time.perf_counter() - t0) / repeats)
    return result

for name, (n, cin, cout, size, input_grad) in {
    "conv1x32_28": (64, 1, 32, 28, False),
    "conv32x64_14": (64, 32, 64, 14, True),
}.items():
    x = torch.randn(n, cin, size, size, requires_grad=input_grad)
    w = torch.randn(cout, cin, 3, 3, requires_grad=True)
    b = torch.randn(cout, requires_grad=True)
    dy = torch.randn(n, cout, size, size)
    def forward():
        with torch.no_grad():
            F.conv2d(x, w, b, padding=1)
    def train():
        y = F.conv2d(x, w, b, padding=1)
        y.backward(dy)
        w.grad = None; b.grad = None; x.grad = None
    print(name, f"{best(forward, 5) * 1e3:.4f}", f"{best(train, 5) * 1e3:.4f}", flush=True)

for name, (n, cin, cout, size, transposed) in {
    "convT128x64_7": (128, 128, 64, 7, True),
    "convT64x1_14": (128, 64, 1, 14, True),
    "conv1x64_28s2": (128, 1, 64, 28, False),
    "conv64x128_14s2": (128, 64, 128, 14, False),
}.items():
    layer = F.conv_transpose2d if transposed else F.conv2d
    x = torch.randn(n, cin, size, size, requires_grad=True)
    w = torch.randn(*((cin, cout) if transposed else (cout, cin)), 4, 4, requires_grad=True)
    b = torch.randn(cout, requires_grad=True)
    out = 2 * size if transposed else size // 2
    dy = torch.randn(n, cout, out, out)
    def forward():
        with torch.no_grad():
            layer(x, w, b, stride=2, padding=1)
    def train():
        y = layer(x, w, b, stride=2, padding=1)
        y.backward(dy)
        w.grad = None; b.grad = None; x.grad = None
    print(name, f"{best(forward, 5) * 1e3:.4f}", f"{best(train, 5) * 1e3:.4f}", flush=True)
