#!/usr/bin/env bash
# The quality gate's cost: seconds of gate per minute of video, read from the sidecars of real renders (the gate
# times itself into `quality.seconds`), beside the ffmpeg CLI decoding the same published file once with the same
# loudness meter (`ebur128=peak=true`), in the same run: the gate decodes every frame and sample once, so that is
# its floor. Prints one line per manifest and the ratio gate/ffmpeg.
#
#   Benchmarks/quality-gate-bench.sh [MANIFEST ...]    (default: inbox.example/welcome.yaml)
# Env: CONFIG (release), BIN (a built prostudio to use instead of building one).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-release}
if [ -z "${BIN:-}" ]; then
  swift build -c "$CONFIG" --product prostudio >&2
  BIN="$(swift build -c "$CONFIG" --show-bin-path)/prostudio"
fi
MANIFESTS=("$@")
[ ${#MANIFESTS[@]} -eq 0 ] && MANIFESTS=(inbox.example/welcome.yaml)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for m in "${MANIFESTS[@]}"; do
  name=$(basename "${m%.*}")
  out="$WORK/$name"
  mkdir -p "$out"
  "$BIN" render "$m" --output "$out" --cache "$WORK/cache" >/dev/null 2>"$out.log" || { echo "$m: render failed"; tail -5 "$out.log"; continue; }
  video=$(ls "$out"/*.mp4 | head -1)
  start=$(date +%s.%N)
  ffmpeg -v error -nostats -i "$video" -af ebur128=peak=true -f null - 2>/dev/null
  ff=$(echo "$(date +%s.%N) - $start" | bc)
  /usr/bin/python3 - "$out" "$ff" "$m" <<'PYEOF'
import glob, json, sys
out, ff, manifest = sys.argv[1], float(sys.argv[2]), sys.argv[3]
side = json.load(open(glob.glob(out + "/*.json")[0]))
q = side["quality"]
minutes = side["duration_s"] / 60
print(f"{manifest}: {side['width']}x{side['height']} {side['duration_s']:.1f} s video; gate {q['seconds']:.2f} s "
      f"({q['seconds'] / minutes:.2f} s per minute of video), status {q['status']}; "
      f"ffmpeg decode + ebur128 {ff:.2f} s ({ff / minutes:.2f} s/min); ratio gate/ffmpeg {q['seconds'] / ff:.2f}")
for c in q["checks"]:
    if not c["passed"]:
        print(f"  failed {c['name']}: {c['detail']}")
PYEOF
done
