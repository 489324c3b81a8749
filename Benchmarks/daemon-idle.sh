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
# What the resident pages are: per mapping, biggest first (file-backed library pages are shared with every other
# Swift process; Anonymous is the supervisor's own heap and stacks).
top_mappings() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { m = (NF >= 6 ? $6 : "[anon]") } /^Rss:/ { r[m] += $2 } /^Anonymous:/ { a[m] += $2 }
       END { for (m in r) printf "%8d kB  anon %6d kB  %s\n", r[m], a[m], m }' /proc/$pid/smaps | sort -rn | head -${1:-8}
}
echo "  biggest mappings:"; top_mappings 8 | sed 's/^/  /'
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"

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
echo "  biggest mappings:"; top_mappings 5 | sed 's/^/  /'
echo "RSS change after $jobs jobs: $((rss1 - rss0)) kB (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
