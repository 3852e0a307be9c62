#!/bin/bash
# Data-parallel training on one 2-core machine: `mpirun -np 2` with one kernel thread per
# process against one process with two threads, the same global batch, for the MLP and the
# seed CNN on Fashion-MNIST and the LSTM language model on tinyshakespeare. Alternates the
# two ROUNDS times and prints seconds per epoch (or per 100 steps), the ratio, and the share of
# the distributed run's training time its rank 0 spent in collectives. Run from the repository
# root after
#   swift build -c release -Xcc -march=native
# Usage: Benchmarks/distributed_side_by_side.sh [ROUNDS] (default 3) [mlp|seed-cnn|lstm …]
set -euo pipefail
ROUNDS=${1:-3}
shift || true
MODELS=${*:-mlp seed-cnn lstm}
SYNAPSE=${SYNAPSE:-.build/release/synapse}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN=(mpirun --oversubscribe --bind-to none -np 2)
TEXT=../shared/data/tinyshakespeare/input.txt

field() { grep -o "\"$1\":[0-9.e+-]*" | head -1 | cut -d: -f2; }

run() { # model, processes → "seconds communication_share"
    local model=$1 processes=$2 out
    local launch=("$SYNAPSE") per=$((64 / processes)) extra=(--threads 2)
    if [ "$processes" = 2 ]; then launch=("${MPIRUN[@]}" "$SYNAPSE"); extra=(--distributed); fi
    case $model in
        lstm)
            per=$((32 / processes))
            out=$("${launch[@]}" lm train --text "$TEXT" --model lstm --layers 2 --hidden 256 --embedding 128 --context 128 \
                  --batch-size $per --steps 100 --seed 0 --json "${extra[@]}" | tail -1)
            echo "$(echo "$out" | field seconds) $(echo "$out" | field communication_share)" ;;
        *)
            out=$("${launch[@]}" train --model "$model" --dataset fashion-mnist --epochs 1 --batch-size $per --lr 0.01 \
                  --seed 0 --json "${extra[@]}" | tail -1)
            echo "$(echo "$out" | field seconds_per_epoch) $(echo "$out" | field communication_share)" ;;
    esac
}

printf '%-9s %-6s %14s %14s %8s %14s\n' model round "1 proc×2 thr" "2 procs×1 thr" ratio communicating
for model in $MODELS; do
    for round in $(seq 1 "$ROUNDS"); do
        read -r single _ < <(run "$model" 1)
        read -r pair share < <(run "$model" 2)
        printf '%-9s %-6s %13.2fs %13.2fs %7.3f× %13.1f%%\n' "$model" "$round" "$single" "$pair" \
            "$(echo "$pair / $single" | bc -l)" "$(echo "${share:-0} * 100" | bc -l)"
    done
done
