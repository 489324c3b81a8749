#!/usr/bin/env python3
"""Memory benchmark: peak memory and time of `prostudio render` as the video gets longer.

Renders, on the embedded engines at 360p draft (espeak voice, procedural pictures and music):
  1min   a job of about one minute,
  10min  the same scenes ten times over (about ten minutes),
  f6     ten scenes of about 4,990 characters each (issue #12's F6 shape, about 50 minutes of narration),
and prints for each the video's length, wall time, per-stage seconds and peak memory (the sidecar's
peak_memory_bytes: VmHWM, reset at each stage start) and the whole process's peak (VmHWM polled from /proc
every 20 ms), then 10min / 1min as ratios (the target: peak memory within 10%, time about 10x). With
--loudness, the integrated loudness and true peak of each output (ffmpeg's ebur128 filter).
`--before BIN` renders the same jobs with another prostudio binary (a build of an older commit) in the same
run, interleaved, for a side-by-side comparison. The load average is printed with the figures.

    python3 Benchmarks/memory_bench.py [--runs N] [--jobs 1min,10min,f6] [--loudness] [--before BIN]
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, threading, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def build():
    if not os.environ.get("PROSTUDIO_BENCH_NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release"], cwd=root, check=True, stdout=sys.stderr)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()

HEAD = """title: Memory bench
seed: 3
output: {aspect: "16:9", height: 360, fps: 30, quality: draft}
voice: {engine: espeak, voice: en-us, rate: 1.0}
visuals: {engine: procedural, style: soft, look: gradient}
music: {engine: procedural, mood: uplifting, volume: 0.3}
captions: {mode: burn, position: bottom}
transitions: {type: crossfade, duration: 0.5}
scenes:
"""

SENTENCES = [
    "Rivers carry water from the hills down to the sea, and towns grow up along their banks.",
    "Every morning the market opens before sunrise, when the fishing boats come back to the harbour.",
    "The old lighthouse still turns its lamp each night, although ships now find their way by satellite.",
    "In the valley the orchards bloom in spring, and by autumn the branches bend under ripe apples.",
]

def scene(chars, k):
    text = ""
    i = k
    while len(text) + len(SENTENCES[i % len(SENTENCES)]) + 1 <= chars:
        text += SENTENCES[i % len(SENTENCES)] + " "
        i += 1
    return f"  - narration: \"{text.strip()}\"\n    prompt: scene {k}\n"

def manifest(job):
    # 1min: three scenes of ~360 characters (~20 s each); 10min: thirty; f6: ten of ~4,990.
    if job == "1min": return HEAD + "".join(scene(360, k) for k in range(3))
    if job == "10min": return HEAD + "".join(scene(360, k) for k in range(30))
    if job == "f6": return HEAD + "".join(scene(4990, k) for k in range(10))
    sys.exit(f"unknown job {job}")

def vmhwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"): return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0

def render(binary, path, out, cache):
    """Wall seconds and polled peak VmHWM of one render, and its sidecar."""
    start = time.monotonic()
    proc = subprocess.Popen([binary, "render", path, "-o", out, "--cache", cache], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    def poll():
        while proc.poll() is None:
            peak[0] = max(peak[0], vmhwm(proc.pid))
            time.sleep(0.02)
    t = threading.Thread(target=poll); t.start()
    _, err = proc.communicate(); t.join()
    wall = time.monotonic() - start
    if proc.returncode != 0: sys.exit(f"render failed ({proc.returncode}): {path}\n{err.decode(errors='replace')}")
    name = os.path.splitext(os.path.basename(path))[0]
    return wall, peak[0], json.load(open(os.path.join(out, name + ".json"))), os.path.join(out, name + ".mp4")

def loudness(mp4):
    log = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", mp4, "-af", "ebur128=peak=true", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    summary = log[log.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+) LUFS", summary); tp = re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary)
    return float(i.group(1)), float(tp.group(1))

def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--jobs", default="1min,10min,f6")
    ap.add_argument("--loudness", action="store_true")
    ap.add_argument("--before", help="another prostudio binary to run the same jobs with, interleaved")
    args = ap.parse_args()
    binaries = [("this", os.path.join(build(), "prostudio"))] + ([("before", args.before)] if args.before else [])
    jobs = args.jobs.split(",")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for job in jobs:
            open(os.path.join(tmp, job + ".yaml"), "w").write(manifest(job))
        for run in range(args.runs):
            for job in jobs:
                for label, binary in binaries:
                    key = (label, job)
                    out = os.path.join(tmp, f"out-{label}-{job}-{run}")
                    cache = os.path.join(tmp, f"cache-{label}-{job}-{run}")  # cold cache: nothing is skipped
                    before = load()
                    wall, peak, sidecar, mp4 = render(binary, os.path.join(tmp, job + ".yaml"), out, cache)
                    r = results.setdefault(key, {"wall": [], "peak": [], "stages": {}, "duration": sidecar["duration_s"], "load": []})
                    r["wall"].append(wall); r["peak"].append(peak); r["load"].append(f"{before} -> {load()}")
                    for stage, rec in sidecar["stages"].items():
                        s = r["stages"].setdefault(stage, {"seconds": [], "peak": []})
                        s["seconds"].append(rec["seconds"]); s["peak"].append(rec.get("peak_memory_bytes", 0))
                    if args.loudness: r["loudness"] = loudness(mp4)
                    print(f"{label:6} {job:6} run {run}: {sidecar['duration_s']:7.1f} s of video, {wall:6.1f} s wall, "
                          f"peak {peak / 2**20:6.1f} MiB, compose peak {sidecar['stages']['compose'].get('peak_memory_bytes', 0) / 2**20:6.1f} MiB, load {before}",
                          file=sys.stderr)
                    import shutil; shutil.rmtree(out); shutil.rmtree(cache, ignore_errors=True)
    mib = lambda b: b / 2**20
    stages = ["speech", "visuals", "music", "compose"]
    print(f"\nmedians of {args.runs} run(s); memory in MiB (VmHWM); load average when each run started -> ended")
    print(f"{'binary':6} {'job':6} {'video s':>8} {'wall s':>7} {'peak':>7} " + " ".join(f"{s + ' s/MiB':>17}" for s in stages) + "  loudness")
    for (label, job), r in results.items():
        cols = " ".join(f"{statistics.median(r['stages'][s]['seconds']):7.2f}/{mib(statistics.median(r['stages'][s]['peak'])):7.1f}  " for s in stages)
        loud = f"  I {r['loudness'][0]:.1f} LUFS, true peak {r['loudness'][1]:.1f} dBFS" if "loudness" in r else ""
        print(f"{label:6} {job:6} {r['duration']:8.1f} {statistics.median(r['wall']):7.1f} {mib(statistics.median(r['peak'])):7.1f} {cols}{loud}")
        print(f"{'':14}load {'; '.join(r['load'])}")
    for label, _ in binaries:
        a, b = results.get((label, "1min")), results.get((label, "10min"))
        if a and b:
            print(f"{label}: 10min / 1min: video {b['duration'] / a['duration']:.2f}x, wall {statistics.median(b['wall']) / statistics.median(a['wall']):.2f}x, "
                  f"peak memory {statistics.median(b['peak']) / statistics.median(a['peak']):.3f}x, compose peak "
                  f"{statistics.median(b['stages']['compose']['peak']) / statistics.median(a['stages']['compose']['peak']):.3f}x")

if __name__ == "__main__":
    main()
