"""Hugging Face tokenizers reference for synapse-bench's tokenize rows, on one thread.

Prints 'name seconds' lines: BPE training at vocabulary 1,024 (ByteLevel pre-tokenizer without
a prefix space, ByteLevel.alphabet() as the initial alphabet, the text as one sequence) and the
encoding of the whole text with the trained tokenizer, each the best of `rounds`; then
'ids_checksum N' (sum of id * (position % 1000 + 1)), so the Swift side can check it produced the same ids.
Usage: python Benchmarks/hf_tokenize.py TEXT_PATH [rounds]
"""
import os, sys, time
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

path = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
text = open(path, encoding="utf-8").read()

def train():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1024, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([text], trainer)
    return tok

best_train = best_encode = float("inf")
for _ in range(rounds):
    t0 = time.perf_counter()
    tok = train()
    best_train = min(best_train, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ids = tok.encode(text).ids
    best_encode = min(best_encode, time.perf_counter() - t0)
print("bpe_train_1024", f"{best_train:.6f}")
print("bpe_encode", f"{best_encode:.6f}")
print("ids_checksum", sum(i * (p % 1000 + 1) for p, i in enumerate(ids)))
print("ids_count", len(ids))
