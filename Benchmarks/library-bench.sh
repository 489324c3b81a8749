#!/usr/bin/env bash
# The library engine's costs beside Python, in one run: embedding COUNT descriptions (Swift: WordPiece + libtorch +
# pooling, LibraryBench) against sentence-transformers (Python), and a top-5 search over 10,000 items.
#
#   Benchmarks/library-bench.sh MODELS_DIR [COUNT]     (MODELS_DIR/minilm-l6-v2 from Tools/export/install-minilm)
#
# Env: ROUNDS (2: Swift and Python take turns, each keeps its best), BATCH (32), THREADS (1: one intra-op thread
#      both sides), VENV (.venv-export), SCRATCH (.build-library), TORCH213=1 also builds LibraryBench against the
#      venv's torch 2.13 (the libtorch Python runs) in .build-library-t213, so the two sides run the same kernels;
#      OPENBLAS_LIB=DIR also runs the Debian-libtorch build with DIR (holding an OpenBLAS libblas.so.3) first on
#      LD_LIBRARY_PATH: Debian's libtorch calls whatever libblas.so.3 is installed (the reference BLAS by default).
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:?usage: $0 MODELS_DIR [COUNT]}
COUNT=${2:-1000}
ROUNDS=${ROUNDS:-2} BATCH=${BATCH:-32} THREADS=${THREADS:-1}
VENV=${VENV:-.venv-export} SCRATCH=${SCRATCH:-.build-library}
PY="$VENV/bin/python"
export HF_HUB_OFFLINE=1
# LibraryBench opens the libtorch runtime (libProStudioTorch.so) from beside itself: build that product too.
swift build -c release --scratch-path "$SCRATCH" --product LibraryBench >&2
swift build -c release --scratch-path "$SCRATCH" --product ProStudioTorch >&2
BINS=("$SCRATCH/release/LibraryBench")
if [ "${TORCH213:-0}" = 1 ]; then
  T="$(cd "$VENV/lib/python3.11/site-packages/torch" && pwd)"
  for p in LibraryBench ProStudioTorch; do
    PROSTUDIO_LIBTORCH="$T" PROSTUDIO_LIBTORCH_CXX=c++20 swift build -c release --scratch-path "$SCRATCH-t213" --product "$p" >&2
  done
  BINS+=("$SCRATCH-t213/release/LibraryBench")
fi
TEXTS="$(mktemp)"
trap 'rm -f "$TEXTS"' EXIT
"$PY" Tools/export/minilm_reference.py bench --count "$COUNT" --print-texts >"$TEXTS"
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >&2
for r in $(seq "$ROUNDS"); do
  for b in "${BINS[@]}"; do
    echo "round $r: $("$b" "$MODELS" "$TEXTS" "$BATCH" 10000)"
  done
  if [ -n "${OPENBLAS_LIB:-}" ]; then
    echo "round $r (OpenBLAS): $(LD_LIBRARY_PATH="$OPENBLAS_LIB" OPENBLAS_NUM_THREADS=1 "${BINS[0]}" "$MODELS" "$TEXTS" "$BATCH" 10000)"
  fi
  echo "round $r: $("$PY" Tools/export/minilm_reference.py bench --count "$COUNT" --threads "$THREADS" --batch "$BATCH" 2>/dev/null | tail -1)"
done
