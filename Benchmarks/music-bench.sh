#!/usr/bin/env bash
# The musicgen engine measured (not a test): run by hand, numbers go in Docs/musicgen.md.
#
#   Benchmarks/music-bench.sh MODELS_DIR [tokens|bed|memory|all]
#
# tokens: decoder steps/s, Swift (release MusicBench) vs transformers' generate (torch 1.13, eager, KV cache) on
#         the same pack, greedy, guidance 3, in the same run; each side's best of ROUNDS; prints the ratio.
# bed:    a SECONDS-long bed (default 10) from the real-size musicgen-small config (random weights): compute
#         seconds per second of audio and peak RSS.
# memory: peak RSS of a 30-second and a 10-minute bed from the tiny pack (one process each).
# Packs are exported into MODELS_DIR when missing (tiny-musicgen, musicgen-small-random: ~1 min, 4.4 GB disk).
# Env: FRAMES (tokens run, 250 = 5 s), ROUNDS (3), SECONDS (10), PACK (tokens pack: musicgen-small-random).
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:?usage: $0 MODELS_DIR [tokens|bed|memory|all]}
MODE=${2:-all}
FRAMES=${FRAMES:-250} ROUNDS=${ROUNDS:-3} SECS=${SECONDS_OF_AUDIO:-10} PACK=${PACK:-musicgen-small-random}
swift build -c release --product MusicBench >&2
# The libtorch runtime (libProStudioTorch.so) is opened from beside the binary.
swift build -c release --product ProStudioTorch >&2
BENCH=.build/release/MusicBench
[ -f "$MODELS/tiny-musicgen/pack.json" ] || Tools/export/export-musicgen --tiny --out "$MODELS" >&2
if [ "$MODE" != memory ] && [ ! -f "$MODELS/musicgen-small-random/pack.json" ]; then
  Tools/export/export-musicgen --small --out "$MODELS" >&2
fi

if [ "$MODE" = tokens ] || [ "$MODE" = all ]; then
  K=$(python3 -c "import json; print(json.load(open('$MODELS/$PACK/pack.json'))['codebooks'])")
  best_swift=0; best_py=0; best_swift_cpu=0; best_py_cpu=0
  for r in $(seq "$ROUNDS"); do
    sj=$("$BENCH" tokens "$MODELS" "$PACK" "$FRAMES" 3 2>/dev/null)
    s=$(echo "$sj" | python3 -c "import json,sys; print(json.load(sys.stdin)['steps_per_second'])")
    sc=$(echo "$sj" | python3 -c "import json,sys; print(json.load(sys.stdin)['steps_per_cpu_second'])")
    out=$(mktemp -d)
    Tools/export/export-musicgen --reference --checkpoint "$MODELS/$PACK/reference-checkpoint" --ids 5,9,1 \
      --max-new-tokens $((FRAMES + K - 1)) --guidance 3 --out "$out" >/dev/null 2>&1
    p=$(python3 -c "import json; print(json.load(open('$out/result.json'))['steps_per_second'])")
    pc=$(python3 -c "import json; print(json.load(open('$out/result.json'))['steps_per_cpu_second'])")
    rm -rf "$out"
    echo "round $r: swift $s steps/s ($sc per CPU second), transformers $p steps/s ($pc per CPU second)" >&2
    best_swift=$(python3 -c "print(max($best_swift, $s))"); best_py=$(python3 -c "print(max($best_py, $p))")
    best_swift_cpu=$(python3 -c "print(max($best_swift_cpu, $sc))"); best_py_cpu=$(python3 -c "print(max($best_py_cpu, $pc))")
  done
  python3 -c "print('tokens %s: %d frames, guidance 3, greedy, best of $ROUNDS: swift %.2f steps/s, transformers %.2f steps/s, time ratio swift/transformers %.3f; per CPU second swift %.2f, transformers %.2f, CPU-time ratio %.3f' % ('$PACK', $FRAMES, $best_swift, $best_py, $best_py / $best_swift, $best_swift_cpu, $best_py_cpu, $best_py_cpu / $best_swift_cpu))"
fi

if [ "$MODE" = bed ] || [ "$MODE" = all ]; then
  "$BENCH" bed "$MODELS" musicgen-small-random "$SECS" 2>/dev/null
fi

if [ "$MODE" = memory ] || [ "$MODE" = all ]; then
  for s in 30 600; do "$BENCH" bed "$MODELS" tiny-musicgen "$s" 2>/dev/null; done
fi
