#!/usr/bin/python3
"""Python side of the torch benchmark: the same arguments and JSON shape as TorchBench (--module part).

Same settings as the Swift side: inference mode, graph-executor optimisation off, same thread count,
same inputs (floats sin(i*0.001), int64 i % 64).
"""
import json
import math
import sys
import time

import torch


def make_input(spec):
    kind, rest = spec.split(":", 1)
    if kind == "float":
        return float(rest)
    if kind == "int":
        return int(rest)
    if kind == "bool":
        return rest == "true"
    shape = [int(x) for x in rest.split("x")]
    n = math.prod(shape)
    if kind == "float32":
        return torch.sin(torch.arange(n, dtype=torch.float64) * 0.001).float().reshape(shape)
    if kind == "int64":
        return (torch.arange(n, dtype=torch.int64) % 64).reshape(shape)
    raise SystemExit("bad input " + spec)


def main(argv):
    module, method, inputs, iters, warmup, threads = None, "forward", [], 50, 5, 1
    i = 0
    while i < len(argv):
        a, v = argv[i], argv[i + 1]
        i += 2
        if a == "--module": module = v
        elif a == "--method": method = v
        elif a in ("--input", "--scalar"): inputs.append(v)
        elif a == "--iters": iters = int(v)
        elif a == "--warmup": warmup = int(v)
        elif a == "--threads": threads = int(v)
        elif a == "--pack": pass
        else: raise SystemExit("unknown argument " + a)
    torch.set_num_threads(threads)
    torch._C._set_graph_executor_optimize(False)
    t0 = time.perf_counter()
    m = torch.jit.load(module, map_location="cpu").eval()
    load = time.perf_counter() - t0
    fn = getattr(m, method)
    values = [make_input(s) for s in inputs]
    times, cpu = [], []
    with torch.inference_mode():
        for _ in range(warmup):
            fn(*values)
        for _ in range(iters):
            t = time.perf_counter()
            c = time.thread_time()
            fn(*values)
            cpu.append(time.thread_time() - c)
            times.append(time.perf_counter() - t)
    times.sort()
    cpu.sort()
    print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "module": {
        "file": module, "method": method, "iters": iters, "load_seconds": load,
        "mean_ms": sum(times) / len(times) * 1000, "median_ms": times[len(times) // 2] * 1000,
        "min_ms": times[0] * 1000, "cpu_median_ms": cpu[len(cpu) // 2] * 1000, "cpu_min_ms": cpu[0] * 1000}}, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
