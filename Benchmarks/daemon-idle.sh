#!/usr/bin/env bash
# Idle cost of the real daemon binary: RSS, PSS, anonymous memory and CPU over 10 s with an empty inbox.
#   Benchmarks/daemon-idle.sh [PATH-TO-prostudio]   (default: .build/release/prostudio)
set -euo pipefail
bin=${1:-.build/release/prostudio}
dir=$(mktemp -d)
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir"/{inbox,outbox,state}
"$bin" daemon --inbox "$dir/inbox" --outbox "$dir/outbox" --state "$dir/state" 2>"$dir/log" &
pid=$!
sleep 3
before=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 10
after=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "daemon idle 10 s: CPU $((after - before)) ticks (of $(getconf CLK_TCK)/s)"
grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Anonymous):' /proc/$pid/smaps_rollup | tr -s ' ' | sed 's/^/  /'
grep Threads /proc/$pid/status | sed 's/^/  /'
