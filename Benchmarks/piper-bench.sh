#!/usr/bin/env bash
# Real-time factor of the Piper voice through ProStudio's Swift libtorch runtime beside onnxruntime and Python
# torch, on the same sentences in one run, with peak RSS; prints the Swift/onnxruntime ratio (target <= 1.3).
#
#   Benchmarks/piper-bench.sh MODELS_DIR        (MODELS_DIR/joe-medium from Tools/export/install-piper-voice)
# Env: ROUNDS (3: the backends take turns; each keeps its best round), REPEAT (3 passes per round),
#      SCRATCH (.build-voice). Extra arguments go to bench_piper.py (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:?usage: $0 MODELS_DIR [bench_piper.py args]}
shift
ROUNDS=${ROUNDS:-3} REPEAT=${REPEAT:-3} SCRATCH=${SCRATCH:-.build-voice}
swift build -c release --scratch-path "$SCRATCH" --product PiperBench >&2
# PiperBench finds the espeak helper beside itself (for its whole-engine narrate figure).
swift build -c release --scratch-path "$SCRATCH" --product prostudio-espeak >&2
exec /usr/bin/python3 Tools/export/bench_piper.py --pack "$MODELS/joe-medium" --swift "$SCRATCH/release/PiperBench" \
  --rounds "$ROUNDS" --repeat "$REPEAT" "$@"
