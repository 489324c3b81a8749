#!/usr/bin/env python3
"""1,000 concurrent POST /v1/jobs against a real prostudio-daemon, with a kill -9 in the middle.

Every POST carries its own Idempotency-Key. Phase 1 opens all connections at once and kills the daemon (SIGKILL)
after about half have been answered. Phase 2 restarts it and posts all of them again with the same keys. Passes
when every key answered 202 in phase 2 with the id phase 1 gave (where it gave one) and the journal holds exactly
one job per key. Also a clean run (no kill) for latency: p50/p99 of the 1,000 answers and the rate.

    /usr/bin/python3 Benchmarks/api_posts.py --bin .build/release --worker .build/debug [--count 1000]
"""
import argparse, asyncio, json, os, signal, socket, sqlite3, subprocess, sys, tempfile, time, shutil

MANIFEST = b"scenes:\n  - narration: One of many.\nvisuals: {engine: procedural}\nmusic: {engine: none}\noutput: {height: 144, fps: 10, quality: draft}\n"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


class Daemon:
    def __init__(self, bin_dir, worker_dir):
        self.root = tempfile.mkdtemp(prefix="prostudio-posts-")
        for d in ("inbox", "outbox", "state"):
            os.makedirs(f"{self.root}/{d}")
        self.port = free_port()
        self.cmd = [f"{bin_dir}/prostudio-daemon", "--inbox", f"{self.root}/inbox", "--outbox", f"{self.root}/outbox",
                    "--state", f"{self.root}/state", "--worker", os.path.abspath(f"{worker_dir}/prostudio"),
                    "--api", f"127.0.0.1:{self.port}"]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stderr=open(f"{self.root}/log", "a"))
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("daemon not ready: " + open(f"{self.root}/log").read()[-2000:])

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL); self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate(); self.proc.wait(timeout=60)

    def jobs(self):
        db = sqlite3.connect(f"file:{self.root}/state/journal.sqlite3?mode=ro", uri=True)
        rows = db.execute("SELECT id, name, state, dedup_key FROM jobs").fetchall()
        db.close()
        return rows


async def post(port, i, key_prefix):
    start = time.perf_counter()
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        head = (f"POST /v1/jobs?name=post-{i} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/yaml\r\n"
                f"Idempotency-Key: {key_prefix}-{i}\r\nContent-Length: {len(MANIFEST)}\r\n\r\n").encode()
        w.write(head + MANIFEST)
        await w.drain()
        data = await r.read()
        w.close()
        status = int(data.split(b" ", 2)[1])
        body = json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}") if status in (202, 400) else {}
        return i, status, body.get("id"), time.perf_counter() - start
    except Exception as e:  # the kill -9 resets connections: that is the point
        return i, None, None, time.perf_counter() - start


async def burst(port, n, key_prefix, kill_after=None, daemon=None):
    tasks = [asyncio.create_task(post(port, i, key_prefix)) for i in range(n)]
    results = []
    killed_at = None
    for fut in asyncio.as_completed(tasks):
        res = await fut
        results.append(res)
        if kill_after is not None and killed_at is None and sum(1 for x in results if x[1] == 202) >= kill_after:
            daemon.kill9()
            killed_at = len(results)
    return results, killed_at


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--worker", default=".build/debug")
    ap.add_argument("--count", type=int, default=1000)
    a = ap.parse_args()
    n = a.count
    print(f"load average: {open('/proc/loadavg').read().strip()}")

    # Clean run: latency of n concurrent POSTs.
    d = Daemon(a.bin, a.worker); d.start()
    t0 = time.perf_counter()
    results, _ = asyncio.run(burst(d.port, n, "clean"))
    wall = time.perf_counter() - t0
    ok = [r for r in results if r[1] == 202]
    lat = [r[3] for r in ok]
    rows = d.jobs()
    print(f"clean: {len(ok)}/{n} answered 202 in {wall:.2f} s ({n / wall:.0f} POST/s); latency p50 {pct(lat, .5) * 1000:.0f} ms, "
          f"p99 {pct(lat, .99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms; journal rows {len(rows)}")
    clean_ok = len(ok) == n and len(rows) == n
    d.stop(); shutil.rmtree(d.root, ignore_errors=True)

    # kill -9 in the middle, restart, post all again with the same keys.
    d = Daemon(a.bin, a.worker); d.start()
    results, killed_at = asyncio.run(burst(d.port, n, "kill", kill_after=n // 2, daemon=d))
    first = {i: jid for i, s, jid, _ in results if s == 202}
    lost = sum(1 for r in results if r[1] is None)
    print(f"kill -9 after {killed_at} answers: {len(first)} answered 202, {lost} connections cut")
    d.start()
    again, _ = asyncio.run(burst(d.port, n, "kill"))
    second = {i: jid for i, s, jid, _ in again if s == 202}
    mismatched = [i for i, jid in first.items() if second.get(i) != jid]
    rows = d.jobs()
    keys = {r[3] for r in rows}
    d.stop()
    states = {}
    for r in rows:
        states[r[2]] = states.get(r[2], 0) + 1
    print(f"after restart: {len(second)}/{n} answered 202; ids changed for {len(mismatched)} first answers; "
          f"journal rows {len(rows)} (distinct keys {len(keys)}); states {states}")
    leftovers = os.listdir(f"{d.root}/state/api-uploads") if os.path.isdir(f"{d.root}/state/api-uploads") else []
    exactly_once = len(second) == n and not mismatched and len(rows) == n and len(keys) == n and "claimed" not in states and not leftovers
    print(f"uploads left in state/api-uploads: {len(leftovers)}")
    print("RESULT: " + ("exactly once" if exactly_once else "FAILED") + (", clean run ok" if clean_ok else ", clean run FAILED"))
    shutil.rmtree(d.root, ignore_errors=True)
    sys.exit(0 if exactly_once and clean_ok else 1)


if __name__ == "__main__":
    main()
