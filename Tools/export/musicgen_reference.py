#!/usr/bin/env python3
"""transformers' own MusicGen `generate`, greedy, on a pack's reference checkpoint: the answer the Swift engine
is checked against (Tests/MusicGenTests) and timed against (Benchmarks/music-bench.sh).

    musicgen_reference.py --checkpoint PACK/reference-checkpoint --ids 5,9,1 --max-new-tokens N
        [--guidance 3] [--prompt-codes FILE] [--sample --top-k 250 --temperature 1 --seed 0] --out DIR

Writes DIR/codes.i64 (K x frames, row-major, the codes transformers hands its codec, prompt included),
DIR/audio.f32 (the decoded audio at the codec's rate) and DIR/result.json (shape, seconds, tokens/s).
--prompt-codes: int64 K x P raw file, continued as an audio prompt (decoder_input_ids), as the engine's windows do.
"""
import argparse
import json
import os
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--ids", required=True, help="comma-separated token ids (no padding)")
    ap.add_argument("--max-new-tokens", type=int, required=True)
    ap.add_argument("--guidance", type=float, default=1.0)
    ap.add_argument("--prompt-codes")
    ap.add_argument("--sample", action="store_true")
    ap.add_argument("--top-k", type=int, default=250)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="time the best of N runs")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import MusicgenForConditionalGeneration
    model = MusicgenForConditionalGeneration.from_pretrained(args.checkpoint).eval()
    k = model.decoder.config.num_codebooks
    ids = torch.tensor([[int(x) for x in args.ids.split(",")]], dtype=torch.long)
    kwargs = dict(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.max_new_tokens,
                  guidance_scale=args.guidance, do_sample=args.sample)
    if args.sample:
        kwargs.update(top_k=args.top_k, temperature=args.temperature)
    if args.prompt_codes:
        prompt = np.fromfile(args.prompt_codes, dtype=np.int64).reshape(k, -1)
        kwargs["decoder_input_ids"] = torch.from_numpy(prompt.copy())

    captured = []
    original = model.audio_encoder.decode

    marks = []

    def capture(codes, *a, **kw):
        marks.append((time.perf_counter(), time.process_time()))  # tokens done: the codec is not part of tokens/s
        captured.append(codes.clone())
        return original(codes, *a, **kw)

    model.audio_encoder.decode = capture
    best = None
    best_tokens = None
    best_cpu = None
    audio = None
    for _ in range(args.repeat):
        captured.clear()
        marks.clear()
        torch.manual_seed(args.seed)
        start = time.perf_counter()
        cpu = time.process_time()
        with torch.no_grad():
            audio = model.generate(**kwargs)
        seconds = time.perf_counter() - start
        tokens = marks[0][0] - start
        tokens_cpu = marks[0][1] - cpu
        best_cpu = tokens_cpu if best_cpu is None else min(best_cpu, tokens_cpu)
        best = seconds if best is None else min(best, seconds)
        best_tokens = tokens if best_tokens is None else min(best_tokens, tokens)
    codes = captured[0][0, 0]  # (1, 1, K, F) -> (K, F)
    os.makedirs(args.out, exist_ok=True)
    codes.numpy().astype(np.int64).tofile(os.path.join(args.out, "codes.i64"))
    audio[0, 0].numpy().astype(np.float32).tofile(os.path.join(args.out, "audio.f32"))
    steps = args.max_new_tokens
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump({"codebooks": k, "frames": int(codes.shape[1]), "samples": int(audio.shape[-1]), "seconds": best,
                   "token_seconds": best_tokens, "steps": steps, "steps_per_second": steps / best_tokens,
                   "cpu_seconds": best_cpu, "steps_per_cpu_second": steps / best_cpu, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
