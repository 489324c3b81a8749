#!/usr/bin/env python3
"""Composition against the encoder's floor (issue 30).

On 2 cores a job's composition cannot beat x264 + AAC encoding the finished frames and sound, so that is the floor:
each render's own MP4 is decoded to raw video (y4m) and raw audio (f32 WAV) outside the timing, then encoded again
by the ffmpeg CLI with the composer's settings (libx264 veryfast crf 23, aac 160k, faststart, default threads).
The ratio is the render's compose stage (from its sidecar: soundtrack mix + drawing + encoding + muxing) over that
re-encode, both in the same run, alternating, medians over RUNS.

Three kinds of five-scene job with narration (espeak), procedural music, burned captions and 0.5 s crossfades:
  stills  photos from inbox.example and Docs/frames with Ken Burns moves
  looks   designed backgrounds only (bokeh, shapes, flow, gradient)
  clips   the explainer's video clip, looped in every scene
at 720p, 1080p and 1080x1920. With PROSTUDIO_PROFILE=1 the composer reports its parts' CPU per thread; the
table after each ratio says where the time above the floor goes.

    python3 Benchmarks/compose_floor.py [--runs 3] [--kinds stills,looks,clips] [--sizes 720p,1080p,1080x1920] [--keep DIR]

x264 is deterministic, so two builds drew the same frames exactly when the kept MP4s' video streams hash the same:
    ffmpeg -v error -i A.mp4 -map 0:v -c copy -f md5 -
Env: PROSTUDIO_BENCH_NO_BUILD=1 uses the release build as it is; PROSTUDIO_BIN=DIR runs the prostudio in DIR (a
copy of an earlier build, to compare two builds on the same machine).
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {"720p": "{height: 720}", "1080p": "{height: 1080}", "1080x1920": "{width: 1080, height: 1920}"}
BARS = {"720p": 1.05, "1080p": 1.10, "1080x1920": 1.10}
NARRATION = [
    "Morning light moves across the harbour while the boats wait for the tide to turn.",
    "A narrow street climbs the hill, and every doorway has a story of its own to tell.",
    "The market opens early, with fruit stacked high and voices calling out the prices.",
    "By noon the square is full of people, music, and the smell of fresh bread.",
    "Evening comes slowly, and the last of the sun turns the old walls to gold.",
]
STILLS = ["inbox.example/explainer/portrait.jpg", "inbox.example/storybook/stripes.png",
          "Docs/frames/explainer-1.png", "Docs/frames/explainer-2.png", "Docs/frames/explainer-3.png"]
LOOKS = ["bokeh", "shapes", "flow", "gradient", "bokeh"]
CLIP = "inbox.example/explainer/clip.mp4"


def build():
    if os.environ.get("PROSTUDIO_BIN"):
        return os.environ["PROSTUDIO_BIN"]
    if not os.environ.get("PROSTUDIO_BENCH_NO_BUILD"):
        for product in ("prostudio", "prostudio-espeak"):
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=root, check=True, stdout=sys.stderr)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()


def manifest(kind, size, folder):
    lines = ["title: Compose floor", "seed: 11", f"output: {SIZES[size]}",
             "voice: {engine: espeak, voice: en-us}", "music: {engine: procedural, mood: calm, volume: 0.3}",
             "captions: {mode: burn}", "transitions: {type: crossfade, duration: 0.5}", "scenes:"]
    for i, text in enumerate(NARRATION):
        lines.append(f"  - narration: {text}")
        if kind == "stills":
            name = f"photo{i}{os.path.splitext(STILLS[i])[1]}"
            shutil.copy(os.path.join(root, STILLS[i]), os.path.join(folder, name))
            lines.append(f"    image: {name}")
        elif kind == "looks":
            lines.append(f"    prompt: scene {i + 1}")
            lines.append(f"    visuals: {{engine: procedural, look: {LOOKS[i]}}}")
        else:
            shutil.copy(os.path.join(root, CLIP), os.path.join(folder, "clip.mp4"))
            lines.append("    video: clip.mp4")
            lines.append("    clip_volume: 0")
    path = os.path.join(folder, "job.yaml")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def timed(cmd, env=None):
    start = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        err.seek(0)
        log = err.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{log[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, log


def render(prostudio, job, out, cache):
    env = dict(os.environ, PROSTUDIO_PROFILE="1")
    _, _, log = timed([prostudio, "render", job, "-o", out, "--cache", cache, "--verbose"], env)
    sidecar = json.load(open(os.path.join(out, "job.json")))
    stage = sidecar["stages"]["compose"]
    m = re.search(r"prostudio compose profile: (\{.*\})", log)
    if not m:
        sys.exit("the render printed no compose profile (PROSTUDIO_PROFILE=1):\n" + log[-2000:])
    mix = re.search(r"seconds=([0-9.]+) stage=compose \[Pipeline\] soundtrack mixed", log)
    profile = json.loads(m.group(1))
    # The profile's own sampling thread is not the composer's work.
    cpu = stage.get("cpu_seconds", 0) - profile["threads"].get("ps-profile", 0)
    return {"wall": stage["seconds"], "cpu": cpu, "profile": profile,
            "mix": float(mix.group(1)) if mix else 0.0, "duration": sidecar["duration_s"],
            "mp4": os.path.join(out, "job.mp4")}


def floor(mp4, tmp):
    """Decodes `mp4` to raw (untimed), then times x264 + AAC on the raw frames and sound with the same settings."""
    y4m, wav, ref = os.path.join(tmp, "raw.y4m"), os.path.join(tmp, "raw.wav"), os.path.join(tmp, "floor.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", mp4, "-map", "0:v", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", y4m,
                    "-map", "0:a", "-c:a", "pcm_f32le", wav], check=True)
    wall, cpu, _ = timed(["ffmpeg", "-v", "error", "-y", "-i", y4m, "-i", wav, "-map", "0:v", "-map", "1:a",
                          "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-b:a", "160k",
                          "-movflags", "+faststart", ref])
    os.remove(y4m)
    return wall, cpu


def summary(kind, size, renders, floors):
    med = statistics.median
    wall, cpu = med(r["wall"] for r in renders), med(r["cpu"] for r in renders)
    fwall, fcpu = med(f[0] for f in floors), med(f[1] for f in floors)
    bar = BARS[size]
    print(f"{kind:6s} {size:9s} {renders[0]['duration']:6.2f} s video: compose {wall:6.3f} s wall {cpu:6.3f} s cpu | "
          f"floor {fwall:6.3f} s wall {fcpu:6.3f} s cpu | ratio {wall / fwall:5.2f}x wall {cpu / fcpu:5.2f}x cpu "
          f"(bar {bar:.2f}x: wall {'met' if wall / fwall <= bar else 'NOT met'}, cpu {'met' if cpu / fcpu <= bar else 'NOT met'})")
    parts = {}
    for r in renders:
        for k, v in r["profile"]["parts"].items():
            parts.setdefault(k, []).append(v)
    threads = {}
    for r in renders:
        for k, v in r["profile"]["threads"].items():
            threads.setdefault(k, []).append(v)
    p = {k: med(v) for k, v in parts.items()}
    t = {k: med(v) for k, v in threads.items()}
    x264 = t.get("ps-x264", 0)
    filt = p.get("filter.thread_total", 0)
    filt_known = sum(p.get(k, 0) for k in ("filter.draw_swift", "filter.captions", "filter.crossfade"))
    mux = p.get("mux.thread_total", 0)
    mux_known = p.get("mux.encode_video", 0) + p.get("mux.audio", 0)
    pcpu = med(r["profile"]["process_cpu"] for r in renders)
    print(f"  above the floor: {wall - fwall:+.3f} s wall, {cpu - fcpu:+.3f} s cpu. Composer CPU by part (s):")
    print(f"    encoder: x264's threads {x264:.3f} + send/receive on the mux thread {p.get('mux.encode_video', 0):.3f}"
          f"  (the floor's whole ffmpeg: {fcpu:.3f})")
    print(f"    audio: soundtrack mix {med(r['mix'] for r in renders):.3f} wall before drawing starts; AAC + mix feed {p.get('mux.audio', 0):.3f}")
    print(f"    filter thread {filt:.3f}: Swift drawing {p.get('filter.draw_swift', 0):.3f}, captions {p.get('filter.captions', 0):.3f} (libass {p.get('filter.captions_libass', 0):.3f}), "
          f"crossfade {p.get('filter.crossfade', 0):.3f}, libavfilter + copies {filt - filt_known:.3f}; graph pools {t.get('ps-lavfi', 0):.3f}")
    print(f"    mux thread other {mux - mux_known:.3f}; process {pcpu:.3f} in all; threads: "
          + ", ".join(f"{k} {v:.3f}" for k, v in sorted(t.items(), key=lambda kv: -kv[1])))
    print(f"    waiting (wall): encoder for a frame {p.get('mux.wait_for_frame', 0):.3f}, filter for queue room {p.get('filter.wait_for_room', 0):.3f}")
    return wall / fwall, cpu / fcpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kinds", default="stills,looks,clips")
    ap.add_argument("--sizes", default="720p,1080p,1080x1920")
    ap.add_argument("--keep", help="copy each job's first MP4 here (KIND-SIZE.mp4), to compare frames between builds")
    args = ap.parse_args()
    prostudio = os.path.join(build(), "prostudio")
    load = os.getloadavg()
    print(f"compose floor: {args.runs} runs each, medians; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    ratios = []
    for kind in args.kinds.split(","):
        for size in args.sizes.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                job = manifest(kind, size, tmp)
                renders, floors = [], []
                for run in range(args.runs):
                    r = render(prostudio, job, os.path.join(tmp, f"out{run}"), os.path.join(tmp, f"cache{run}"))
                    renders.append(r)
                    if args.keep and run == 0:
                        os.makedirs(args.keep, exist_ok=True)
                        shutil.copy(r["mp4"], os.path.join(args.keep, f"{kind}-{size}.mp4"))
                    floors.append(floor(r["mp4"], tmp))
                ratios.append(summary(kind, size, renders, floors))
                sys.stdout.flush()
    load = os.getloadavg()
    print(f"load after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; worst ratio {max(r[0] for r in ratios):.2f}x wall, "
          f"{max(r[1] for r in ratios):.2f}x cpu (on a busy machine only the cpu ratios mean much)")


if __name__ == "__main__":
    main()
