#!/bin/bash
# nanoGPT's shakespeare_char CPU configuration: the anchors script's `gpt` task beside
# `synapse lm train --model gpt` and `synapse generate` (cached, and uncached as the anchor
# generates), alternating, ROUNDS times. Run from the repository root after
#   swift build -c release -Xcc -march=native --scratch-path .build-native --product synapse
# Usage: Benchmarks/gpt_side_by_side.sh [ROUNDS] (default 2); PYTHON defaults to /tmp/torch/bin/python.
set -euo pipefail
ROUNDS=${1:-2}
PYTHON=${PYTHON:-/tmp/torch/bin/python}
SYNAPSE=${SYNAPSE:-.build-native/release/synapse}
TEXT=../shared/data/tinyshakespeare/input.txt
CHECKPOINT=$(mktemp -d)/gpt.safetensors
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round: anchor"
    "$PYTHON" ../shared/anchors/torch_sequence_models.py gpt | grep '^gpt:'
    echo "round $round: synapse"
    "$SYNAPSE" lm train --text "$TEXT" --model gpt --layers 4 --heads 4 --embedding 128 --context 64 --batch-size 12 \
        --steps 2000 --lr 1e-3 --warmup 100 --min-lr 1e-4 --weight-decay 0.1 --dropout 0 --save "$CHECKPOINT" --json | tail -1
    for flag in "" --no-cache; do
        "$SYNAPSE" generate --checkpoint "$CHECKPOINT" --tokens 500 --temperature 0.8 --top-k 200 --json $flag \
            | grep -o '"tokens_per_second":[0-9.]*' | sed "s/^/generate ${flag:-cached} /"
    done
done
