#!/usr/bin/python3
"""Cold workers against warm workers (issue 32), the same queue both ways in one run.

    /usr/bin/python3 Benchmarks/warm_bench.py [--bin .build/debug] [--jobs 30] [--same 50] [--keep]

Queue 1: --jobs jobs interleaving four model packs, one per job in turn: the Piper voice (joe-medium), the MiniLM
library (minilm-l6-v2, visuals from a footage folder), the tiny MusicGen pack and the tiny video pack. Queue 2: --same
jobs all using the same voice and video packs. Each queue runs under a fresh `prostudio daemon`, first with a new
worker per job (`workers: {warm: false}`), then with warm workers (`workers: {warm: true}`). All jobs are dropped
before the daemon starts, so the whole queue waits from the start. Every job has its own narration and seed, so the
stage cache never serves one job's stage to another.

Printed per run: total time (daemon start to the last job done), model loads (components loaded, not found
resident) and their seconds (the jobs' sidecar `models` records), the time from claim to first stage per job (median,
max; the journal's `first_stage_s`), and the largest delay any job had past its FIFO turn (in places).

Packs: $PROSTUDIO_TEST_MODELS (joe-medium, minilm-l6-v2), /tmp/prostudio-test-models-musicgen (tiny-musicgen) and
tiny-video made by `Tools/export/make-test-packs DIR` (--tiny DIR; made into a temp folder when missing).
"""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HEADER = """title: Warm bench {i}
seed: {seed}
output: {{aspect: "16:9", height: 144, fps: 10, quality: draft}}
"""
KINDS = {
    "voice": "voice: {{engine: piper}}\nvisuals: {{engine: procedural}}\nmusic: {{engine: procedural, mood: calm}}\n",
    "library": "voice: {{engine: espeak, voice: en-us}}\nvisuals: {{engine: library, folder: \"{footage}\", min_score: 0.0}}\n"
               "music: {{engine: procedural, mood: calm}}\n",
    "music": "voice: {{engine: espeak, voice: en-us}}\nvisuals: {{engine: procedural}}\nmusic: {{engine: musicgen, pack: tiny-musicgen}}\n",
    "video": "voice: {{engine: espeak, voice: en-us}}\nvisuals: {{engine: diffusion, pack: tiny-video, steps: 2}}\n"
             "music: {{engine: procedural, mood: calm}}\n",
    "same": "voice: {{engine: piper}}\nvisuals: {{engine: diffusion, pack: tiny-video, steps: 2}}\nmusic: {{engine: procedural, mood: calm}}\n",
}
WORDS = "sunset ocean forest city night river mountain garden street harbour morning storm".split()


def manifest(kind, i, footage):
    body = KINDS[kind].format(footage=footage)
    a, b = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
    return HEADER.format(i=i, seed=1000 + i) + body + f"scenes:\n  - narration: Job {i} shows the {a} and the {b}.\n"


def png(width, height, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def models_folder(args, root):
    """One folder holding the four packs, as the daemon's `folders.models`."""
    base = os.environ.get("PROSTUDIO_TEST_MODELS", "/tmp/prostudio-test-models")
    tiny = args.tiny
    if not os.path.exists(os.path.join(tiny, "tiny-video", "pack.json")):
        print(f"making the tiny packs in {tiny} (Tools/export/make-test-packs)", flush=True)
        subprocess.run(["/usr/bin/python3", "Tools/export/make-test-packs", tiny], check=True, stdout=subprocess.DEVNULL)
    sources = {"joe-medium": base, "minilm-l6-v2": base, "tiny-musicgen": args.musicgen, "tiny-video": tiny}
    folder = os.path.join(root, "models")
    os.makedirs(folder)
    for name, where in sources.items():
        src = os.path.join(where, name)
        if not os.path.exists(os.path.join(src, "pack.json")):
            sys.exit(f"warm_bench: the {name} pack is missing at {src} (see the docstring for where each comes from)")
        # Real folders (hard links where they can be): the model store does not follow a linked pack folder.
        shutil.copytree(src, os.path.join(folder, name), copy_function=link_or_copy)
    return folder


def run(args, label, kinds, warm, models, footage):
    root = tempfile.mkdtemp(prefix=f"warm-bench-{label}-")
    inbox, outbox, state = (os.path.join(root, d) for d in ("inbox", "outbox", "state"))
    for d in (inbox, outbox, state):
        os.makedirs(d)
    config = os.path.join(root, "prostudio.yaml")
    with open(config, "w") as f:
        f.write(f"folders: {{models: \"{models}\"}}\nlibrary: {{folders: [\"{footage}\"]}}\n"
                f"workers: {{warm: {'true' if warm else 'false'}}}\n")
    for i, kind in enumerate(kinds):
        with open(os.path.join(inbox, f"q{i:03d}.yaml"), "w") as f:
            f.write(manifest(kind, i, footage))
    log = open(os.path.join(root, "daemon.log"), "wb")
    t0 = time.time()
    proc = subprocess.Popen([os.path.join(args.bin, "prostudio"), "daemon", "--config", config, "--inbox", inbox,
                             "--outbox", outbox, "--state", state], stdout=subprocess.DEVNULL, stderr=log)
    journal = os.path.join(state, "journal.sqlite3")
    final = {"done", "failed", "cancelled", "rejected"}
    rows = []
    deadline = t0 + args.timeout
    while time.time() < deadline:
        time.sleep(0.2)
        if not os.path.exists(journal):
            continue
        try:
            con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=10)
            rows = con.execute("SELECT id, source_name, state, created_at, report FROM jobs").fetchall()
            starts = dict(con.execute("SELECT job_id, MIN(started_at) FROM stage_runs GROUP BY job_id").fetchall())
            con.close()
        except sqlite3.Error:
            continue
        if len(rows) == len(kinds) and all(r[2] in final for r in rows):
            break
    total = time.time() - t0
    proc.terminate()
    proc.wait(60)
    bad = [r for r in rows if r[2] != "done"]
    if len(rows) != len(kinds) or bad:
        sys.exit(f"warm_bench: {label} {'warm' if warm else 'cold'}: {len(rows)} jobs, not done: "
                 f"{[(r[1], r[2]) for r in bad]}; see {root}/daemon.log")
    loads, load_s, first = 0, 0.0, []
    for r in rows:
        report = json.loads(r[4] or "{}")
        for m in report.get("models") or []:
            if not m["reused"]:
                loads += 1
                load_s += m["seconds"]
        if report.get("first_stage_s") is not None:
            first.append(report["first_stage_s"] * 1000)
    fifo = [r[0] for r in sorted(rows, key=lambda r: (r[3], r[1]))]
    began = [r[0] for r in sorted(rows, key=lambda r: starts.get(r[0], 1e18))]
    delay = max(began.index(j) - fifo.index(j) for j in fifo)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return {"total": total, "loads": loads, "load_s": load_s, "first_med": statistics.median(first) if first else float("nan"),
            "first_max": max(first) if first else float("nan"), "delay": delay, "jobs": len(rows)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=".build/debug")
    ap.add_argument("--jobs", type=int, default=30, help="jobs in the interleaved queue (0: skip it)")
    ap.add_argument("--same", type=int, default=50, help="jobs in the same-packs queue (0: skip it)")
    ap.add_argument("--tiny", default=os.path.join(tempfile.gettempdir(), "warm-bench-packs"), help="folder with tiny-video")
    ap.add_argument("--musicgen", default="/tmp/prostudio-test-models-musicgen", help="folder with tiny-musicgen")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    root = tempfile.mkdtemp(prefix="warm-bench-")
    models = models_folder(args, root)
    footage = os.path.join(root, "footage")
    os.makedirs(footage)
    for i, (word, rgb) in enumerate(zip(WORDS, [(250, 120, 40), (20, 60, 200), (20, 140, 40), (90, 90, 90)] * 3)):
        with open(os.path.join(footage, f"{word}.png"), "wb") as f:
            f.write(png(64, 36, rgb))
    queues = []
    if args.jobs:
        queues.append(("interleaved", [["voice", "library", "music", "video"][i % 4] for i in range(args.jobs)]))
    if args.same:
        queues.append(("same packs", ["same"] * args.same))
    results = []
    for label, kinds in queues:
        for warm in (False, True):
            r = run(args, label.replace(" ", "-"), kinds, warm, models, footage)
            results.append((label, "warm" if warm else "cold", r))
            print(f"  {label} {'warm' if warm else 'cold'}: {r['total']:.1f} s", flush=True)
    print()
    print(f"{'queue':12} {'workers':7} {'jobs':>4} {'total s':>8} {'loads':>5} {'load s':>7} {'1st stage ms med':>16} {'max':>8} {'FIFO delay':>10}")
    for label, mode, r in results:
        print(f"{label:12} {mode:7} {r['jobs']:4} {r['total']:8.1f} {r['loads']:5} {r['load_s']:7.2f} {r['first_med']:16.1f} "
              f"{r['first_max']:8.1f} {r['delay']:10}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
