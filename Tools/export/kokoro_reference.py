#!/usr/bin/python3
"""Python's answer for Kokoro pieces the Swift engine made: the pack's TorchScript in Python torch and,
with --onnx, an ONNX graph of the same model in onnxruntime.

    kokoro_reference.py --pack DIR --pieces pieces.json --speaker NAME --speed 1.0 --out OUTDIR [--onnx G.onnx]

pieces.json: [[ids...], ...] (pads included). Writes OUTDIR/ts_K.f32 (audio), ts_dur_K.i64 (frames per id) and,
with --onnx, ort_K.f32; the style row for each piece is row len(ids)-3 of the speaker, as the engine picks it.
"""
import argparse
import json
import os
import sys

import numpy as np


def style_row(pack: str, speaker: str, n_ids: int) -> np.ndarray:
    meta = json.load(open(os.path.join(pack, "pack.json")))
    v = meta["voices"][speaker]
    table = np.fromfile(os.path.join(pack, v["file"]), dtype="<f4").reshape(v["rows"], v["dim"])
    row = max(0, min(n_ids - 2, v["rows"]) - 1)
    return table[row:row + 1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", required=True)
    ap.add_argument("--pieces", required=True)
    ap.add_argument("--speaker", required=True)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--onnx", default=None)
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    pieces = json.load(open(args.pieces))
    if not args.no_torch:
        import torch
        torch.set_num_threads(1)
        m = torch.jit.load(os.path.join(args.pack, "synthesizer.ts")).eval()
        for k, ids in enumerate(pieces):
            with torch.no_grad():
                a, d = m(torch.tensor([ids]), torch.from_numpy(style_row(args.pack, args.speaker, len(ids))), args.speed)
            a.numpy().astype("<f4").tofile(os.path.join(args.out, f"ts_{k}.f32"))
            d.numpy().astype("<i8").tofile(os.path.join(args.out, f"ts_dur_{k}.i64"))
    if args.onnx:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.log_severity_level = 3
        sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
        for k, ids in enumerate(pieces):
            out = sess.run(None, {"tokens": np.array([ids], dtype=np.int64),
                                  "style": style_row(args.pack, args.speaker, len(ids)).astype(np.float32),
                                  "speed": np.array([args.speed], dtype=np.float32)})[0]
            np.asarray(out, dtype="<f4").ravel().tofile(os.path.join(args.out, f"ort_{k}.f32"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
