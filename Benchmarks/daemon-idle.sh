#!/usr/bin/env bash
# Idle cost of the real daemon: RSS, PSS, anonymous memory and CPU over 10 s with an empty inbox, then the same
# after JOBS small jobs (each in a worker process), to see whether the supervisor gives its memory back.
#   Benchmarks/daemon-idle.sh [BIN-DIR] [JOBS]   (default: .build/release, 20)
# API=127.0.0.1:8470 turns the HTTP API on (Benchmarks/api-bench.sh compares the two interleaved).
# `prostudio daemon` execs `prostudio-daemon` (the supervisor) from BIN-DIR; both must be built.
set -euo pipefail
bin=${1:-.build/release}
jobs=${2:-20}
dir=$(mktemp -d)
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir"/{inbox,outbox,state}
"$bin/prostudio" daemon --inbox "$dir/inbox" --outbox "$dir/outbox" --state "$dir/state" ${API:+--api "$API"} 2>"$dir/log" &
pid=$!
sleep 3
echo "process: $(readlink /proc/$pid/exe)"
before=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 10
after=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "daemon idle 10 s: CPU $((after - before)) ticks (of $(getconf CLK_TCK)/s)"
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Anonymous):' /proc/$pid/smaps_rollup | tr -s ' ' | sed 's/^/  /'
grep Threads /proc/$pid/status | sed 's/^/  /'
rss0=$(awk '/^Rss:/ {print $2}' /proc/$pid/smaps_rollup)

for i in $(seq 1 "$jobs"); do
  cat > "$dir/.j$i.tmp" <<YAML
title: Idle bench $i
seed: $i
output: {aspect: "16:9", height: 144, fps: 10, quality: draft}
scenes:
  - narration: Job number $i of the idle benchmark.
YAML
  mv "$dir/.j$i.tmp" "$dir/inbox/j$i.yaml"
done
t0=$(date +%s.%N)
finished() { grep -lE '"state" : "(done|failed|rejected|cancelled)"' "$dir/outbox"/*.json 2>/dev/null | wc -l; }
until [ "$(finished)" -ge "$jobs" ] && ! pgrep -P "$pid" >/dev/null; do sleep 0.2; done
echo "jobs done: $(ls "$dir/outbox"/*.mp4 2>/dev/null | wc -l) of $jobs (the others: see $dir/log)"
t1=$(date +%s.%N)
sleep 2
before=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 10
after=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "after $jobs jobs ($(echo "$t1 - $t0" | bc) s): idle 10 s CPU $((after - before)) ticks"
grep -E '^(Rss|Pss|Anonymous):' /proc/$pid/smaps_rollup | tr -s ' ' | sed 's/^/  /'
rss1=$(awk '/^Rss:/ {print $2}' /proc/$pid/smaps_rollup)
echo "RSS change after $jobs jobs: $((rss1 - rss0)) kB"
