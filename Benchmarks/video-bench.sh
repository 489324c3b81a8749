#!/usr/bin/env bash
# Seconds per denoising step and per section of the diffusion engine (Swift, through the C shim and the model
# manager) beside the same TorchScript denoiser driven by a Python loop (Benchmarks/video_bench.py), in one run,
# same shapes, steps, guidance and thread count; prints both and the ratio Swift/Python (target <= 1.05).
# Not a timed test: the machine is shared, so Swift and Python alternate ROUNDS times and each side's best counts.
#
#   Benchmarks/video-bench.sh [MODELS_DIR]     (default: tiny packs written into a temp folder)
# Env: ROUNDS (3), THREADS (1), FRAMES (23: 3 sections of the tiny pack at 16 fps), STEPS (8),
#      SCRATCH (.build-video), CONFIG (release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3} THREADS=${THREADS:-1} FRAMES=${FRAMES:-23} STEPS=${STEPS:-8}
SCRATCH=${SCRATCH:-.build-video} CONFIG=${CONFIG:-release}
PY=/usr/bin/python3
MODELS=${1:-}
if [ -z "$MODELS" ]; then
  MODELS=$(mktemp -d)
  trap 'rm -rf "$MODELS"' EXIT
  Tools/export/make-test-packs "$MODELS" >/dev/null
fi
swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product VideoBench >&2
BENCH="$SCRATCH/$CONFIG/VideoBench"
ARGS=(--models "$MODELS" --frames "$FRAMES" --steps "$STEPS" --threads "$THREADS" --rounds 1)
OUT=$(mktemp)
for r in $(seq "$ROUNDS"); do
  echo "swift $("$BENCH" bench "${ARGS[@]}" 2>/dev/null)" >>"$OUT"
  PLAN=$(tail -1 "$OUT" | cut -d' ' -f2-)
  echo "python $("$PY" Benchmarks/video_bench.py --pack "$MODELS/tiny-video" --plan "$PLAN" --rounds 1 --threads "$THREADS")" >>"$OUT"
done
"$PY" - "$OUT" <<'PYEOF'
import json, sys
best = {}
for line in open(sys.argv[1]):
    side, payload = line.split(" ", 1)
    d = json.loads(payload)
    if side not in best or d["step_s"] < best[side]["step_s"]:
        best[side] = d
s, p = best["swift"], best["python"]
print("plan: %d sections x %d steps, latents %s, CFG batch %d, libtorch %s / torch %s, threads %d"
      % (s["sections"], s["steps"], s["latent_shape"], 2 if s["guidance"] > 1 else 1, s["libtorch"], p["torch"], s["threads"]))
print("swift: the denoiser call alone %.5f s per step (the rest of a step is Swift's tensors in, guidance, Euler)" % s["rounds"][0]["forward_s"])
print("%-22s %12s %12s %8s" % ("", "swift", "python", "ratio"))
for k, label in (("step_s", "seconds per step"), ("section_s", "seconds per section")):
    print("%-22s %12.5f %12.5f %8.3f" % (label, s[k], p[k], s[k] / p[k]))
PYEOF
rm -f "$OUT"
