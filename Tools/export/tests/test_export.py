"""The scripted Piper VITS module against onnxruntime (noise off), the saved pack, and durations."""

import hashlib
import json

import pytest

np = pytest.importorskip("numpy", reason="numpy missing: run scripts/setup")
torch = pytest.importorskip("torch", reason="Debian python3-torch missing: run scripts/setup, use /usr/bin/python3")

import export_piper  # noqa: E402

# Stated tolerance: max |audio - onnxruntime| with noise_scale = noise_w = 0. Measured 1e-5..4e-5.
TOLERANCE = 1e-4
# 9..201 are the export's own checks; 601 is longer than any of them (variable length, not traced).
LENGTHS = [9, 51, 201, 601]
assert max(LENGTHS) > max(export_piper.CHECK_LENGTHS)


def synth(module, ids, noise_scale=0.0, length_scale=1.0, noise_w=0.0):
    with torch.no_grad():
        audio, durations = module(torch.from_numpy(ids), noise_scale, length_scale, noise_w)
    return audio, durations


@pytest.mark.parametrize("n", LENGTHS)
def test_scripted_matches_onnxruntime(scripted, ort_session, n):
    ids = export_piper.sample_ids(n, seed=7)
    audio, durations = synth(scripted, ids)
    ref = export_piper.onnx_synth(ort_session, ids)
    assert audio.dtype == torch.float32 and audio.dim() == 2 and audio.size(0) == 1
    assert audio.size(1) == ref.shape[0], "waveform length differs from onnxruntime"
    diff = float(np.abs(audio.numpy()[0] - ref).max())
    print(f"T={ids.shape[1]} samples={ref.shape[0]} max|diff|={diff:.3g}")
    assert diff <= TOLERANCE


@pytest.mark.parametrize("n", LENGTHS)
def test_loaded_pack_equals_scripted_and_reference(loaded, scripted, ort_session, n):
    ids = export_piper.sample_ids(n, seed=11)
    a_loaded, d_loaded = synth(loaded, ids)
    a_script, d_script = synth(scripted, ids)
    assert torch.equal(d_loaded, d_script)
    assert float((a_loaded - a_script).abs().max()) <= 1e-6
    ref = export_piper.onnx_synth(ort_session, ids)
    assert float(np.abs(a_loaded.numpy()[0] - ref).max()) <= TOLERANCE


@pytest.mark.parametrize("length_scale,noise", [(1.0, False), (1.5, False), (0.8, True)])
def test_durations_times_hop_is_waveform_length(loaded, pack_dir, length_scale, noise):
    hop = json.loads((pack_dir / "pack.json").read_text())["hop_length"]
    assert hop == 256
    for n in (9, 151):
        ids = export_piper.sample_ids(n, seed=3)
        audio, durations = synth(loaded, ids, 0.667 if noise else 0.0, length_scale, 0.8 if noise else 0.0)
        assert durations.shape == (1, ids.shape[1]) and durations.dtype == torch.float32
        assert bool((durations >= 1).all()) and bool((durations == durations.round()).all())
        assert int(durations.sum().item()) * hop == audio.size(1)
        assert bool(torch.isfinite(audio).all()) and float(audio.abs().max()) <= 1.0


def test_length_scale_slows_speech(loaded, ort_session):
    ids = export_piper.sample_ids(61, seed=5)
    a1, d1 = synth(loaded, ids, length_scale=1.0)
    a2, d2 = synth(loaded, ids, length_scale=1.5)
    assert a2.size(1) > a1.size(1)
    ref = export_piper.onnx_synth(ort_session, ids, length_scale=1.5)
    assert a2.size(1) == ref.shape[0]
    assert float(np.abs(a2.numpy()[0] - ref).max()) <= TOLERANCE


def test_real_sentence_ids_match(loaded, ort_session):
    """Ids produced by the phonemizer fixture (a real sentence), not random ones."""
    from pathlib import Path

    fixture = json.loads((Path(__file__).parent / "fixtures" / "phonemes.json").read_text(encoding="utf-8"))
    for case in fixture["cases"][:3]:
        for sentence in case["sentences"]:
            ids = np.array([sentence["ids"]], dtype=np.int64)
            audio, durations = synth(loaded, ids)
            ref = export_piper.onnx_synth(ort_session, ids)
            assert audio.size(1) == ref.shape[0]
            assert float(np.abs(audio.numpy()[0] - ref).max()) <= TOLERANCE


def test_pack_json(pack_dir, voice):
    p = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    assert p["name"] == "joe-medium" and p["kind"] == "speech" and p["architecture"] == "vits-piper"
    # TorchRuntime pack format 1: what ModelStore decodes (Sources/Worker/TorchRuntime/ModelPack.swift).
    assert p["format"] == 1 and isinstance(p["source"], str)
    assert p["dtype"] == "float32" and p["sample_rate"] == 22050 and p["hop_length"] == 256
    comp = p["components"]["synthesizer"]
    assert comp["file"] == "synthesizer.ts" and comp["methods"] == ["forward"]
    assert comp["bytes"] == (pack_dir / comp["file"]).stat().st_size
    assert hashlib.sha256((pack_dir / comp["file"]).read_bytes()).hexdigest() == comp["sha256"]
    assert p["memory_estimate_bytes"] > 60_000_000
    assert p["licence"] and p["provenance"]["upstream"].startswith("https://")
    assert p["phoneme_id_map"] == voice[1]["phoneme_id_map"]
    assert p["espeak_voice"] == "en-us"
    assert p["ids"]["bos_id"] == 1 and p["ids"]["eos_id"] == 2 and p["ids"]["pad_id"] == 0
    assert set(p["inference"]) == {"noise_scale", "length_scale", "noise_w"}
    assert all(c["max_abs_diff_scripted"] <= TOLERANCE for c in p["export_check"]["lengths"])


def test_forward_schema(loaded):
    schema = str(loaded.forward.schema)
    assert "Tensor ids, float noise_scale, float length_scale, float noise_w" in schema
    assert "(Tensor, Tensor)" in schema


@pytest.mark.parametrize("ids", [[1, 2], [1, 0, 2], [1, 0, 20, 2], [1, 0, 20, 0, 2], [1, 0, 20, 0, 30, 0, 2]])
def test_tiny_inputs_match(scripted, ort_session, ids):
    """Fewer ids than the attention window (4+1): the relative embeddings are sliced, not padded."""
    ids = np.array([ids], dtype=np.int64)
    audio, durations = synth(scripted, ids)
    ref = export_piper.onnx_synth(ort_session, ids)
    assert audio.size(1) == ref.shape[0] == int(durations.sum().item()) * 256
    assert float(np.abs(audio.numpy()[0] - ref).max()) <= TOLERANCE


def test_chunked_decoding_equals_one_pass(eager_model):
    """Long inputs are decoded in chunks with 16 frames of context; the result must equal one pass."""
    dec = eager_model.dec
    z = torch.randn(1, 192, 3 * dec.chunk_frames + 17, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        chunked = dec(z)
        whole = dec._decode(z)
    assert chunked.shape == whole.shape == (1, 1, z.size(2) * 256)
    assert float((chunked - whole).abs().max()) <= 1e-6


# The slow CPU paths of torch 1.13 this module is written to avoid (see piper_vits.conv1d and the attention):
# im2col + reference-BLAS convolutions, and batched matmuls in the reference BLAS.
SLOW_CPU_OPS = {"aten::_slow_conv2d_forward", "aten::slow_conv_dilated2d", "aten::thnn_conv2d", "aten::bmm",
                "aten::slow_conv_transpose2d"}


@pytest.mark.parametrize("n", [9, 51, 201])
def test_no_slow_cpu_paths(loaded, n):
    """A short sentence (small tensors, where torch picks its own convolution) and a long one both stay on oneDNN."""
    ids = export_piper.sample_ids(n)
    torch.set_num_threads(1)
    with torch.no_grad(), torch.autograd.profiler.profile() as prof:
        loaded(torch.from_numpy(ids), 0.667, 1.0, 0.8)
    ops = {e.key for e in prof.key_averages()}
    assert "aten::mkldnn_convolution" in ops
    assert not ops & SLOW_CPU_OPS, f"slow CPU ops in the voice's forward: {sorted(ops & SLOW_CPU_OPS)}"


def test_other_devices_branch_gives_the_same_audio(loaded, pack_dir):
    """`conv1d` sends anything but CPU float32 (CUDA, half) to F.conv1d. CI has no GPU, so that branch runs here on
    the CPU in float64: the same durations, and audio within the tolerance of the oneDNN path."""
    ids = torch.from_numpy(export_piper.sample_ids(51))
    other = torch.jit.load(str(pack_dir / "synthesizer.ts"))
    other.double()
    with torch.no_grad(), torch.autograd.profiler.profile() as prof:
        audio64, durations64 = other(ids, 0.0, 1.0, 0.0)
    assert "aten::mkldnn_convolution" not in {e.key for e in prof.key_averages()}
    audio, durations = synth(loaded, ids.numpy())
    assert audio64.dtype == torch.float64
    assert torch.equal(durations64.float(), durations)
    assert float((audio64 - audio.double()).abs().max()) <= TOLERANCE
