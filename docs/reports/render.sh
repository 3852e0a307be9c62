#!/usr/bin/env bash
# Renders one report of each kind with short runs and screenshots them in headless Chromium,
# for a person to look at: docs/reports/render.sh [OUTPUT_FOLDER]
# Needs Debian's chromium (apt-get install -y chromium), ../shared/data and Fashion-MNIST.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/synapse-reports}"
mkdir -p "$out"
swift build -c release -Xcc -march=native --scratch-path .build-native --product synapse
synapse=.build-native/release/synapse
data=../shared/data
"$synapse" train --model cnn --dataset fashion-mnist --epochs 3 --validation-split 0.1 --report "$out/train.html"
"$synapse" lm train --text "$data/tinyshakespeare/input.txt" --model gpt --steps 400 --report "$out/lm.html"
"$synapse" text train --data "$data/sentiment-labelled-sentences/amazon_cells_labelled.txt" --epochs 5 --report "$out/text.html"
"$synapse" tag train --train "$data/ud-english-ewt/en_ewt-ud-train.conllu" --dev "$data/ud-english-ewt/en_ewt-ud-dev.conllu" \
    --train-sentences 2000 --epochs 3 --report "$out/tag.html"
"$synapse" gan train --epochs 3 --train-images 12800 --no-score --report "$out/gan.html"
"$synapse" forecast --epochs 300 --report "$out/forecast.html"
for kind in train lm text tag gan forecast; do
    # Root in a container has no user namespace for Chromium's sandbox; the pages are ours.
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,4000 \
        --screenshot="$out/$kind.png" "file://$(realpath "$out/$kind.html")" 2>/dev/null
    echo "$out/$kind.html ($(wc -c < "$out/$kind.html") bytes) → $out/$kind.png"
done
