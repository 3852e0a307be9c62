"""Makes the Hugging Face tokenizer fixtures for SynapseTextTests.

Run from the repository root, beside ../shared:
    /tmp/torch/bin/python Tests/SynapseTextTests/make_fixtures.py
Needs the `tokenizers` package (0.23.3 made the committed files).

Fixtures/hf_bpe.json      a byte-level BPE trained by tokenizers' BpeTrainer (vocabulary 600,
                          initial alphabet ByteLevel.alphabet(), special token <|endoftext|>)
                          on Fixtures/bpe_training.txt, as one sequence
Fixtures/hf_bpe_ids.json  {"text": ..., "ids": [...]} the ids it gives for a hostile test text
"""
import json, os
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Fixtures")
SHAKESPEARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                           "tinyshakespeare", "input.txt")

# Every branch of GPT-2's pattern: contractions (and ones it does not know), letters, digits
# and punctuation with and without a space before them, runs of whitespace before a word and
# at the end, Unicode letters, marks, numbers and spaces, emoji, and special tokens.
TEST_TEXT = (
    "ROMEO: I'll say it's 12,345 times   more  — they'RE here, we've been, you'd've known.\n"
    "Héllo naïve Ünïcödé café (e\u0301) über straße ǅ ʰ.\r\n"
    "日本語のテキスト、中文字符。 한국어 텍스트 Ελληνικά русский العربية ٣٤٥ ² Ⅻ ½\n"
    "tabs\there\t\tand\u00a0nbsp\u3000ideographic\u2003em\u0085nel\x1cfs\x00nul\n"
    "emoji 👍🏽 👨‍👩‍👧 🇫🇷!!! ...?! '' ' s 'x 'S\n"
    "<|endoftext|>next<|endoftext|><|endoftext|> <|endoftext| done   \n\n\n"
    "    indented\n  \n trailing   "
)


def main():
    shakespeare = open(SHAKESPEARE, encoding="utf-8").read()[:60000]
    training = shakespeare + "\n" + (TEST_TEXT + "\n") * 3
    with open(os.path.join(HERE, "bpe_training.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(training)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator([training], trainer)
    tok.save(os.path.join(HERE, "hf_bpe.json"))
    ids = tok.encode(TEST_TEXT).ids
    assert tok.decode(ids, skip_special_tokens=False) == TEST_TEXT
    with open(os.path.join(HERE, "hf_bpe_ids.json"), "w", encoding="utf-8") as f:
        json.dump({"text": TEST_TEXT, "ids": ids}, f, ensure_ascii=False)
    print(f"{len(tok.get_vocab())} tokens, {len(ids)} ids for the test text")


main()
