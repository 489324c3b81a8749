"""Writes a ProStudio model pack: TorchScript files plus pack.json (format 1, see Docs/torch-runtime.md)."""
import hashlib
import json
import os
from typing import Dict, Optional

import torch

PACK_FORMAT = 1


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def param_bytes(module: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in list(module.parameters()) + list(module.buffers()))


def write_pack(root: str, name: str, kind: str, architecture: str, components: Dict[str, dict],
               extra: Optional[dict] = None, licence: str = "", source: str = "", dtype: str = "float32") -> str:
    """components: name -> {"module": nn.Module, "methods": [...], "description": str, optional "scripted": a
    ScriptModule already made (traced) from module, "memory_estimate_bytes": int}.

    Scripts and saves each module as NAME.pt, then writes pack.json last (a reader that sees pack.json
    sees a complete pack).
    """
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    entries = {}
    for cname, spec in components.items():
        module = spec["module"].eval()
        # A traced module (torch.jit.trace, for upstream models that do not script) is saved as it is.
        scripted = spec["scripted"] if "scripted" in spec else torch.jit.script(module)
        fname = cname + ".pt"
        path = os.path.join(folder, fname)
        scripted.save(path)
        pbytes = param_bytes(module)
        entries[cname] = {
            "file": fname,
            "sha256": sha256(path),
            "bytes": os.path.getsize(path),
            "methods": spec.get("methods", ["forward"]),
            "description": spec.get("description", ""),
            # Weights plus a working margin; one component is resident at a time.
            "memory_estimate_bytes": spec.get("memory_estimate_bytes", pbytes * 2 + 64 * 1024 * 1024),
        }
    manifest = {
        "format": PACK_FORMAT,
        "name": name,
        "kind": kind,
        "architecture": architecture,
        "dtype": dtype,
        # The largest component's estimate: one component is resident at a time (ModelManager).
        "memory_estimate_bytes": max(e["memory_estimate_bytes"] for e in entries.values()),
        "licence": licence,
        "source": source,
        "components": entries,
    }
    manifest.update(extra or {})
    tmp = os.path.join(folder, "pack.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(folder, "pack.json"))
    return folder


def write_unigram_vocab(path: str, words, letters: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> None:
    """A SentencePiece-style unigram vocabulary as text, one `piece<TAB>log-prob` per line, id = line number.

    Ids 0..2 are <pad>, </s>, <unk> (T5's order). Words are stored as "\u2581word" (start of word); single
    letters and digits (with and without the word-start mark) make every lowercase ASCII word spellable.
    The Swift tokenizer segments each word with the highest total score (Viterbi), as SentencePiece does.
    """
    lines = ["<pad>\t0", "</s>\t0", "<unk>\t0", "\u2581\t-6"]
    for w in words:
        lines.append("\u2581%s\t%.2f" % (w, -4.0 - 0.1 * len(w)))
    for ch in letters:
        lines.append("\u2581%s\t-8" % ch)
        lines.append("%s\t-8.5" % ch)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
