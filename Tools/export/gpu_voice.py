#!/usr/bin/env python3
"""Carries a TorchScript speech pack (the Piper voice) to the lent GPU machine in a quarter of its size.

    python Tools/export/gpu_voice.py pack   PACK_DIR OUT_DIR   # here: skeleton + int8 weights (scripts/gpu-kit)
    python Tools/export/gpu_voice.py unpack IN_DIR   PACK_DIR  # there: fp32 TorchScript + pack.json (scripts/gpu-check)

`pack` writes the module with its large floating tensors zeroed (skeleton.ts: code and small tensors, compresses
to little), those tensors as int8 with one fp32 scale per output row (weights.q8.pt), and pack.json. `unpack`
restores fp32 tensors (q * scale), saves synthesizer.ts with the torch that is there, and rewrites pack.json's
sha256/bytes. Same architecture and compute as the original pack; the weights differ by at most half a
quantisation step per row (the audio differs slightly): for timing and memory on real-size work, not listening.
"""
import hashlib
import json
import os
import shutil
import sys

import torch

MIN_NUMEL = 1024


def tensors(module):
    out = dict(module.named_parameters())
    out.update(dict(module.named_buffers()))
    return {k: v for k, v in out.items() if v.is_floating_point()}


def pack(src, dst):
    meta = json.load(open(os.path.join(src, "pack.json")))
    (name, comp), = meta["components"].items()
    module = torch.jit.load(os.path.join(src, comp["file"]), map_location="cpu")
    q, scale = {}, {}
    with torch.no_grad():
        for k, t in tensors(module).items():
            if t.numel() < MIN_NUMEL or t.dim() < 2:
                continue
            rows = t.float().reshape(t.shape[0], -1)
            s = rows.abs().amax(dim=1).clamp_min(1e-12) / 127.0
            q[k] = torch.round(rows / s[:, None]).to(torch.int8).reshape(t.shape)
            scale[k] = s
            t.zero_()
    os.makedirs(dst, exist_ok=True)
    module.save(os.path.join(dst, "skeleton.ts"))
    torch.save({"q": q, "scale": scale, "component": name, "file": comp["file"]}, os.path.join(dst, "weights.q8.pt"))
    shutil.copy(os.path.join(src, "pack.json"), os.path.join(dst, "pack.json"))
    print("gpu_voice: %d tensors as int8 (%.1f MB)" % (len(q), sum(v.numel() for v in q.values()) / 1e6), file=sys.stderr)


def unpack(src, dst):
    data = torch.load(os.path.join(src, "weights.q8.pt"))
    module = torch.jit.load(os.path.join(src, "skeleton.ts"), map_location="cpu")
    with torch.no_grad():
        ts = tensors(module)
        for k, qt in data["q"].items():
            s = data["scale"][k]
            ts[k].copy_((qt.float().reshape(qt.shape[0], -1) * s[:, None]).reshape(qt.shape))
    os.makedirs(dst, exist_ok=True)
    path = os.path.join(dst, data["file"])
    module.save(path)
    meta = json.load(open(os.path.join(src, "pack.json")))
    h = hashlib.sha256(open(path, "rb").read()).hexdigest()
    meta["components"][data["component"]].update({"sha256": h, "bytes": os.path.getsize(path)})
    meta.setdefault("provenance", {})["gpu_kit"] = "weights carried as int8 per output row (Tools/export/gpu_voice.py)"
    with open(os.path.join(dst, "pack.json"), "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
    print("gpu_voice: %s rebuilt (%d MB, torch %s)" % (dst, os.path.getsize(path) // 1000000, torch.__version__), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])
