#!/usr/bin/env python3
"""Pictures benchmark: a 6-scene 720p job with four images (a landscape photo, a portrait photo, a 4:3 chart, a
transparent logo), one video clip and one text-only scene, rendered by the release build with a cold cache.
Prints seconds of work per second of video for the whole render and for compose, medians of RUNS.

    python3 Benchmarks/pictures_bench.py [--runs N]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.environ.get("PROSTUDIO_BENCH_NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release"], cwd=root, check=True, stdout=sys.stderr)
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080", "-frames:v", "1", os.path.join(tmp, "harbour.jpg"))
        ffmpeg("-f", "lavfi", "-i", "mandelbrot=s=1080x1620", "-frames:v", "1", os.path.join(tmp, "portrait.jpg"))
        ffmpeg("-f", "lavfi", "-i", "smptehdbars=s=1200x900", "-frames:v", "1", os.path.join(tmp, "chart.png"))
        ffmpeg("-f", "lavfi", "-i", "color=c=0x1E88E5:s=600x600,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lt(hypot(X-300,Y-300),280),255,0)'",
               "-frames:v", "1", "-pix_fmt", "rgba", os.path.join(tmp, "logo.png"))
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", os.path.join(tmp, "clip.mp4"))
        scenes = [("The harbour at dawn, boats heading out past the lighthouse.", "image: harbour.jpg"),
                  ("A portrait of the old town's clock tower, whole, over a soft blur.", "image: portrait.jpg"),
                  ("Our catch this year, shown as a chart of the season.", "image: chart.png"),
                  ("Brought to you by the harbour cooperative.", "image: logo.png"),
                  ("And the boats coming home in the evening light.", "video: clip.mp4"),
                  ("Thank you for watching, and see you next season.", "prompt: calm sea at dusk")]
        lines = ["title: Pictures benchmark", "output: {height: 720, fps: 30}", "music: {mood: calm}",
                 "transitions: {type: crossfade, duration: 0.5}", "scenes:"]
        for text, media in scenes:
            lines += [f"  - narration: \"{text}\"", f"    {media}"]
        manifest = os.path.join(tmp, "pictures.yaml")
        open(manifest, "w").write("\n".join(lines) + "\n")
        totals, composes, duration = [], [], 0
        for run in range(args.runs):
            out = os.path.join(tmp, f"out{run}")
            subprocess.run([os.path.join(bindir, "prostudio"), "render", manifest, "-o", out, "--cache", os.path.join(tmp, f"c{run}")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            side = json.load(open(os.path.join(out, "pictures.json")))
            duration = side["duration_s"]
            totals.append(sum(s["seconds"] for s in side["stages"].values()))
            composes.append(side["stages"]["compose"]["seconds"])
    med = statistics.median
    print(f"pictures benchmark: 6 scenes (4 images, 1 clip, 1 designed background), {duration:.2f} s of 1280x720 at 30 fps, {args.runs} runs, medians")
    print(f"  total    {med(totals):6.2f} s   {med(totals) / duration:.3f} s per second of video (target <= 0.35)")
    print(f"  compose  {med(composes):6.2f} s   {med(composes) / duration:.3f} s per second of video")


if __name__ == "__main__":
    main()
