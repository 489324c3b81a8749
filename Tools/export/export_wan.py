#!/usr/bin/env python3
"""Exports Wan2.1 text-to-video (diffusers layout) as a ProStudio video pack (video interface 1).

    python Tools/export/export_wan.py --checkpoint DIR --out MODELS_DIR [--name wan2.1-t2v-1.3b]
        [--width 832 --height 480] [--window 8] [--device cpu|cuda] [--dtype float32|float16|bfloat16]
    python Tools/export/export_wan.py --tiny --out MODELS_DIR      # random tiny config, no weights needed
    python Tools/export/export_wan.py --random 1.3b --out MODELS_DIR [--text-encoder xxl|stub] ...
                                   # the real Wan2.1-T2V-1.3B configuration with random weights (GPU check kit,
                                   # Benchmarks/wan-step-bench.sh); --text-encoder stub: a 1-layer UMT5 of the
                                   # same width (4096) instead of the 5.7B UMT5-XXL, where only the denoiser matters

DIR is a local copy of the diffusers repository Wan-AI/Wan2.1-T2V-1.3B-Diffusers (subfolders transformer/,
vae/, text_encoder/, tokenizer/). Nothing is downloaded. Needs torch, diffusers, transformers, sentencepiece;
the torch that exports must be the libtorch version ProStudio is built against (Docs/video-diffusion.md).

Why Wan2.1 T2V-1.3B: Apache-2.0 weights, 1.3B parameters (fits the 10 GB budget in fp16 with the text
encoder unloaded), a plain flow-matching DiT whose diffusers classes trace cleanly, 16 latent channels, 4x
temporal and 8x spatial VAE compression, 16 fps. (LTX-Video 2B is the other candidate; its VAE's timestep
conditioning and its larger patching are more to wrap.)

Components (all torch.jit.trace'd at the pack's fixed shapes, see `trace` in pack.json):
- text_encoder: UMT5 encoder; ids (2, L) -> embeddings (2, L, 4096), zero past each prompt's end (as WanPipeline).
- denoiser: WanTransformer3DModel wrapped for ProStudio's packed context. Wan2.1 has no context input, so the
  wrapper puts the context frames in front of the window along time (start image, old groups, recent frames,
  oldest first), noises them to the current sigma with a fixed noise (missing slots are pure noise), runs the
  transformer over the whole sequence and returns the window's velocity: FramePack's idea on a model not
  fine-tuned for it (history as clean-ish leading frames); seams are better with a model trained this way.
- vae_encoder / vae_decoder: AutoencoderKLWan with the latents' mean/std normalisation baked in. The causal
  decoder makes 1 + 4(T-1) frames; the wrapper repeats the first one 3 times so every latent frame gives 4,
  and the engine decodes chunks with one latent frame of past (vae.decode_overlap = 1).
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from packlib import param_bytes, sha256, write_pack, write_unigram_vocab  # noqa: E402


class TextEncoderWrap(nn.Module):
    def __init__(self, encoder, pad_id: int):
        super().__init__()
        self.encoder = encoder
        self.pad_id = pad_id

    def forward(self, ids):
        mask = (ids != self.pad_id).long()
        h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        return h * mask.unsqueeze(-1).to(h.dtype)


class DenoiserWrap(nn.Module):
    def __init__(self, transformer, ctx_noise, timestep_scale: float, recent: int):
        super().__init__()
        self.transformer = transformer
        self.register_buffer("ctx_noise", ctx_noise)
        self.timestep_scale = timestep_scale
        self.recent = recent

    def forward(self, latents, timestep, text, start, recent, old, mask):
        b, t = latents.shape[0], latents.shape[2]
        kr = self.recent
        # Oldest first: start image, old groups (given nearest first), recent frames (given nearest first).
        ctx = torch.cat([start, old.flip(2), recent.flip(2)], dim=2)
        m = torch.cat([mask[:, :1], mask[:, 1 + kr:].flip(1), mask[:, 1:1 + kr].flip(1)], dim=1)
        k = ctx.shape[2]
        sigma = (timestep / self.timestep_scale).view(b, 1, 1, 1, 1).to(latents.dtype)
        noise = self.ctx_noise.expand(b, -1, -1, -1, -1).to(latents.dtype)
        noisy = (1 - sigma) * ctx + sigma * noise
        mm = m.view(b, 1, k, 1, 1).to(latents.dtype)
        noisy = mm * noisy + (1 - mm) * noise
        x = torch.cat([noisy, latents], dim=2)
        v = self.transformer(hidden_states=x, timestep=timestep, encoder_hidden_states=text, return_dict=False)[0]
        return v[:, :, k:k + t]


class VAEDecoderWrap(nn.Module):
    def __init__(self, vae, mean, std, temporal: int):
        super().__init__()
        self.vae = vae
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.temporal = temporal

    def forward(self, z):
        video = self.vae.decode(z * self.std + self.mean, return_dict=False)[0]
        first = video[:, :, :1].expand(-1, -1, self.temporal - 1, -1, -1)
        return torch.cat([first, video], dim=2).clamp(-1, 1)


class VAEEncoderWrap(nn.Module):
    def __init__(self, vae, mean, std):
        super().__init__()
        self.vae = vae
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, video):
        z = self.vae.encode(video, return_dict=False)[0].mode()
        return (z - self.mean) / self.std


def unigram_vocab(tokenizer_dir, out_path):
    """SentencePiece pieces and scores as `piece<TAB>score` lines (id = line), from spiece.model or tokenizer.json."""
    spm = os.path.join(tokenizer_dir, "spiece.model")
    lines = []
    if os.path.exists(spm):
        import sentencepiece
        sp = sentencepiece.SentencePieceProcessor(model_file=spm)
        for i in range(sp.get_piece_size()):
            lines.append("%s\t%.6f" % (sp.id_to_piece(i), sp.get_score(i)))
    else:
        tj = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json")))
        assert tj["model"]["type"] == "Unigram", "expected a Unigram tokenizer.json"
        for piece, score in tj["model"]["vocab"]:
            lines.append("%s\t%.6f" % (piece, score))
    # Pieces with tabs or newlines cannot be written in this format: map them to an impossible piece.
    lines = [ln if ln.count("\t") == 1 and "\n" not in ln else "<unusable>\t0" for ln in lines]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def tiny_checkpoint(path):
    """A random tiny Wan2.1-architecture checkpoint in diffusers layout, plus a small trained SentencePiece model."""
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel
    import sentencepiece
    torch.manual_seed(0)
    WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
                          out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                          qk_norm="rms_norm_across_heads", rope_max_seq_len=32).save_pretrained(os.path.join(path, "transformer"))
    AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                     temperal_downsample=[False, True, True]).save_pretrained(os.path.join(path, "vae"))
    UMT5EncoderModel(UMT5Config(vocab_size=200, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                                relative_attention_num_buckets=8)).save_pretrained(os.path.join(path, "text_encoder"))
    tok = os.path.join(path, "tokenizer")
    os.makedirs(tok, exist_ok=True)
    corpus = os.path.join(path, "corpus.txt")
    with open(corpus, "w") as f:
        for i in range(400):
            f.write("a red sun over the sea %d, a quiet forest at dawn, a city street at night, waves and clouds\n" % i)
    sentencepiece.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(tok, "spiece"), vocab_size=64, hard_vocab_limit=False,
                                             model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    return {"max_tokens": 32, "width": 64, "height": 64, "window": 2, "decode_chunk": 2, "steps": 4}


# Wan2.1-T2V-1.3B as its diffusers config.json files give it (transformer/, vae/ = AutoencoderKLWan's defaults,
# text_encoder/ = google/umt5-xxl's encoder).
WAN_1_3B_TRANSFORMER = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                            out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                            qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="gated-gelu")
# Same output width as UMT5-XXL (what the denoiser's text projection reads), one small layer: ~9M parameters.
UMT5_STUB = dict(vocab_size=512, d_model=4096, d_kv=64, d_ff=256, num_layers=1, num_heads=4,
                 relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="gated-gelu")
RANDOM_WORDS = ("a the of and in on at to with over under red green blue orange white black dark bright sun sunset sky "
                "cloud rain sea ocean wave river forest tree mountain snow city street night day morning star moon "
                "cat dog bird horse person walking running flying slow fast camera pan zoom wide shot field flower "
                "road car train boat house window light quiet calm warm cold").split()


def random_models(text_encoder, dev, dtype):
    """The real 1.3B configuration with random weights, made directly on `dev` (a 5.7B UMT5-XXL in seconds on a GPU)."""
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel
    torch.manual_seed(0)
    with torch.device(dev):
        transformer = WanTransformer3DModel(**WAN_1_3B_TRANSFORMER).to(dtype).eval()
        # In the pack's dtype: the manager casts every component to it at load, and a graph traced in fp32 can
        # keep fp32 constants (padding, caches) that a bf16 input then meets.
        vae = AutoencoderKLWan().to(dtype).eval()
        text = UMT5EncoderModel(UMT5Config(**(UMT5_XXL if text_encoder == "xxl" else UMT5_STUB))).to(dtype).eval()
    return transformer, vae, text


def denoiser_activation_bytes(transformer, batch, frames, h, w, text_tokens, element):
    """Working memory of one denoiser forward beyond the weights: the largest per-layer live set (the FFN's hidden
    activations and its GELU copy, the residual stream, q/k/v and attention output, the cross-attention's keys
    and values over the text) times the tokens. Measured against peak RSS in Benchmarks/wan-step-bench.sh."""
    cfg = transformer.config
    p = cfg.patch_size
    tokens = batch * frames * (h // p[1]) * (w // p[2])
    dim = cfg.num_attention_heads * cfg.attention_head_dim
    per_token = 2 * cfg.ffn_dim + 8 * dim
    return tokens * per_token * element + batch * text_tokens * 4 * dim * element


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint")
    ap.add_argument("--tiny", action="store_true", help="export a random tiny Wan2.1 config (proves the exporter)")
    ap.add_argument("--random", choices=["1.3b"], help="the real configuration with random weights (no checkpoint)")
    ap.add_argument("--text-encoder", choices=["xxl", "stub"], default="xxl",
                    help="with --random: UMT5-XXL (5.7B, real size) or a 1-layer stub of the same width")
    ap.add_argument("--no-check", action="store_true", help="skip the trace-vs-eager checks (each costs a forward)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--window", type=int, default=8, help="latent frames per section (8 = 29-32 frames at 16 fps)")
    ap.add_argument("--max-tokens", type=int, default=512)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--shift", type=float, default=None, help="flow shift (default 3.0 at 480p, 5.0 at 720p)")
    ap.add_argument("--decode-chunk", type=int, default=4)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    a = ap.parse_args()
    started = time.time()
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5EncoderModel

    ckpt = a.checkpoint
    if a.tiny:
        ckpt = os.path.join(a.out, ".tiny-wan-checkpoint")
        t = tiny_checkpoint(ckpt)
        a.max_tokens, a.width, a.height, a.window, a.decode_chunk, a.steps = (
            t["max_tokens"], t["width"], t["height"], t["window"], t["decode_chunk"], t["steps"])
        a.name = a.name or "tiny-wan"
    if not ckpt and not a.random:
        ap.error("--checkpoint DIR, --random 1.3b or --tiny")
    name = a.name or ("wan2.1-t2v-1.3b" if not a.random else "wan2.1-t2v-1.3b-random")
    dtype = getattr(torch, a.dtype)
    dev = torch.device(a.device)
    torch.set_grad_enabled(False)

    if a.random:
        transformer, vae, text = random_models(a.text_encoder, dev, dtype)
    else:
        transformer = WanTransformer3DModel.from_pretrained(os.path.join(ckpt, "transformer")).to(dev, dtype).eval()
        vae = AutoencoderKLWan.from_pretrained(os.path.join(ckpt, "vae")).to(dev, torch.float32).eval()
        text = UMT5EncoderModel.from_pretrained(os.path.join(ckpt, "text_encoder")).to(dev, dtype).eval()
    print(json.dumps({"built": name, "seconds": round(time.time() - started, 1),
                      "parameters": {"denoiser": sum(p.numel() for p in transformer.parameters()),
                                     "vae": sum(p.numel() for p in vae.parameters()),
                                     "text_encoder": sum(p.numel() for p in text.parameters())}}), flush=True)

    tc = 2 ** sum(vae.config.temperal_downsample)
    sc = 2 ** len(vae.config.temperal_downsample)
    c = vae.config.z_dim
    if a.width % 16 or a.height % 16:
        ap.error("--width/--height must be multiples of 16 (VAE 8x and patch 2x)")
    h, w = a.height // sc, a.width // sc
    vdt = next(vae.parameters()).dtype
    mean = torch.tensor(vae.config.latents_mean, dtype=vdt, device=dev).view(1, c, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std, dtype=vdt, device=dev).view(1, c, 1, 1, 1)
    recent, old, group = 2, 2, 4
    k = 1 + recent + old

    folder = os.path.join(a.out, name)
    os.makedirs(folder, exist_ok=True)
    vocab_path = os.path.join(folder, "tokenizer.vocab")
    if a.random:
        # No SentencePiece model without the checkpoint: whole words and letters in the same format (ids < 512).
        write_unigram_vocab(vocab_path, RANDOM_WORDS)
        vocab_size = sum(1 for _ in open(vocab_path, encoding="utf-8"))
    else:
        vocab_size = unigram_vocab(os.path.join(ckpt, "tokenizer"), vocab_path)

    gen = torch.Generator().manual_seed(0)
    ids = torch.zeros(2, a.max_tokens, dtype=torch.int64, device=dev)
    ids[:, :5] = torch.tensor([5, 6, 7, 8, 1])
    text_w = TextEncoderWrap(text, pad_id=0).eval()
    text_t = torch.jit.trace(text_w, (ids,), check_trace=False)
    emb = text_t(ids)

    den_w = DenoiserWrap(transformer, torch.randn(1, c, k, h, w, generator=gen).to(dev, dtype), 1000.0, recent).eval()
    lat = torch.randn(2, c, a.window, h, w, generator=gen).to(dev, dtype)
    den_args = (lat, torch.full([2], 500.0, device=dev, dtype=dtype), emb.to(dtype),
                torch.zeros(2, c, 1, h, w, device=dev, dtype=dtype), torch.zeros(2, c, recent, h, w, device=dev, dtype=dtype),
                torch.zeros(2, c, old, h, w, device=dev, dtype=dtype), torch.ones(2, k, device=dev, dtype=dtype))
    den_t = torch.jit.trace(den_w, den_args, check_trace=False)

    decode_frames = a.decode_chunk + 1
    dec_w = VAEDecoderWrap(vae, mean, std, tc).eval()
    dec_t = torch.jit.trace(dec_w, (torch.randn(1, c, decode_frames, h, w, generator=gen).to(dev, vdt),), check_trace=False)
    enc_w = VAEEncoderWrap(vae, mean, std).eval()
    enc_t = torch.jit.trace(enc_w, (torch.rand(1, 3, 1, a.height, a.width, generator=gen).to(dev, vdt) * 2 - 1,), check_trace=False)

    # The traces were taken on one input each: check them on fresh inputs against the eager wrappers.
    checks = {}
    if a.no_check:
        print(json.dumps({"trace_vs_eager_max_abs": "skipped (--no-check)"}))
    ids2 = torch.zeros_like(ids)
    ids2[:, :9] = torch.tensor([7, 3, 9, 4, 11, 5, 6, 8, 1])
    if not a.no_check:
        checks["text_encoder"] = (text_t(ids2) - text_w(ids2)).abs().max().item()
    args2 = list(den_args)
    args2[0] = torch.randn(lat.shape, generator=gen).to(dev, dtype)
    args2[1] = torch.full([2], 250.0, device=dev, dtype=dtype)
    args2[4] = torch.randn(args2[4].shape, generator=gen).to(dev, dtype)
    args2[6] = torch.tensor([[1.0, 1, 0, 1, 0]] * 2, device=dev, dtype=dtype)[:, :k]
    if not a.no_check:
        checks["denoiser"] = (den_t(*args2) - den_w(*args2)).abs().max().item()
    z2 = torch.randn(1, c, decode_frames, h, w, generator=gen).to(dev, vdt)
    if not a.no_check:
        checks["vae_decoder"] = (dec_t(z2) - dec_w(z2)).abs().max().item()
    img2 = torch.rand(1, 3, 1, a.height, a.width, generator=gen).to(dev, vdt) * 2 - 1
    if not a.no_check:
        checks["vae_encoder"] = (enc_t(img2) - enc_w(img2)).abs().max().item()
    if not a.no_check:
        print(json.dumps({"trace_vs_eager_max_abs": checks}))

    shift = a.shift if a.shift is not None else (5.0 if a.height >= 720 or a.width >= 1280 else 3.0)
    act = 512 * 1024 * 1024 if not a.tiny else 32 * 1024 * 1024
    # The denoiser's working memory grows with the tokens (window + context frames at this size, CFG batch):
    # a fixed margin was 2 GiB whatever the size. Measured (Benchmarks/wan-step-bench.sh, 1.3B fp32 on the CPU,
    # 64x64): peak RSS = weights x ~1.3 (a TorchScript load keeps ~0.3x of the file's bytes in the heap after it;
    # Python and Swift alike: 7306 and 7178 MiB for 5413 MiB of weights) + activations + ~0.25 GiB of runtime.
    # The old estimate (weights + 2 GiB fixed, then weights + activations + 0.4 GiB) was 23% low there.
    elem = torch.empty((), dtype=dtype).element_size()
    den_act = (param_bytes(transformer) * 3 // 10 + denoiser_activation_bytes(transformer, 2, a.window + k, h, w, a.max_tokens, elem)
               + 256 * 1024 * 1024)
    write_pack(a.out, name, "video", "wan2.1-t2v-framepack", {
        "text_encoder": {"module": text_w, "scripted": text_t, "memory_estimate_bytes": param_bytes(text) + act,
                         "description": "UMT5 encoder: ids (2,%d) int64 -> (2,%d,%d), zero past each prompt" % (a.max_tokens, a.max_tokens, text.config.d_model)},
        "denoiser": {"module": den_w, "scripted": den_t, "memory_estimate_bytes": param_bytes(transformer) + den_act,
                     "description": "WanTransformer3DModel with the packed context as leading frames; fixed shapes (2,%d,%d,%d,%d)" % (c, a.window, h, w)},
        "vae_decoder": {"module": dec_w, "scripted": dec_t, "memory_estimate_bytes": param_bytes(vae) + act * 4,
                        "description": "AutoencoderKLWan decode, %d latent frames -> %d frames in [-1,1]" % (decode_frames, decode_frames * tc)},
        "vae_encoder": {"module": enc_w, "scripted": enc_t, "memory_estimate_bytes": param_bytes(vae) + act * 2,
                        "description": "AutoencoderKLWan encode (mode), one frame %dx%d -> normalised latents" % (a.width, a.height)},
    }, extra={
        "video_interface": 1,
        "fps": 16,
        "latent": {"channels": c, "temporal_compression": tc, "spatial_compression": sc},
        "text": {"tokenizer": "unigram", "file": "tokenizer.vocab", "sha256": sha256(vocab_path), "pad_id": 0, "eos_id": 1,
                 "unk_id": 2, "max_tokens": a.max_tokens, "dim": text.config.d_model, "lowercase": False, "vocab_size": vocab_size},
        "scheduler": {"kind": "flow_match_euler", "shift": shift, "timestep_scale": 1000.0, "steps": a.steps, "guidance": a.guidance},
        "sections": {"window": a.window, "recent": recent, "old": old, "old_group": group},
        "generation": {"multiple": 16, "max_pixels": a.width * a.height, "sizes": [[a.width, a.height]]},
        "vae": {"decode_chunk": a.decode_chunk, "decode_overlap": 1},
        "trace": {"batch": 2, "decode_frames": decode_frames},
        "exported_with": {"torch": torch.__version__, "device": a.device, "dtype": a.dtype},
    }, licence="Apache-2.0 (Wan2.1)" if not (a.tiny or a.random) else "CC0-1.0 (random weights)",
        source=("Wan-AI/Wan2.1-T2V-1.3B-Diffusers via Tools/export/export_wan.py" if not (a.tiny or a.random)
                else "Tools/export/export_wan.py --random 1.3b --text-encoder %s (real configuration, random weights)" % a.text_encoder
                if a.random else "Tools/export/export_wan.py --tiny (random tiny Wan2.1 config)"),
        dtype=a.dtype)
    print(json.dumps({"pack": folder, "seconds": round(time.time() - started, 1), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
