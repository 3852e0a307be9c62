#!/usr/bin/env bash
# UPOS tagging on UD English EWT in Synapse (`synapse tag train`) and PyTorch (the anchors
# script's `tagger` task), alternating runs on the same machine, 2 threads each.
# Each round runs: the anchor; Synapse with the anchor's configuration (word embeddings only,
# BiLSTM 128 per direction, no dropout, Adam 1e-3, batch 32, 5 epochs) with and without
# length bucketing; and Synapse's default tagger (character CNN, dropout, Adam 3e-3, 10 epochs).
# Prints seconds per epoch, dev accuracy and the ratio of seconds per epoch to the anchor's.
# Usage: Benchmarks/tagger_side_by_side.sh [rounds] [python]   (SCRATCH=.build-native reuses a build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}; python=${2:-/tmp/torch/bin/python}
scratch=${SCRATCH:-.build}
data=../shared/data/ud-english-ewt
swift build -c release -Xcc -march=native --scratch-path "$scratch" --product synapse >/dev/null
synapse=$scratch/release/synapse
field() { tr ',{}' '\n\n\n' <<< "$1" | awk -F: -v key="\"$2\"" '$1 == key {print $2}'; }
anchor_config=(--character-filters 0 --dropout 0 --lr 1e-3 --batch-size 32 --epochs 5)
for round in $(seq "$rounds"); do
    line=$("$python" ../shared/anchors/torch_sequence_models.py tagger | grep '^tagger:')
    anchor=$(sed -n 's/.*s_per_epoch=\([0-9.]*\).*/\1/p' <<< "$line")
    printf 'round %s pytorch anchor:             s_per_epoch=%6.2f dev_acc=%s\n' "$round" "$anchor" \
        "$(sed -n 's/.* dev_acc=\([0-9.]*\).*/\1/p' <<< "$line")"
    for variant in "anchor config, bucketed" "anchor config, unbucketed" "default (char CNN)"; do
        case $variant in
            "anchor config, bucketed") flags=("${anchor_config[@]}") ;;
            "anchor config, unbucketed") flags=("${anchor_config[@]}" --no-bucket) ;;
            *) flags=() ;;
        esac
        result=$("$synapse" tag train --train $data/en_ewt-ud-train.conllu --dev $data/en_ewt-ud-dev.conllu \
            --threads 2 --json "${flags[@]}" | tail -1)
        seconds=$(field "$result" seconds_per_epoch)
        printf 'round %s synapse %-26s s_per_epoch=%6.2f dev_acc=%.4f mft_acc=%.4f ratio_to_anchor=%.2fx\n' "$round" "$variant:" \
            "$seconds" "$(field "$result" dev_accuracy)" "$(field "$result" most_frequent_tag_accuracy)" \
            "$(awk -v a="$seconds" -v b="$anchor" 'BEGIN {print a / b}')"
    done
done
