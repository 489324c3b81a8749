#!/usr/bin/python3
"""Python side of the video benchmark: the same TorchScript denoiser driven by a Python loop.

    Benchmarks/video_bench.py --pack DIR --plan JSON [--rounds 3] [--threads 1]

JSON is VideoBench's output (sections, steps, guidance, latent shape): the same work as the Swift engine per
section: a CFG batch of 2 through `forward` every step, guidance and the Euler update in torch, the packed
context tensors built once per section. Same settings as the Swift side: inference mode, graph-executor
optimisation off, same thread count. Prints the same JSON keys: step_s (median step of the best round, the
first step left out), section_s.
"""
import json
import sys
import time

import torch


def flow_sigmas(steps, shift):
    out = []
    for i in range(steps + 1):
        s = 1 - i / steps
        out.append(shift * s / (1 + (shift - 1) * s))
    return out


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else 0.0


def main(argv):
    args = dict(zip(argv[1::2], argv[2::2]))
    pack = args["--pack"]
    plan = json.loads(args["--plan"])
    rounds = int(args.get("--rounds", "3"))
    torch.set_num_threads(int(args.get("--threads", "1")))
    torch._C._set_graph_executor_optimize(False)
    meta = json.load(open(pack + "/pack.json"))
    den = torch.jit.load(pack + "/denoiser.pt").eval()
    enc = torch.jit.load(pack + "/text_encoder.pt").eval()
    c, win, h, w = plan["latent_shape"]
    sec = meta["sections"]
    kr, ko = sec["recent"], sec["old"]
    steps, guidance, sections = plan["steps"], plan["guidance"], plan["sections"]
    sigmas = flow_sigmas(steps, meta["scheduler"]["shift"])
    scale = meta["scheduler"]["timestep_scale"]
    L = meta["text"]["max_tokens"]
    batch = 2 if guidance > 1 else 1
    results = []
    with torch.inference_mode():
        text = enc(torch.zeros(batch, L, dtype=torch.int64))
        for _ in range(rounds):
            gen = torch.Generator().manual_seed(7)
            step_times, section_times = [], []
            history = []
            for s in range(sections):
                t0 = time.perf_counter()
                start = torch.zeros(batch, c, 1, h, w)
                recent = torch.zeros(batch, c, kr, h, w)
                old = torch.zeros(batch, c, ko, h, w)
                mask = torch.zeros(batch, 1 + kr + ko)
                for k in range(min(kr, len(history))):
                    recent[:, :, k] = history[-1 - k]
                    mask[:, 1 + k] = 1
                x = torch.randn(1, c, win, h, w, generator=gen)
                for i in range(steps):
                    ts = time.perf_counter()
                    xb = x.expand(batch, -1, -1, -1, -1).contiguous()
                    t = torch.full([batch], sigmas[i] * scale)
                    v = den(xb, t, text, start, recent, old, mask)
                    if batch == 2:
                        v = v[1:] + guidance * (v[:1] - v[1:])
                    x = x + (sigmas[i + 1] - sigmas[i]) * v
                    step_times.append(time.perf_counter() - ts)
                history.extend(x[0, :, j] for j in range(win))
                section_times.append(time.perf_counter() - t0)
            results.append({"step_s": median(step_times[1:]), "section_s": median(section_times)})
    best = min(results, key=lambda r: r["step_s"])
    print(json.dumps({"rounds": results, "step_s": best["step_s"], "section_s": best["section_s"],
                      "torch": torch.__version__}, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
