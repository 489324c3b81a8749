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
for i in $(seq 1 "$n"); do
  s=$(date +%s%N); "$bin/prostudio" worker --spec "$spec" > /dev/null; e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "worker start-up, %d runs: median %d ms, p90 %d ms, max %d ms\n", NR, a[int((NR+1)/2)], a[int(NR*0.9+0.5)], a[NR]}'
