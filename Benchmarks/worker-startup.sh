#!/usr/bin/env bash
# What a worker process costs per job before any work: `prostudio worker` started on a manifest that does not
# exist, so it starts, loads the engines, fails the plan stage, reports and exits. Wall time per run, N runs.
#   Benchmarks/worker-startup.sh [BIN-DIR] [N]   (default: .build/release, 20)
set -euo pipefail
bin=${1:-.build/release}
n=${2:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
spec=$(printf '{"jobID":"bench","name":"bench","manifestPath":"%s/none.yaml","outbox":"%s","cache":"%s/cache","cacheMaxBytes":1000000,"logLevel":"error"}' "$dir" "$dir" "$dir")
"$bin/prostudio" worker --spec "$spec" > /dev/null  # warm the page cache
# Interleaved with a reference, `prostudio --help` (the same executable loaded and exited: dynamic linking of
# libav's ~180 libraries, nothing of the worker), so a loaded machine shows as a ratio, not as a worse worker.
summary() { sort -n | awk -v what="$1" '{a[NR]=$1} END {printf "%-28s %d runs: median %d ms, p90 %d ms, max %d ms\n", what, NR, a[int((NR+1)/2)], a[int(NR*0.9+0.5)], a[NR]}'; }
: > "$dir/worker"; : > "$dir/ref"
for i in $(seq 1 "$n"); do
  s=$(date +%s%N); "$bin/prostudio" worker --spec "$spec" > /dev/null; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 )) >> "$dir/worker"
  s=$(date +%s%N); "$bin/prostudio" --help > /dev/null; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 )) >> "$dir/ref"
done
summary "worker start-up" < "$dir/worker"
summary "reference (prostudio --help)" < "$dir/ref"
# The dynamic loader's own share (cycles), from glibc's statistics.
LD_DEBUG=statistics "$bin/prostudio" --help 2>&1 >/dev/null | awk '/total startup time in dynamic loader/ {printf "dynamic loader: %.0f M cycles", $(NF-1)/1e6} /time needed for relocation/ {printf ", relocation %s\n", $NF}'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
