"""PyTorch reference for `synapse train --model seed-cnn|cnn` on Fashion-MNIST: the same networks,
optimizer, batch size, input normalization, augmentation and schedule, following the pattern of
../shared/anchors/torch_seed_models.py.

Prints one line per epoch (seconds, test accuracy), the 10,000-image inference time, and peak RSS.
Usage: python Benchmarks/torch_cnn.py [seed-cnn|cnn] [--epochs N] [--augment] [--cosine] [--ema-decay D] [--threads N]
"""
import argparse, gzip, os, resource, struct, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("model", choices=["seed-cnn", "cnn"])
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--augment", action="store_true", help="random flips and shifts of up to 2 pixels")
parser.add_argument("--cosine", action="store_true", help="cosine learning-rate annealing over the epochs")
parser.add_argument("--ema-decay", type=float, help="test with an exponential moving average of the weights, "
                    "decay min(D, (1 + n) / (10 + n)) at update n, as `synapse train --ema-decay`")
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
DATA = os.environ.get("FASHION_MNIST", "/usr/share/datasets/fashion-mnist")

def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic == 2051:
        r, c = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, r, c)
    return np.frombuffer(raw, np.uint8, offset=8)

xtr = torch.tensor(idx(f"{DATA}/train-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
ytr = torch.tensor(idx(f"{DATA}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
xte = torch.tensor(idx(f"{DATA}/t10k-images-idx3-ubyte.gz"), dtype=torch.float32) / 255.0
yte = torch.tensor(idx(f"{DATA}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
# Per-channel standardization with training-set statistics, as `synapse train` does.
mean, std = xtr.mean().item(), xtr.std(unbiased=False).item()

def seed_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 14 * 14, 128), nn.ReLU(), nn.Linear(128, 10))

def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

def augment(x):
    flip = torch.rand(len(x)) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2))
    out = torch.empty_like(x)
    offsets = torch.randint(0, 5, (len(x), 2))
    for i, (dy, dx) in enumerate(offsets.tolist()):
        out[i] = padded[i, :, dy:dy + 28, dx:dx + 28]
    return out

torch.manual_seed(0)
model = seed_cnn() if args.model == "seed-cnn" else cnn()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs) if args.cosine else None
params = list(model.parameters())
averages = [p.detach().clone() for p in params] if args.ema_decay is not None else None
updates = 0

def update_average():
    global updates
    decay = min(args.ema_decay, (1 + updates) / (10 + updates))
    updates += 1
    with torch.no_grad():
        torch._foreach_lerp_(averages, params, 1 - decay)

def swap_average():
    with torch.no_grad():
        for p, a in zip(params, averages):
            raw = p.detach().clone()
            p.copy_(a)
            a.copy_(raw)

def test():
    if averages:
        swap_average()
    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        pred = torch.cat([model((xte[i:i + 1000] - mean) / std).argmax(1) for i in range(0, len(xte), 1000)])
        seconds = time.perf_counter() - t0
    model.train()
    if averages:
        swap_average()
    return (pred == yte).float().mean().item(), seconds

print(f"torch {torch.__version__} threads={torch.get_num_threads()} model={args.model} augment={args.augment} cosine={args.cosine} ema_decay={args.ema_decay}", flush=True)
total_seconds = 0.0
for epoch in range(1, args.epochs + 1):
    t0 = time.perf_counter()
    perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 64):
        idxs = perm[i:i + 64]
        x = xtr[idxs]
        if args.augment:
            x = augment(x)
        opt.zero_grad()
        F.cross_entropy(model((x - mean) / std), ytr[idxs]).backward()
        opt.step()
        if averages:
            update_average()
    seconds = time.perf_counter() - t0
    total_seconds += seconds
    if schedule:
        schedule.step()
    accuracy, _ = test()
    print(f"epoch {epoch}: seconds={seconds:.2f} test_acc={accuracy:.4f}", flush=True)
accuracy, infer = test()
print(f"{args.model}: seconds_per_epoch={total_seconds / args.epochs:.2f} test_acc={accuracy:.4f} infer_s_10k={infer:.3f} "
      f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
