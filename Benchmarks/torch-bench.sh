#!/usr/bin/env bash
# Times the same TorchScript modules from Swift (TorchBench, through the C shim) and from Python torch, in
# one run, with the same thread count, inputs and settings; prints both and the ratio (target <= 1.05).
# Also prints a pack's load time and RSS.
#
#   Benchmarks/torch-bench.sh [MODELS_DIR]     (default: tiny packs written into a temp folder)
# Env: ITERS (30), THREADS (1), ROUNDS (5: Swift and Python alternate; each side's best round counts, as
#      the median call of a round), SCRATCH (.build-torch). Wall time and the calling thread's CPU time are
#      both reported: with one intra-op thread libtorch computes on the caller's thread, and CPU time is
#      much less disturbed by other work on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${ITERS:-30} THREADS=${THREADS:-1} ROUNDS=${ROUNDS:-5} SCRATCH=${SCRATCH:-.build-torch}
PY=/usr/bin/python3
MODELS=${1:-}
if [ -z "$MODELS" ]; then
  MODELS=$(mktemp -d)
  trap 'rm -rf "$MODELS"' EXIT
  Tools/export/make-test-packs "$MODELS" >/dev/null
fi
swift build -c release --scratch-path "$SCRATCH" --product TorchBench >&2
BENCH="$SCRATCH/release/TorchBench"

# name | module file | method and inputs
CASES=(
  "denoiser|$MODELS/tiny-video/denoiser.pt|--input float32:1x4x4x16x16 --input float32:1 --input float32:1x16x32 --input float32:1x4x1x16x16 --input float32:1x4x2x16x16 --input float32:1x4x2x16x16 --input float32:1x5"
  "vae_decoder|$MODELS/tiny-video/vae_decoder.pt|--input float32:1x4x1x8x8"
  "vocoder|$MODELS/tiny-voice/vocoder.pt|--input float32:1x20x200"
)
OUT=$(mktemp)
for c in "${CASES[@]}"; do
  IFS='|' read -r name file args <<<"$c"
  for r in $(seq "$ROUNDS"); do
    # shellcheck disable=SC2086
    echo "swift $name $("$BENCH" --module "$file" $args --iters "$ITERS" --threads "$THREADS")" >>"$OUT"
    # shellcheck disable=SC2086
    echo "python $name $("$PY" Benchmarks/torch_bench.py --module "$file" $args --iters "$ITERS" --threads "$THREADS")" >>"$OUT"
  done
done
PACK_JSON=$("$BENCH" --pack "$MODELS/tiny-video" --threads "$THREADS")

"$PY" - "$OUT" "$PACK_JSON" <<'PYEOF'
import json, sys
best, cpu = {}, {}
for line in open(sys.argv[1]):
    side, name, payload = line.split(" ", 2)
    m = json.loads(payload)["module"]
    key = (name, side)
    best[key] = min(best.get(key, float("inf")), m["median_ms"])
    cpu[key] = min(cpu.get(key, float("inf")), m["cpu_median_ms"])
print(f"{'module':<12} {'swift ms':>9} {'python ms':>9} {'ratio':>6}  | {'swift cpu':>9} {'python cpu':>10} {'ratio':>6}")
print("             wall: median call, best round   | thread CPU time: median call, best round")
worst = worst_cpu = 0.0
for name in dict.fromkeys(n for n, _ in best):
    s, p = best[(name, "swift")], best[(name, "python")]
    cs, cp = cpu[(name, "swift")], cpu[(name, "python")]
    worst, worst_cpu = max(worst, s / p), max(worst_cpu, cs / cp)
    print(f"{name:<12} {s:>9.3f} {p:>9.3f} {s / p:>6.3f}  | {cs:>9.3f} {cp:>10.3f} {cs / cp:>6.3f}")
print(f"worst ratio: wall {worst:.3f}, CPU {worst_cpu:.3f} (target <= 1.05; "
      "on a shared machine the CPU-time column is the steadier one)")
pack = json.loads(sys.argv[2])["pack"]
mib = lambda b: b / 2**20
print(f"pack {pack['name']}: load {pack['load_seconds_total'] * 1000:.1f} ms for "
      f"{len(pack['load_seconds'])} components ({', '.join(f'{k} {v * 1000:.1f}' for k, v in sorted(pack['load_seconds'].items()))} ms); "
      f"RSS {mib(pack['rss_before_bytes']):.1f} MiB before, {mib(pack['rss_all_loaded_bytes']):.1f} MiB all loaded, "
      f"{mib(pack['rss_after_unload_bytes']):.1f} MiB after unload; {mib(pack['size_bytes']):.1f} MiB on disk")
PYEOF
rm -f "$OUT"
