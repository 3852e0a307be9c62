#!/usr/bin/env bash
# Fashion-MNIST CNNs in Synapse and PyTorch (Benchmarks/torch_cnn.py), alternating runs on the
# same machine with the same model, optimizer (SGD 0.01, momentum 0.9), batch 64 and 2 threads.
# Prints per run: seconds per epoch, test accuracy, inference time over the 10,000 test images
# and peak RSS. Needs dataset-fashion-mnist and torch (see README).
# Peak RSS is /usr/bin/time's for Synapse and getrusage's for the Python process.
# Usage: Benchmarks/cnn_side_by_side.sh [seed-cnn|cnn] [epochs] [rounds] [python]
# SCRATCH=.build-native reuses another build directory; EMA_DECAY=0.999 tests both with an
# exponential moving average of the weights (synapse train --ema-decay, torch_cnn.py --ema-decay).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-seed-cnn}; epochs=${2:-1}; rounds=${3:-2}; python=${4:-/tmp/torch/bin/python}
scratch=${SCRATCH:-.build}
ema=()
if [[ -n ${EMA_DECAY:-} ]]; then ema=(--ema-decay "$EMA_DECAY"); fi
swift build -c release -Xcc -march=native --scratch-path "$scratch" --product synapse >/dev/null
synapse=$scratch/release/synapse
checkpoint=$(mktemp --suffix=.safetensors)
trap 'rm -f "$checkpoint"' EXIT
rss() { awk '/Maximum resident/ {printf "%.0f MB", $6 / 1024}' "$1"; }
field() { tr ',{}' '\n\n\n' < "$1" | awk -F: -v key="\"$2\"" '$1 == key {print $2}'; }
for round in $(seq "$rounds"); do
    /usr/bin/time -v "$synapse" train --model "$model" --dataset fashion-mnist --epochs "$epochs" --batch-size 64 \
        --optimizer sgd --lr 0.01 --momentum 0.9 --seed 0 --threads 2 "${ema[@]}" --save "$checkpoint" --json \
        2>/tmp/synapse-time.txt | tail -1 > /tmp/synapse-train.json
    "$synapse" evaluate --checkpoint "$checkpoint" --threads 2 --json | tail -1 > /tmp/synapse-evaluate.json
    printf 'round %s synapse: seconds_per_epoch=%.2f test_acc=%.4f infer_s_10k=%.3f peak_rss=%s\n' "$round" \
        "$(field /tmp/synapse-train.json seconds_per_epoch)" "$(field /tmp/synapse-train.json test_accuracy)" \
        "$(field /tmp/synapse-evaluate.json seconds)" "$(rss /tmp/synapse-time.txt)"
    "$python" Benchmarks/torch_cnn.py "$model" --epochs "$epochs" --threads 2 "${ema[@]}" | grep "^$model:" \
        | sed -e "s/^$model:/round $round pytorch:/" -e 's/peak_rss_mb=\([0-9]*\)/peak_rss=\1 MB/' 
done
