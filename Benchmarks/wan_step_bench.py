#!/usr/bin/env python3
"""Python side of the one-step benchmark: the pack's TorchScript denoiser, one flow-matching Euler step with
classifier-free guidance, in Python torch, on the inputs VideoBench `step --dump DIR` wrote (the engine's noise
and text embeddings); compares the result with the engine's output latents (DIR/x1.f32).

    python Benchmarks/wan_step_bench.py --pack PACK_DIR --swift JSON --dump DIR [--reps 2] [--threads N]
                                        [--device cpu|cuda]

JSON is VideoBench's output line (shapes, steps, guidance, sigmas' shift and scale). Prints one JSON object:
step_s / forward_s / step_cpu_s per repetition, peak memory (VmHWM; CUDA's peak allocated on a GPU), the
agreement (max |python - swift|, and relative to max |python|). Same settings as the Swift side: inference
mode, graph-executor optimisation off, same thread count, the pack's dtype on CUDA.
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch


def flow_sigmas(steps, shift):
    return [shift * (1 - i / steps) / (1 + (shift - 1) * (1 - i / steps)) for i in range(steps + 1)]


def vm_hwm_bytes():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", required=True)
    ap.add_argument("--swift", help="VideoBench step's JSON output")
    ap.add_argument("--dump")
    ap.add_argument("--synthetic", action="store_true",
                    help="no Swift dump: seeded random inputs at the pack's traced shapes (scripts/gpu-check), timing only")
    ap.add_argument("--steps", type=int, default=1, help="with --synthetic: the render's steps (sets the sigmas)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    meta = json.load(open(os.path.join(a.pack, "pack.json")))
    if a.synthetic:
        sc, gw, gh = meta["latent"]["spatial_compression"], meta["generation"]["sizes"][0][0], meta["generation"]["sizes"][0][1]
        plan = {"latent_shape": [meta["latent"]["channels"], meta["sections"]["window"], gh // sc, gw // sc],
                "steps": a.steps, "guidance": meta["scheduler"]["guidance"]}
    else:
        plan = json.loads(a.swift)
    dev = torch.device(a.device)
    dtype = getattr(torch, meta.get("dtype", "float32")) if dev.type == "cuda" else torch.float32
    if a.threads > 0:  # 0: torch's default, as the render's runtime leaves it (scripts/gpu-check)
        torch.set_num_threads(a.threads)
    torch._C._set_graph_executor_optimize(False)
    c, win, h, w = plan["latent_shape"]
    sec = meta["sections"]
    kr, ko = sec["recent"], sec["old"]
    batch = meta.get("trace", {}).get("batch", 2 if plan["guidance"] > 1 else 1)
    steps, guidance = plan["steps"], plan["guidance"]
    sigmas = flow_sigmas(steps, meta["scheduler"]["shift"])
    scale = meta["scheduler"]["timestep_scale"]
    L = meta["text"]["max_tokens"]

    def load(name, shape):
        return torch.from_numpy(np.fromfile(os.path.join(a.dump, name + ".f32"), dtype=np.float32).reshape(shape))

    if a.synthetic:
        g = torch.Generator().manual_seed(0)
        x0 = torch.randn(1, c, win, h, w, generator=g)
        text = torch.randn(batch, L, meta["text"]["dim"], generator=g) * 0.1
        swift_x1 = None
    else:
        x0 = load("x0", (1, c, win, h, w))
        text = load("text", (batch, L, -1))
        swift_x1 = load("x1", (1, c, win, h, w))

    t0 = time.perf_counter()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    den = torch.jit.load(os.path.join(a.pack, meta["components"]["denoiser"]["file"]), map_location=dev).eval().to(dtype)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    load_s = time.perf_counter() - t0

    def put(t):
        return t.to(dev, dtype)

    start = put(torch.zeros(batch, c, 1, h, w))
    recent = put(torch.zeros(batch, c, kr, h, w))
    old = put(torch.zeros(batch, c, ko, h, w))
    mask = put(torch.zeros(batch, 1 + kr + ko))
    textd = put(text)
    rounds = []
    with torch.inference_mode():
        for _ in range(a.reps):
            c0, s0 = cpu_seconds(), time.perf_counter()
            x = x0.clone()
            # The engine's step, as Sources/Worker/Engines/Visuals/VideoDiffusion/DiffusionVisuals.swift does it (its tensors go in
            # from the CPU and come back to it every step; so do these).
            for i in range(1 if a.synthetic else steps):  # synthetic: one step at the first sigma
                xb = put(x.expand(batch, -1, -1, -1, -1).contiguous())
                t = put(torch.full([batch], sigmas[i] * scale))
                f0 = time.perf_counter()
                v = den(xb, t, textd, start, recent, old, mask)
                v = v.float().cpu()
                forward_s = time.perf_counter() - f0
                if batch == 2:
                    v = v[1:] + guidance * (v[:1] - v[1:]) if guidance > 1 else v[:1]
                x = x + (sigmas[i + 1] - sigmas[i]) * v
            rounds.append({"step_s": time.perf_counter() - s0, "forward_s": forward_s, "step_cpu_s": cpu_seconds() - c0})
    ref = x.abs().max().item()
    out = {"torch": torch.__version__, "device": str(dev), "dtype": str(dtype).replace("torch.", ""), "load_s": load_s,
           "rounds": rounds, "max_abs": ref, "peak_rss_bytes": vm_hwm_bytes(), "finite": bool(torch.isfinite(x).all()),
           "steps": steps, "latent_shape": plan["latent_shape"]}
    if swift_x1 is not None:
        diff = (x - swift_x1).abs().max().item()
        out.update({"max_abs_diff": diff, "rel_diff": diff / max(ref, 1e-30)})
    later = rounds[1:] or rounds  # the first repetition carries the warm-up
    out["step_s"] = sorted(r["step_s"] for r in later)[len(later) // 2]
    out["forward_s"] = sorted(r["forward_s"] for r in later)[len(later) // 2]
    if dev.type == "cuda":
        out["peak_memory_bytes"] = torch.cuda.max_memory_allocated()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
