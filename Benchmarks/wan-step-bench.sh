#!/usr/bin/env bash
# One denoising step of Wan2.1's real 1.3B configuration (random weights) from Swift - the diffusion engine's
# own sampler through VideoDiffusion, TorchRuntime and the C shim (VideoBench step) - and from Python torch
# (Benchmarks/wan_step_bench.py) on the same inputs, in one run, one after the other (the fp32 transformer is
# 5.7 GB: never both at once). Prints seconds per step (wall and process CPU), the Swift/Python ratios
# (target <= 1.05), the agreement of the two results, and each side's peak RSS beside the pack's estimate
# (target: within 10%).
#
#   Benchmarks/wan-step-bench.sh [MODELS_DIR]        (default /tmp/prostudio-wan-1.3b; the pack is exported
#                                                     there on first use, ~8 min and 6.7 GB on 2 cores)
# Env: WIDTH/HEIGHT (128), FRAMES (9 at 16 fps = 3 latent frames, one section), THREADS (2), REPS (2 steps per
#      process; the first includes the warm-up, the last counts), ROUNDS (1: Swift then Python, repeated),
#      VENV (.venv-gpukit: torch + diffusers + transformers, made by scripts/gpu-kit), SCRATCH (.build-kit),
#      PROSTUDIO_BENCH_NO_BUILD=1 (use the built VideoBench and shim as they are).
# Not a timed test: it takes minutes on a CPU. On a GPU machine: DEVICE=cuda (scripts/gpu-check does this).
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH=${WIDTH:-128} HEIGHT=${HEIGHT:-128} FRAMES=${FRAMES:-9} THREADS=${THREADS:-2} REPS=${REPS:-2} ROUNDS=${ROUNDS:-1}
VENV=${VENV:-.venv-gpukit} SCRATCH=${SCRATCH:-.build-kit} DEVICE=${DEVICE:-cpu}
PY=${PYTHON:-$VENV/bin/python}
MODELS=${1:-/tmp/prostudio-wan-1.3b}
PACK=${PACK:-wan2.1-t2v-1.3b-random}
BENCH=${VIDEOBENCH:-$SCRATCH/release/VideoBench}
SHIM=${PROSTUDIO_TORCH_LIB:-.build-shim/libProStudioTorch.so}
if [ ! -f "$MODELS/$PACK/pack.json" ]; then
  # The trace itself is one forward; the trace-vs-eager checks would be two more (the step comparison below checks).
  "$PY" Tools/export/export_wan.py --random 1.3b --text-encoder stub --width "$WIDTH" --height "$HEIGHT" --window 3 \
      --decode-chunk 1 --steps 1 --no-check --out "$MODELS" --name "$PACK" 2>/dev/null | grep '^{' >&2
fi
if [ -z "${PROSTUDIO_BENCH_NO_BUILD:-}" ]; then
  scripts/build-torch-shim "$PY" "$(dirname "$SHIM")" >&2
  swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product VideoBench >&2
fi
export PROSTUDIO_TORCH_LIB=$SHIM
# The Swift binaries link Debian's FFmpeg, whose libavfilter pulls librubberband -> libblas.so.3 (reference
# BLAS) into the process at start-up. A pip/official libtorch exports its own BLAS (MKL's sgemm_, ...) and calls
# it through the PLT, so the symbols already in the global scope win: libtorch then multiplies with Debian's
# reference BLAS (measured: 17.7x the CPU time of the same step in Python). Preloading libtorch_cpu puts its BLAS
# first, as in the GPU kit, whose libblas is not carried. SWIFT_PRELOAD= (empty) shows the slow case.
TORCH_CPU=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))')
SWIFT_PRELOAD=${SWIFT_PRELOAD-$TORCH_CPU}
DUMP=$(mktemp -d)
LOG=$(mktemp)
trap 'rm -rf "$DUMP" "$LOG"' EXIT
for r in $(seq "$ROUNDS"); do
  swift=$(LD_PRELOAD=$SWIFT_PRELOAD "$BENCH" step --models "$MODELS" --pack "$PACK" --width "$WIDTH" --height "$HEIGHT" --fps 16 --frames "$FRAMES" \
          --steps 1 --reps "$REPS" --threads "$THREADS" --device "$DEVICE" --dump "$DUMP")
  echo "swift $swift" >>"$LOG"
  echo "python $("$PY" Benchmarks/wan_step_bench.py --pack "$MODELS/$PACK" --swift "$swift" --dump "$DUMP" \
                 --reps "$REPS" --threads "$THREADS" --device "$DEVICE")" >>"$LOG"
done
python3 - "$LOG" "$(uptime)" <<'PYEOF'
import json, sys
runs = {"swift": [], "python": []}
for line in open(sys.argv[1]):
    side, payload = line.split(" ", 1)
    runs[side].append(json.loads(payload))
s0, p0 = runs["swift"][0], runs["python"][0]
print("Wan2.1 1.3B configuration (random weights), one step at %dx%d, latents %s, CFG batch 2, libtorch %s / torch %s, "
      "%d threads, device %s" % (s0["generation"][0], s0["generation"][1], s0["latent_shape"], s0["libtorch"], p0["torch"],
                                 s0["threads"], s0["device"]))
print("%-28s %10s %10s %7s" % ("", "swift", "python", "ratio"))
def last(d, k):  # the last repetition of a process (the first carries the warm-up)
    return d["rounds"][-1][k]
for i, (s, p) in enumerate(zip(runs["swift"], runs["python"])):
    for label, ks, kp in (("step wall s", "step_s", "step_s"), ("forward wall s", "forward_s", "forward_s"),
                          ("step CPU s (process)", "generate_cpu_s", "step_cpu_s")):
        print("%-28s %10.3f %10.3f %7.3f" % ("round %d %s" % (i + 1, label), last(s, ks), last(p, kp), last(s, ks) / last(p, kp)))
    est = s["estimate_bytes"]
    print("%-28s %10.0f %10.0f   (pack estimate %.0f MiB: swift %+.1f%%, python %+.1f%%)" % (
        "round %d peak RSS MiB" % (i + 1), s["peak_rss_bytes"] / 2**20, p["peak_rss_bytes"] / 2**20, est / 2**20,
        100.0 * (s["peak_rss_bytes"] / est - 1), 100.0 * (p["peak_rss_bytes"] / est - 1)))
    print("round %d agreement: max |python - swift| %.3g (max |x| %.3g, relative %.2e), finite %s; denoiser load %.1f s swift, %.1f s python"
          % (i + 1, p["max_abs_diff"], p["max_abs"], p["rel_diff"], p["finite"], s["load_s"].get("denoiser", 0), p["load_s"]))
if len(runs["swift"]) > 1:  # the shared machine's noise: each side's best round, as Benchmarks/video-bench.sh does
    for label, ks, kp in (("step wall s", "step_s", "step_s"), ("step CPU s (process)", "generate_cpu_s", "step_cpu_s")):
        bs, bp = min(last(s, ks) for s in runs["swift"]), min(last(p, kp) for p in runs["python"])
        print("%-28s %10.3f %10.3f %7.3f" % ("best %s" % label, bs, bp, bs / bp))
print("load average: %s" % sys.argv[2].split("load average:")[-1].strip())
PYEOF
