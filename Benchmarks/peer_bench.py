#!/usr/bin/env python3
"""Peer benchmark: ProStudio's composer beside moviepy 2.x composing the same five scenes the way
MoneyPrinterTurbo does (ImageClip with a resize zoom, TextClip captions, crossfaded concatenation, narration
over music at 0.2, libx264 veryfast + AAC), on the same images, narration, music and caption text.

ProStudio's figure is the compose stage from its sidecar (mix, draw, captions, encode, mux); moviepy's is
building the clips plus write_videofile. Both at 1280x720, 30 fps. moviepy runs in a venv this script makes
(.venv-bench/, from PyPI).

    python3 Benchmarks/peer_bench.py [--runs N]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
venv = os.path.join(root, ".venv-bench")

SCENES = [
    "Welcome to the harbour at dawn, where the boats head out before the sun is up.",
    "The fish market opens at six, and by seven the best of the catch is gone.",
    "Cafés fill with fishermen, students and the first few tourists of the day.",
    "By noon the old town is quiet, shuttered against the heat until evening.",
    "And when the lights come on, the harbour wakes up all over again.",
]

MOVIEPY = r'''
import sys, json, time
from moviepy import ImageClip, TextClip, CompositeVideoClip, AudioFileClip, CompositeAudioClip, concatenate_videoclips, vfx, afx
job = json.load(open(sys.argv[1]))
start = time.monotonic()
clips = []
for s in job["scenes"]:
    narration = AudioFileClip(s["voice"])
    d = s["duration"]
    img = ImageClip(s["image"]).with_duration(d).resized(height=720)
    img = img.resized(lambda t: 1 + 0.04 * t).with_position("center")  # MoneyPrinterTurbo's zoom
    cap = TextClip(font=job["font"], text=s["text"], font_size=40, color="white", stroke_color="black", stroke_width=2,
                   method="caption", size=(1100, None)).with_duration(d).with_position(("center", 560))
    clip = CompositeVideoClip([img, cap], size=(1280, 720)).with_duration(d).with_audio(narration)
    clips.append(clip.with_effects([vfx.CrossFadeIn(0.5)]) if clips else clip)
video = concatenate_videoclips(clips, method="compose", padding=-0.5)
music = AudioFileClip(job["music"]).with_effects([afx.AudioLoop(duration=video.duration), afx.MultiplyVolume(0.2)])
video = video.with_audio(CompositeAudioClip([video.audio, music]))
video.write_videofile(job["out"], fps=30, codec="libx264", preset="veryfast", audio_codec="aac", threads=2, logger=None)
print(json.dumps({"seconds": time.monotonic() - start, "duration": video.duration}))
'''


def ensure_venv():
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    if subprocess.run([py, "-c", "import moviepy"], capture_output=True).returncode != 0:
        subprocess.run([py, "-m", "pip", "install", "-q", "moviepy>=2,<3"], check=True, stdout=sys.stderr)
    return py


def build():
    if not os.environ.get("PROSTUDIO_BENCH_NO_BUILD"):
        subprocess.run(["swift", "build", "-c", "release", "--product", "prostudio"], cwd=root, check=True, stdout=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "prostudio-espeak"], cwd=root, check=True, stdout=sys.stderr)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()


def prepare(tmp):
    """Five photos (ffmpeg test sources at 1600x1200, so both sides scale), a 20 s music file."""
    for i, src in enumerate(["testsrc2", "smptehdbars", "mandelbrot", "rgbtestsrc", "cellauto"]):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{src}=s=1600x1200", "-frames:v", "1",
                        os.path.join(tmp, f"photo{i}.png")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=220:d=20:sample_rate=48000", "-af",
                    "volume=0.3", os.path.join(tmp, "music.wav")], check=True)
    manifest = ["title: Peer benchmark", "output: {width: 1280, height: 720, fps: 30, quality: standard}",
                "voice: {engine: espeak}", "music: {file: music.wav, volume: 0.2}",
                "transitions: {type: crossfade, duration: 0.5}", "scenes:"]
    for i, text in enumerate(SCENES):
        manifest += [f"  - narration: \"{text}\"", f"    image: photo{i}.png"]
    path = os.path.join(tmp, "peer.yaml")
    open(path, "w").write("\n".join(manifest) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    py = ensure_venv()
    bindir = build()
    ours, theirs, durations = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        manifest = prepare(tmp)
        for run in range(args.runs):
            out = os.path.join(tmp, f"out{run}")
            subprocess.run([os.path.join(bindir, "prostudio"), "render", manifest, "-o", out, "--cache", os.path.join(tmp, f"c{run}")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            side = json.load(open(os.path.join(out, "peer.json")))
            ours.append(side["stages"]["compose"]["seconds"])
            durations.append(side["duration_s"])
            # The same narration and scene lengths for moviepy: espeak-ng's CLI, one WAV per scene.
            scenes = []
            for i, (text, timing) in enumerate(zip(SCENES, side["scenes"])):
                wav = os.path.join(tmp, f"voice{i}.wav")
                subprocess.run(["espeak-ng", "-v", "en-us", "-w", wav, text], check=True)
                scenes.append({"text": text, "image": os.path.join(tmp, f"photo{i}.png"), "voice": wav,
                               "duration": timing["duration_s"] + (0.5 if i < len(SCENES) - 1 else 0)})
            job = {"scenes": scenes, "music": os.path.join(tmp, "music.wav"), "out": os.path.join(tmp, f"mp{run}.mp4"),
                   "font": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"}
            open(os.path.join(tmp, "job.json"), "w").write(json.dumps(job))
            script = os.path.join(tmp, "moviepy_job.py")
            open(script, "w").write(MOVIEPY)
            result = subprocess.run([py, script, os.path.join(tmp, "job.json")], check=True, capture_output=True, text=True)
            theirs.append(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])
    med = statistics.median
    print(f"peer benchmark: 5 scenes with photos, captions, crossfades, narration over music; {med(durations):.2f} s of 1280x720 at 30 fps; {args.runs} runs, medians")
    print(f"  ProStudio compose  {med(ours):7.3f} s   ({med(ours) / med(durations):.3f} s per second of video)")
    print(f"  moviepy 2.x        {med(theirs):7.3f} s   ({med(theirs) / med(durations):.3f} s per second of video)")
    print(f"  ProStudio is {med(theirs) / med(ours):.1f}x faster (target: at least 25x)")


if __name__ == "__main__":
    main()
