#!/usr/bin/env python3
"""HF `tokenizers`' Unigram model on a pack's tokenizer.vocab: the ids SentencePiece-style segmentation gives,
for checking the Swift tokenizer (Tests/MusicGenTests).

    musicgen_tokenize.py PACK/tokenizer.vocab TEXT...     -> a JSON list of id lists (no </s>)

The pre-tokenizer is T5's Metaspace (split on spaces, "\u2581" marks a word's start); T5's NFKC normaliser is
left out, as the Swift side does not apply it (ASCII text is unaffected).
"""
import json
import sys

from tokenizers import Tokenizer, models, pre_tokenizers


def main():
    vocab = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            piece, score = line.rstrip("\n").split("\t")
            vocab.append((piece, float(score)))
    tok = Tokenizer(models.Unigram(vocab, unk_id=2))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    print(json.dumps([tok.encode(t.lower()).ids for t in sys.argv[2:]]))


if __name__ == "__main__":
    main()
