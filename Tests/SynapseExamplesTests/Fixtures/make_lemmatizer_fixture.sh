#!/bin/sh
# Writes lemmatizer-ewt400.safetensors: a small lemmatizer trained by `synapse lemma train` in
# release on the first 400 sentences of UD English EWT train (about a minute on two cores; a debug
# build would need about half an hour). LemmatizerTests checks that it beats the lookup
# baseline on a slice of dev; the training loop itself gets a bounded debug run there too.
# Run from the repository root.
set -e
E=../shared/data/ud-english-ewt
swift build -c release --product synapse
.build/release/synapse lemma train --train $E/en_ewt-ud-train.conllu --dev $E/en_ewt-ud-dev.conllu \
    --train-sentences 400 --layers 1 --width 32 --heads 2 --batch-size 16 --lr 1e-2 --epochs 60 --dropout 0 \
    --seed 0 --save Tests/SynapseExamplesTests/Fixtures/lemmatizer-ewt400.safetensors
