#!/usr/bin/env python3
"""Peer benchmark: ProStudio's composer beside moviepy 2.x doing what MoneyPrinterTurbo (MPT) does with the same
five scenes: the same photos, narration, music and caption text, 1280x720 at 30 fps.

What MPT does with local images (app/services/video.py and task.py, read for this script; the moviepy side below
re-does those steps, it does not import MPT):
  1. preprocess_video -> render_image_zoom_video, per photo: ImageClip at the photo's own size, resized by a time
     function (1 + 0.03 t: 3 % a second), in a CompositeVideoClip of that size, write_videofile at 30 fps with
     MPT's BT.709 filter, moviepy's default codec settings (libx264, preset medium) and threads (ffmpeg's own).
  2. combine_videos, per clip: VideoFileClip, fit "cover" to the output size (resize, centre crop), transition
     none (MPT's default; its other choices are fades/slides from black, not crossfades), write_videofile again;
     then the ffmpeg CLI concatenates the clips, re-encoding (libx264, -threads 2, the BT.709 filter).
  3. generate_video: the concatenated video under one TextClip per subtitle line (SubtitlesClip; MPT's defaults:
     font size 60, white, black stroke int(1.5) = 1, a black box behind the text, 90 % of the width, wrapped by
     measuring with PIL, 5 % above the bottom), narration x1.8 over music x0.2 with a 3 s fade out, looped to
     length; write_videofile libx264 (preset medium), AAC 192 kb/s at the narration's rate, threads 2, 30 fps.
MPT never sets an x264 preset, so every encode is libx264 medium; `--preset veryfast` puts veryfast on each of
them instead (ProStudio's `quality: standard` is veryfast, crf 23). MPT's captions are one line per clause (its
SRT splits the script at punctuation), timed here in proportion to characters within each scene's narration.

Timed: ProStudio's visuals + compose stages from its sidecar (decode the photos, Ken Burns moves, crossfades,
captions burned by libass, mix, encode, mux; ProStudio's crossfades are more work than MPT's cuts); moviepy's
steps 1-3 (the narration WAV and the SRT are inputs MPT has before it composes, and are made untimed). Both sides
alternate, RUNS times each; medians.

    python3 Benchmarks/peer_bench.py [--runs N] [--preset medium|veryfast]
    PROSTUDIO_BENCH_NO_BUILD=1 uses the existing release build (prostudio and prostudio-espeak).
moviepy runs in .venv-bench/ (made here from PyPI when missing).
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time, wave

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
import json, os, resource, subprocess, sys, time
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from moviepy import (AudioFileClip, CompositeAudioClip, CompositeVideoClip, ImageClip, TextClip, VideoFileClip, afx)
from moviepy.video.tools.subtitles import SubtitlesClip

job = json.load(open(sys.argv[1]))
W, H, FPS = 1280, 720, 30
BT709 = ["-vf", "scale=out_color_matrix=bt709:out_range=tv,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"]
preset = job["preset"]  # None: moviepy's default (medium), as MPT leaves it
enc = {} if preset is None else {"preset": preset}
work = job["work"]
times = {}
def cpu():
    # This process and the ffmpeg processes moviepy and the concat step start (counted once reaped).
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
start, start_cpu = time.monotonic(), cpu()

# 1. Each photo to a zoom clip at the photo's size.
zooms = []
for i, s in enumerate(job["scenes"]):
    d = s["duration"]
    clip = ImageClip(s["image"]).with_duration(d).with_position("center")
    zoom = clip.resized(lambda t, d=d: 1 + (d * 0.03) * (t / d))
    out = os.path.join(work, f"zoom{i}.mp4")
    CompositeVideoClip([zoom]).write_videofile(out, fps=FPS, logger=None, ffmpeg_params=BT709, **enc)
    zooms.append((out, d))
times["zoom clips"] = time.monotonic() - start

# 2. Fit each to the canvas (cover), write it again, concatenate with the ffmpeg CLI.
t0 = time.monotonic()
parts = []
for i, (path, d) in enumerate(zooms):
    clip = VideoFileClip(path, audio=False)
    clip = clip.subclipped(0, min(d, clip.duration))  # MPT cuts at most the clip's own (frame-rounded) length
    sw, sh = clip.size
    scale = max(W / sw, H / sh)
    rw, rh = max(W, -(-int(sw * scale * 1000) // 1000)), max(H, -(-int(sh * scale * 1000) // 1000))
    clip = clip.resized(new_size=(rw, rh)).cropped(x1=(rw - W) // 2, y1=(rh - H) // 2, width=W, height=H)
    out = os.path.join(work, f"part{i}.mp4")
    clip.write_videofile(out, codec="libx264", logger=None, fps=FPS, ffmpeg_params=BT709, **enc)
    clip.close()
    parts.append(out)
listing = os.path.join(work, "concat.txt")
open(listing, "w").write("".join(f"file '{p}'\n" for p in parts))
combined = os.path.join(work, "combined.mp4")
cmd = ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing, "-c:v", "libx264", "-threads", "2"]
cmd += (["-preset", preset] if preset else []) + BT709 + ["-pix_fmt", "yuv420p", "-t", f"{job['duration']:.3f}", combined]
subprocess.run(cmd, check=True)
times["fit + concat"] = time.monotonic() - t0

# 3. Captions (one TextClip in a black box per subtitle line), narration over music, the final encode.
t0 = time.monotonic()
font_size, stroke, max_width = 60, 1, W * 0.9
font = ImageFont.truetype(job["font"], font_size)
ascent, descent = font.getmetrics()
line_h = ascent + descent
def wrap(text):
    lines, cur = [], ""
    for word in text.split(" "):
        cand = f"{cur} {word}".strip()
        l, _, r, _ = font.getbbox(cand)
        if r - l <= max_width or not cur:
            cur = cand
        else:
            lines.append(cur); cur = word
    lines.append(cur)
    return "\n".join(lines), len(lines) * line_h
def caption(item):
    (t1, t2), phrase = item
    text, th = wrap(phrase)
    n = text.count("\n") + 1
    interline = int(font_size * 0.25)
    h = int(th + int(font_size * 0.35) + interline * n + stroke * 2 * n)
    txt = TextClip(text=text, font=job["font"], font_size=font_size, color="#FFFFFF", bg_color=None,
                   stroke_color="#000000", stroke_width=stroke, interline=interline, size=(int(max_width), None),
                   text_align="center", margin=(0, max(int(font_size * 0.3), stroke * 2)))
    size = (int(max_width), max(h, txt.h))
    box = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(box).rounded_rectangle([0, 0, size[0] - 1, size[1] - 1], radius=0, fill=(0, 0, 0, 255))
    box = ImageClip(np.array(box), transparent=True)
    mask = txt.mask.get_frame(0)
    ys = np.where(mask > 0.01)[0]
    y = (size[1] - txt.h) // 2 if len(ys) == 0 else int(round((size[1] - (ys.max() - ys.min() + 1)) / 2 - ys.min()))
    c = CompositeVideoClip([box, txt.with_position(((size[0] - txt.w) // 2, y))], size=size)
    c = c.with_start(t1).with_end(t2).with_duration(t2 - t1)
    return c.with_position(("center", H * 0.95 - c.h))
video = VideoFileClip(combined, audio=False)
subs = SubtitlesClip(job["srt"], encoding="utf-8", make_textclip=lambda text: TextClip(text=text, font=job["font"], font_size=font_size))
video = CompositeVideoClip([video] + [caption(item) for item in subs.subtitles])
voice = AudioFileClip(job["voice"])
narration = voice.with_effects([afx.MultiplyVolume(1.8)])
music = AudioFileClip(job["music"]).with_effects([afx.MultiplyVolume(0.2), afx.AudioFadeOut(3), afx.AudioLoop(duration=video.duration)])
final = video.with_audio(CompositeAudioClip([narration, music]))
final.write_videofile(job["out"], codec="libx264", audio_codec="aac", audio_fps=int(voice.fps or 44100), audio_bitrate="192k",
                      temp_audiofile_path=work, threads=2, logger=None, fps=FPS, ffmpeg_params=BT709, **enc)
times["captions + audio + final encode"] = time.monotonic() - t0
final.close(); video.close(); voice.close()
print(json.dumps({"seconds": time.monotonic() - start, "cpu_seconds": cpu() - start_cpu, "duration": final.duration, "steps": times}))
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
        for product in ["prostudio", "prostudio-espeak"]:
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=root, check=True, stdout=sys.stderr)
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.strip()
    for tool in ["prostudio", "prostudio-espeak"]:
        if not os.path.exists(os.path.join(bindir, tool)):
            sys.exit(f"{bindir}/{tool} is missing: build it (swift build -c release --product {tool}) or unset PROSTUDIO_BENCH_NO_BUILD")
    return bindir


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


def srt_time(t):
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def moviepy_inputs(tmp, side, run):
    """The narration as one WAV (each scene's espeak-ng line at that scene's start in ProStudio's timeline, as MPT's
    TTS gives one file) and MPT-style subtitles: one line per clause, in proportion to characters."""
    starts = [s["start_s"] for s in side["scenes"]]
    ends = starts[1:] + [side["duration_s"]]
    spoken = [s["narration_start_s"] for s in side["scenes"]]
    frames, rate, lines = [], None, []
    for i, text in enumerate(SCENES):
        wav = os.path.join(tmp, f"voice{i}.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", wav, text], check=True)
        with wave.open(wav) as w:
            rate = w.getframerate()
            pcm = w.readframes(w.getnframes())
        at = int(spoken[i] * rate) * 2
        frames.append((at, pcm))
        speech = len(pcm) / 2 / rate
        clauses = [c.strip() for c in re.split(r"(?<=[,.;:!?])\s+", text) if c.strip()]
        t = spoken[i]
        for c in clauses:
            d = speech * len(c) / sum(len(x) for x in clauses)
            lines.append((t, max(t + 0.1, min(t + d, ends[i])), c))
            t += d
    total = bytearray(int(side["duration_s"] * rate) * 2 + 2)
    for at, pcm in frames:
        end = min(len(total), at + len(pcm))
        total[at:end] = pcm[:end - at]
    voice = os.path.join(tmp, f"narration{run}.wav")
    with wave.open(voice, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate); w.writeframes(bytes(total))
    srt = os.path.join(tmp, f"subtitles{run}.srt")
    open(srt, "w").write("".join(f"{n + 1}\n{srt_time(a)} --> {srt_time(b)}\n{c}\n\n" for n, (a, b, c) in enumerate(lines)))
    # Each photo for its scene's span; hard cuts, as MPT joins its clips.
    scenes = [{"image": os.path.join(tmp, f"photo{i}.png"), "duration": ends[i] - starts[i]} for i in range(len(SCENES))]
    return voice, srt, scenes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--preset", choices=["medium", "veryfast"], default="medium",
                    help="x264 preset of moviepy's encodes: medium is what MPT gets (it sets none); veryfast matches ProStudio's")
    args = ap.parse_args()
    py = ensure_venv()
    bindir = build()
    ours, theirs, ours_cpu, theirs_cpu, durations, steps = [], [], [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        manifest = prepare(tmp)
        script = os.path.join(tmp, "moviepy_job.py")
        open(script, "w").write(MOVIEPY)
        for run in range(args.runs):
            out = os.path.join(tmp, f"out{run}")
            subprocess.run([os.path.join(bindir, "prostudio"), "render", manifest, "-o", out, "--cache", os.path.join(tmp, f"c{run}")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            side = json.load(open(os.path.join(out, "peer.json")))
            ours.append(side["stages"]["visuals"]["seconds"] + side["stages"]["compose"]["seconds"])
            ours_cpu.append(side["stages"]["visuals"].get("cpu_seconds", 0) + side["stages"]["compose"].get("cpu_seconds", 0))
            durations.append(side["duration_s"])
            voice, srt, scenes = moviepy_inputs(tmp, side, run)
            work = os.path.join(tmp, f"mp{run}")
            os.makedirs(work)
            job = {"scenes": scenes, "voice": voice, "srt": srt, "music": os.path.join(tmp, "music.wav"),
                   "out": os.path.join(work, "final.mp4"), "work": work, "duration": side["duration_s"],
                   "font": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                   "preset": None if args.preset == "medium" else args.preset}
            open(os.path.join(tmp, "job.json"), "w").write(json.dumps(job))
            result = subprocess.run([py, script, os.path.join(tmp, "job.json")], capture_output=True, text=True)
            if result.returncode != 0:
                sys.exit(f"moviepy failed:\n{result.stderr[-4000:]}")
            rec = json.loads(result.stdout.strip().splitlines()[-1])
            theirs.append(rec["seconds"])
            theirs_cpu.append(rec["cpu_seconds"])
            for k, v in rec["steps"].items():
                steps.setdefault(k, []).append(v)
    med = statistics.median
    load = os.getloadavg()
    print(f"peer benchmark: 5 photo scenes with Ken Burns/zoom, captions, narration over music; {med(durations):.2f} s of 1280x720 "
          f"at 30 fps; {args.runs} runs, medians; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"  ProStudio visuals + compose    {med(ours):8.3f} s wall {med(ours_cpu):8.3f} s cpu   ({med(ours) / med(durations):.3f} s wall per second of video)")
    print(f"  moviepy 2.x as MPT, x264 {args.preset:8s} {med(theirs):6.3f} s wall {med(theirs_cpu):8.3f} s cpu   ({med(theirs) / med(durations):.3f} s wall per second of video)")
    for k, v in steps.items():
        print(f"    {k:32s} {med(v):7.3f} s wall")
    print(f"  ProStudio is {med(theirs) / med(ours):.1f}x faster in wall time, {med(theirs_cpu) / med(ours_cpu):.1f}x in CPU time (target: at least 25x)")


if __name__ == "__main__":
    main()
