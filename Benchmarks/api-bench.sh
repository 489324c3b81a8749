#!/usr/bin/env bash
# The HTTP API's targets (#15), on the real daemon:
#  1. idle RSS of prostudio-daemon without and with the API (6 s after a few requests), 3 interleaved runs;
#  2. GET /v1/jobs/ID and GET /metrics under wrk at ~200 requests/s for 30 s (4 connections, 20 ms apart), with a
#     render running on the same cores: latency percentiles (target p99 < 10 ms);
#  3. 1,000 concurrent POST /v1/jobs with a kill -9 in the middle (Benchmarks/api_posts.py): exactly one job per key.
#   Benchmarks/api-bench.sh [BIN-DIR] [WORKER-BIN-DIR]   (default .build/release and .build/debug)
set -euo pipefail
bin=${1:-.build/release}
worker=$(cd "${2:-.build/debug}" && pwd)
command -v wrk >/dev/null || { echo "api-bench: wrk is needed (apt-get install wrk)" >&2; exit 1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rss() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start() {  # start DIR [--api ADDR] -> pid in $pid
  local dir=$1; shift
  mkdir -p "$dir"/{inbox,outbox,state}
  "$bin/prostudio-daemon" --inbox "$dir/inbox" --outbox "$dir/outbox" --state "$dir/state" --worker "$worker/prostudio" "$@" 2>>"$dir/log" &
  pid=$!
}
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

echo "== 1. idle RSS (kB) =="
for rep in 1 2 3; do
  d=$(mktemp -d); start "$d"; sleep 4; off=$(rss $pid); stop $pid; rm -rf "$d"
  d=$(mktemp -d); p=$(port); start "$d" --api "127.0.0.1:$p"
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$p/readyz" >/dev/null && break; sleep 0.1; done
  for path in /readyz /v1/jobs /metrics / /openapi.yaml; do curl -sf -o /dev/null "http://127.0.0.1:$p$path"; done
  # The daemon hands back what requests touched once none has come for 2 s (checked every 2 s): read it after that.
  sleep 6; on=$(rss $pid); stop $pid; rm -rf "$d"
  echo "run $rep: without API $off kB, with API $on kB, difference $((on - off)) kB"
done

echo "== 2. latency under wrk with a render running =="
d=$(mktemp -d); p=$(port); start "$d" --api "127.0.0.1:$p"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$p/readyz" >/dev/null && break; sleep 0.1; done
tiny=$'scenes:\n  - narration: Latency probe.\nvisuals: {engine: procedural}\nmusic: {engine: none}\n'
id=$(curl -sf -X POST -H 'Content-Type: application/yaml' --data-binary "$tiny" "http://127.0.0.1:$p/v1/jobs?name=probe" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
until curl -sf "http://127.0.0.1:$p/v1/jobs/$id" | grep -q '"state":"done"'; do sleep 0.3; done
# A render for the whole measurement: many scenes of narration at 720p (120: a release worker on a quiet machine
# finished 40 during the second measurement).
long="output: {height: 720, fps: 30, quality: standard}"$'\n'"scenes:"$'\n'
for i in $(seq 120); do long+="  - narration: Scene $i keeps the encoder and the voice busy while the API is measured, sentence after sentence."$'\n'; done
curl -sf -X POST -H 'Content-Type: application/yaml' --data-binary "$long" "http://127.0.0.1:$p/v1/jobs?name=render" >/dev/null
until curl -sf "http://127.0.0.1:$p/v1/jobs?state=running" | grep -q '"name":"render"'; do sleep 0.3; done
cat > "$d/pace.lua" <<'LUA'
function delay() return 20 end
LUA
running() { curl -sf "http://127.0.0.1:$p/v1/jobs?state=running" | grep -c '"name":"render"' || true; }
for path in "/v1/jobs/$id" /metrics; do
  # A release worker can finish the render before the second measurement: start another, so both run beside one.
  if [ "$(running)" = 0 ]; then
    curl -sf -X POST -H 'Content-Type: application/yaml' --data-binary "$long" "http://127.0.0.1:$p/v1/jobs?name=render" >/dev/null
    until [ "$(running)" != 0 ]; do sleep 0.3; done
  fi
  echo "-- GET $path (load $(cut -d' ' -f1 /proc/loadavg); render running: $(running))"
  wrk -t1 -c4 -d30s --latency -s "$d/pace.lua" "http://127.0.0.1:$p$path" | grep -E "Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx"
  echo "   render still running at the end: $(running) (0: part of this measurement ran without it)"
done
# Cancel whatever render is still running or queued (none may be: then there is nothing to cancel).
for job in $(curl -sf "http://127.0.0.1:$p/v1/jobs?state=running,queued" | python3 -c 'import json,sys; print(" ".join(j["id"] for j in json.load(sys.stdin).get("jobs", [])))'); do
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$p/v1/jobs/$job/cancel" || true
done
stop $pid; rm -rf "$d"

echo "== 3. 1,000 concurrent POSTs, kill -9 in the middle =="
/usr/bin/python3 "$(dirname "$0")/api_posts.py" --bin "$bin" --worker "$worker" --count 1000
