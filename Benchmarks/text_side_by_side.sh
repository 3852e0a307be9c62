#!/usr/bin/env bash
# Sentence classification on the pooled UCI sentences in Synapse (`synapse text train`) and
# PyTorch (the anchors script's `sentiment` task), alternating runs on the same machine, 2
# threads each, on the anchor's own split (Benchmarks/anchor_sentiment_split.py). Each round
# runs the anchor, then Synapse's Kim CNN with the anchor's configuration (embedding 128,
# widths 3/4/5 × 100 maps, dropout 0.5, Adam 1e-3, batch 50, 10 epochs), plainly shuffled
# and bucketed, and, when GLOVE names a GloVe text file (Benchmarks/glove_text.py writes one),
# the same CNN with its embeddings started from those vectors (`--embeddings`, Kim's
# CNN-non-static). Prints seconds per epoch, test accuracy and the ratio to the anchor's CNN.
# Usage: [GLOVE=/tmp/glove.6B.50d.txt] Benchmarks/text_side_by_side.sh [rounds] [python]   (SCRATCH=.build-native reuses a build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}; python=${2:-/tmp/torch/bin/python}
scratch=${SCRATCH:-.build}
data=../shared/data/sentiment-labelled-sentences
swift build -c release -Xcc -march=native --scratch-path "$scratch" --product synapse >/dev/null
synapse=$scratch/release/synapse
split=$(mktemp)
trap 'rm -f "$split"' EXIT
"$python" Benchmarks/anchor_sentiment_split.py > "$split"
field() { tr ',{}' '\n\n\n' <<< "$1" | awk -F: -v key="\"$2\"" '$1 == key {print $2}'; }
for round in $(seq "$rounds"); do
    line=$("$python" ../shared/anchors/torch_sequence_models.py sentiment | grep '^sentiment:')
    anchor=$(sed -n 's/.*s_per_epoch=\([0-9.]*\).*/\1/p' <<< "$line")
    printf 'round %s pytorch anchor CNN:  s_per_epoch=%5.2f test_acc=%s tfidf_lr_test_acc=%s\n' "$round" "$anchor" \
        "$(sed -n 's/.*cnn_test_acc=\([0-9.]*\).*/\1/p' <<< "$line")" "$(sed -n 's/.*tfidf_lr_test_acc=\([0-9.]*\).*/\1/p' <<< "$line")"
    configurations=(--no-bucket --bucket)
    [[ -n ${GLOVE:-} ]] && configurations+=("--embeddings $GLOVE")
    for flag in "${configurations[@]}"; do
        # $flag is unquoted on purpose: "--embeddings PATH" is two arguments.
        result=$("$synapse" text train --data $data/amazon_cells_labelled.txt --data $data/imdb_labelled.txt \
            --data $data/yelp_labelled.txt --test-indices "$split" --threads 2 --json $flag | tail -1)
        seconds=$(field "$result" seconds_per_epoch)
        [[ $flag == --embeddings* ]] && flag=--embeddings
        printf 'round %s synapse CNN %-12s s_per_epoch=%5.2f test_acc=%.4f ratio_to_anchor=%.2fx\n' "$round" "$flag:" \
            "$seconds" "$(field "$result" test_accuracy)" "$(awk -v a="$seconds" -v b="$anchor" 'BEGIN {print a / b}')"
    done
done
