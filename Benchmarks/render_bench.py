#!/usr/bin/env python3
"""Render benchmark: the 10-second 720p example on the embedded engines.

Prints wall time per stage and in total, the real-time factor and peak RSS of `prostudio render`, and
sets its composition stage beside the bare ffmpeg CLI doing the same work in the same run, as a ratio:
the same filter graph (read from the render's --verbose log: gradients, crossfade, and the same ASS script
burned by libass: captions, title card) and the same H.264 (libx264 veryfast, crf 23) + AAC (160 kb/s, 48 kHz) encode
of the same length and the same mix. Each side runs RUNS times (default 3) alternately; medians are reported.

    python3 Benchmarks/render_bench.py [--runs N] [--manifest inbox.example/welcome.yaml] [--output "{height: 1080}"]
"""
import argparse, base64, json, os, re, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def build():
    if not os.environ.get("PROSTUDIO_BENCH_NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release"], cwd=root, check=True, stdout=sys.stderr)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()

def timed(cmd):
    """Wall seconds, CPU seconds (user + system) and peak RSS (bytes) of one command."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        err.seek(0)
        log = err.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{log}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, log

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--manifest", default=os.path.join(root, "inbox.example/welcome.yaml"))
    ap.add_argument("--output", help='replace the manifest\'s output line, e.g. "{height: 1080}" or "{width: 1080, height: 1920}"')
    args = ap.parse_args()
    bindir = build()
    load_before = os.getloadavg()
    prostudio = os.path.join(bindir, "prostudio")
    stages, cpu, totals, rss, ffmpeg_times, ffmpeg_cpu, durations = {}, {}, [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        if args.output:
            text = open(args.manifest).read()
            text = re.sub(r"^output:.*$", f"output: {args.output}", text, flags=re.M)
            args.manifest = os.path.join(tmp, os.path.basename(args.manifest))
            open(args.manifest, "w").write(text)
        for run in range(args.runs):
            out = os.path.join(tmp, f"out{run}")
            cache = os.path.join(tmp, f"cache{run}")  # a cold cache each run: nothing is skipped
            wall, _, peak, log = timed([prostudio, "render", args.manifest, "-o", out, "--cache", cache, "--verbose"])
            totals.append(wall)
            rss.append(peak)
            name = os.path.splitext(os.path.basename(args.manifest))[0]
            sidecar = json.load(open(os.path.join(out, name + ".json")))
            durations.append(sidecar["duration_s"])
            for stage, rec in sidecar["stages"].items():
                stages.setdefault(stage, []).append(rec["seconds"])
                cpu.setdefault(stage, []).append(rec.get("cpu_seconds", 0))
            w, h, fps, d = sidecar["width"], sidecar["height"], sidecar["fps"], sidecar["duration_s"]
            ref = os.path.join(tmp, f"ref{run}.mp4")
            graph = re.search(r"graph=(\S+)", log).group(1)
            if re.search(r"\[(kb|bg|vid)\d+\]", graph):
                # Pictures drawn in Swift (Ken Burns moves, designed backgrounds, model frames) have no ffmpeg CLI
                # equivalent: report this render alone.
                continue
            # The job's ASS file is gone with its work folder: burn the same script (captions, title card, lower
            # thirds), which the --verbose log carries, base64 on one line.
            script = re.search(r"ass_base64=(\S+)", log)
            if script:
                ass = os.path.join(tmp, f"captions{run}.ass")
                open(ass, "wb").write(base64.b64decode(script.group(1)))
                graph = re.sub(r"ass=filename=.*?,format=yuv420p\[out\]", f"ass=filename={ass},format=yuv420p[out]", graph)
            # The same sound too: AAC's cost depends on what it encodes, so the reference encodes the render's own mix
            # (decoded to WAV outside the timing), not a test tone.
            wav = os.path.join(tmp, f"mix{run}.wav")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", os.path.join(out, name + ".mp4"), "-vn", "-c:a", "pcm_f32le", wav], check=True)
            ff_wall, ff_cpu, _, _ = timed([
                "ffmpeg", "-v", "error", "-y",
                "-i", wav,
                "-filter_complex", graph, "-map", "[out]", "-map", "0:a",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart", ref])
            ffmpeg_times.append(ff_wall)
            ffmpeg_cpu.append(ff_cpu)
    med = statistics.median
    duration = med(durations)
    load = os.getloadavg()
    print(f"render benchmark: {os.path.basename(args.manifest)}{' with output ' + args.output if args.output else ''}, {duration:.2f} s of video, {args.runs} runs, medians")
    print(f"  load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    for stage in ["plan", "speech", "visuals", "music", "compose", "publish"]:
        print(f"  {stage:8s} {med(stages[stage]):7.3f} s wall  {med(cpu[stage]):7.3f} s cpu")
    total = med(totals)
    print(f"  total    {total:7.3f} s wall (process)   real-time factor {total / duration:.3f}")
    print(f"  peak RSS {max(rss) / 2**20:7.1f} MiB")
    if not ffmpeg_times:
        print(f"  compose  {med(stages['compose']) / duration:.3f} s per second of video (drawn partly in Swift: no ffmpeg CLI reference)")
        return
    compose, ff = med(stages["compose"]), med(ffmpeg_times)
    cc, fc = med(cpu["compose"]), med(ffmpeg_cpu)
    print(f"  compose vs bare ffmpeg (same graph, captions, length; x264 veryfast crf 23 + aac):")
    print(f"    wall {compose:.3f} s vs {ff:.3f} s = {compose / ff:.2f}x   ({compose / duration:.3f} vs {ff / duration:.3f} s per second of video)")
    print(f"    cpu  {cc:.3f} s vs {fc:.3f} s = {cc / fc:.2f}x   ({cc / duration:.3f} vs {fc / duration:.3f} s per second of video; steadier on a busy machine)")
    if not args.output:
        print(f"  targets: total <= 2 s (got {total:.2f} s); compose <= 0.85x ffmpeg (got {compose / ff:.2f}x)")

if __name__ == "__main__":
    main()
