#!/usr/bin/env python3
"""Exports a MusicGen model (transformers' MusicgenForConditionalGeneration) as a ProStudio music pack.

    Tools/export/export-musicgen --from DIR --out MODELS_DIR [--name musicgen-small]   # a local checkpoint
    Tools/export/export-musicgen --small --out MODELS_DIR      # the real musicgen-small config, random weights
    Tools/export/export-musicgen --tiny --out MODELS_DIR       # a tiny config for tests, random weights

DIR is a local copy of e.g. facebook/musicgen-small (config.json, model.safetensors, tokenizer.json). Nothing is
downloaded. --tiny and --small also save the random model they made (save_pretrained) into
PACK/reference-checkpoint/ so transformers' own `generate` can be run on exactly the pack's weights
(Tools/export/musicgen_reference.py). Run through the wrapper, which makes the venv (Debian's torch 1.13 + PyPI
transformers) the packs must be saved with: ProStudio links Debian's libtorch 1.13.

Components (torch.jit.script'ed, see musicgen_ts.py):
- text_encoder: ids (1,L), mask (1,L) -> states (1,L,D) (T5 encoder + enc_to_dec_proj, zero where masked)
- decoder: forward(ids (B,K,S), pos, cache_k, cache_v, cross_k, cross_v, cross_bias) -> logits (B,K,card);
  prepare(enc, mask, guided) -> cross_k, cross_v, cross_bias; new_cache(B, frames, like) -> cache_k, cache_v
- codec_decoder: codes (B,K,T) -> audio (B,1,T*hop) at sample_rate (EnCodec quantizer decode + SEANet decoder)

Tokenizer: tokenizer.vocab, SentencePiece unigram pieces as text (the format VideoDiffusion's Tokenizer reads),
converted from DIR/tokenizer.json; the tiny pack gets a small word vocabulary.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from packlib import param_bytes, sha256, write_pack, write_unigram_vocab  # noqa: E402
import musicgen_ts as mts  # noqa: E402

# No one-letter words: write_unigram_vocab adds every letter as a piece, and a piece listed twice gets a
# different id in SentencePiece/HF (the last) than in a first-wins table.
TINY_WORDS = ("the of and in with calm quiet slow soft warm gentle piano guitar strings drums bass synth "
              "ambient music bed background happy sad dark bright epic upbeat tense relaxed corporate "
              "cinematic electronic acoustic orchestral lofi jazz rock folk melody beat rhythm").split()


def tiny_configs(vocab_size):
    from transformers import EncodecConfig, MusicgenDecoderConfig, T5Config
    text = T5Config(vocab_size=vocab_size, d_model=24, d_kv=8, d_ff=48, num_layers=2, num_heads=3,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu",
                    dropout_rate=0.0)
    audio = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=4, num_residual_layers=1,
                          upsampling_ratios=[8, 5, 4, 4], codebook_size=64, codebook_dim=16, hidden_size=16,
                          num_lstm_layers=2, use_causal_conv=False, pad_mode="reflect", norm_type="weight_norm",
                          compress=2, target_bandwidths=[2.2], normalize=False, chunk_length_s=None, overlap=None)
    dec = MusicgenDecoderConfig(vocab_size=64, max_position_embeddings=256, num_hidden_layers=2, ffn_dim=64,
                                num_attention_heads=4, hidden_size=32, num_codebooks=4, pad_token_id=64,
                                bos_token_id=64, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
    return text, audio, dec


def small_configs():
    """facebook/musicgen-small's configuration (config.json of the hub repository), written out by hand."""
    from transformers import EncodecConfig, MusicgenDecoderConfig, T5Config
    text = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12,
                    relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="relu")
    audio = EncodecConfig(sampling_rate=32000, audio_channels=1, num_filters=64, num_residual_layers=1,
                          upsampling_ratios=[8, 5, 4, 4], codebook_size=2048, codebook_dim=128, hidden_size=128,
                          num_lstm_layers=2, use_causal_conv=False, pad_mode="reflect", norm_type="weight_norm",
                          compress=2, target_bandwidths=[2.2], normalize=False, chunk_length_s=None, overlap=None)
    dec = MusicgenDecoderConfig(vocab_size=2048, max_position_embeddings=2048, num_hidden_layers=24, ffn_dim=4096,
                                num_attention_heads=16, hidden_size=1024, num_codebooks=4, pad_token_id=2048,
                                bos_token_id=2048, dropout=0.1, attention_dropout=0.0, activation_dropout=0.0)
    return text, audio, dec


def build_random(text, audio, dec, seed):
    from transformers import MusicgenConfig, MusicgenForConditionalGeneration
    torch.manual_seed(seed)
    if hasattr(MusicgenConfig, "from_sub_models_config"):
        config = MusicgenConfig.from_sub_models_config(text, audio, dec)
    else:  # transformers 5 (the GPU machine's): sub-configs as keyword dicts
        config = MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=dec.to_dict())
    model = MusicgenForConditionalGeneration(config).eval()
    seed_codebooks(model, seed)
    g = model.generation_config
    g.decoder_start_token_id = dec.vocab_size
    g.pad_token_id = dec.vocab_size
    g.bos_token_id = dec.vocab_size
    g.do_sample = True
    g.guidance_scale = 3.0
    g.top_k = 250
    g.max_length = 1500
    return model


def seed_codebooks(model, seed):
    """transformers initialises EnCodec's quantizer codebooks to zeros (training fills them), so a random model
    decodes every code to the same audio and nothing downstream can tell one code from another. Draw them at random
    instead, with a generator of their own so the other weights stay what this seed always gave. At N(0, 1) the
    random decoder's biases still drown them (two random code sequences decoded to audio correlated 0.996 in the
    tiny pack); at 20 times that the codes carry the sound."""
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            book = layer.codebook
            book.embed.copy_(torch.randn(book.embed.shape, generator=g) * 20.0)
            book.embed_avg.copy_(book.embed)
            book.cluster_size.fill_(1.0)


def unigram_from_tokenizer_json(path, out):
    """tokenizer.json (a Unigram fast tokenizer, as T5's) -> `piece<TAB>score` lines, id = line number."""
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    model = tj["model"]
    if model.get("type") != "Unigram":
        raise SystemExit("export: %s is a %s tokenizer; only Unigram (T5) is supported" % (path, model.get("type")))
    with open(out, "w", encoding="utf-8") as f:
        for piece, score in model["vocab"]:
            f.write("%s\t%r\n" % (piece.replace("\t", " ").replace("\n", " "), float(score)))
    return len(model["vocab"])


def check(model, enc, step, codec, tolerance=1e-4):
    """The scripted components against transformers on random inputs; raises when they disagree."""
    torch.manual_seed(1)
    tc = model.config.text_encoder
    dc = model.decoder.config
    ids = torch.randint(3, tc.vocab_size, (1, 7))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        ref = model.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        if hasattr(model, "enc_to_dec_proj"):
            ref = model.enc_to_dec_proj(ref)
        ref = ref * mask[..., None]
        got = enc(ids, mask)
        d_enc = (ref - got).abs().max().item()
        codes = torch.randint(0, dc.vocab_size, (2 * dc.num_codebooks, 5))
        encb = torch.cat([ref, torch.zeros_like(ref)])
        maskb = torch.cat([mask, torch.zeros_like(mask)])
        out = model.decoder(input_ids=codes, encoder_hidden_states=encb, encoder_attention_mask=maskb)
        ref_logits = out.logits.view(2, dc.num_codebooks, 5, -1)[:, :, -1]
        ck, cv, cb = step.prepare(got, mask, True)
        kc, vc = step.new_cache(2, 16, got)
        step(codes.view(2, dc.num_codebooks, 5)[:, :, :3], 0, kc, vc, ck, cv, cb)
        got_logits = step(codes.view(2, dc.num_codebooks, 5)[:, :, 3:], 3, kc, vc, ck, cv, cb)
        d_dec = (ref_logits - got_logits).abs().max().item()
        c = torch.randint(0, model.audio_encoder.config.codebook_size, (1, dc.num_codebooks, 9))
        ref_audio = model.audio_encoder.decode(c[None], [None]).audio_values
        got_audio = codec(c)
        d_codec = (ref_audio - got_audio).abs().max().item()
    print("export check: max |diff| text_encoder %.2e, decoder %.2e, codec %.2e" % (d_enc, d_dec, d_codec))
    if max(d_enc, d_dec, d_codec) > tolerance:
        raise SystemExit("export: the scripted components disagree with transformers (tolerance %g)" % tolerance)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="source", help="local transformers MusicGen checkpoint folder")
    src.add_argument("--tiny", action="store_true", help="tiny random config (tests)")
    src.add_argument("--small", action="store_true", help="musicgen-small's config with random weights")
    ap.add_argument("--out", required=True, help="models folder; the pack goes to OUT/NAME")
    ap.add_argument("--name")
    ap.add_argument("--window-seconds", type=float, help="frames per generation window (default: 30 s; tiny 0.8 s)")
    ap.add_argument("--prompt-seconds", type=float, help="continuation prompt per window (default 10 s; tiny 0.3 s)")
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)

    name = args.name or ("tiny-musicgen" if args.tiny else "musicgen-small-random" if args.small else
                         os.path.basename(os.path.normpath(args.source)))
    folder = os.path.join(args.out, name)
    os.makedirs(folder, exist_ok=True)
    vocab = os.path.join(folder, "tokenizer.vocab")
    t0 = time.time()
    if args.source:
        from transformers import MusicgenForConditionalGeneration
        model = MusicgenForConditionalGeneration.from_pretrained(args.source, torch_dtype=torch.float32).eval()
        tj = os.path.join(args.source, "tokenizer.json")
        if not os.path.exists(tj):
            raise SystemExit("export: %s has no tokenizer.json (the T5 fast tokenizer)" % args.source)
        unigram_from_tokenizer_json(tj, vocab)
        licence = "see %s (facebook/musicgen-* weights are CC-BY-NC-4.0)" % args.source
        source = "transformers checkpoint %s" % os.path.abspath(args.source)
        lowercase = False
    else:
        if args.tiny:
            write_unigram_vocab(vocab, TINY_WORDS)
            with open(vocab, encoding="utf-8") as f:
                n = sum(1 for _ in f)
            model = build_random(*tiny_configs(n), seed=0)
            # At the default init the text barely reaches the logits (cross-attention ~0.02 std), so guidance would
            # change no token and the guided test would prove nothing: make the condition matter.
            with torch.no_grad():
                for layer in model.decoder.model.decoder.layers:
                    for lin in (layer.encoder_attn.v_proj, layer.encoder_attn.out_proj):
                        lin.weight.normal_(0.0, 0.1)
            lowercase = True
        else:
            # The real T5 vocabulary is not here (no hub access): a word list stands in; ids stay < 32128.
            write_unigram_vocab(vocab, TINY_WORDS)
            model = build_random(*small_configs(), seed=0)
            lowercase = True
        licence = "CC0-1.0 (random weights, no training data)"
        source = "Tools/export/export_musicgen.py --%s (random weights, seed 0, transformers %s)" % (
            "tiny" if args.tiny else "small", __import__("transformers").__version__)
        model.save_pretrained(os.path.join(folder, "reference-checkpoint"))
    print("export: model ready in %.1f s" % (time.time() - t0))
    if getattr(model.decoder.config, "audio_channels", 1) != 1:
        raise SystemExit("export: stereo MusicGen (audio_channels 2, interleaved codebooks) is not supported; use a mono checkpoint")

    enc = torch.jit.script(mts.TextEncoder(model).eval())
    step = torch.jit.script(mts.DecoderStep(model).eval())
    codec = torch.jit.script(mts.CodecDecoder(model).eval())
    if not args.no_check:
        check(model, enc, step, codec)

    dc = model.decoder.config
    ac = model.audio_encoder.config
    frame_rate = int(ac.frame_rate)
    hop = ac.sampling_rate // frame_rate
    window = int(round((args.window_seconds or (0.8 if args.tiny else 30.0)) * frame_rate))
    prompt = int(round((args.prompt_seconds or (0.3 if args.tiny else 10.0)) * frame_rate))
    window = min(window, dc.max_position_embeddings - dc.num_codebooks)
    prompt = min(prompt, window // 3)  # a model with few positions: keep two thirds of each window new
    heads = dc.num_attention_heads
    head_dim = dc.hidden_size // heads
    # Self-attention cache for one guided window (batch 2), keys and values, fp32.
    cache_bytes = 2 * dc.num_hidden_layers * 2 * heads * (window + dc.num_codebooks) * head_dim * 4
    gen = model.generation_config
    components = {
        "text_encoder": {"module": enc.eval(), "scripted": enc, "methods": ["forward"],
                         "description": "ids (1,L) int64, mask (1,L) int64 -> states (1,L,%d), zero where masked" % dc.hidden_size},
        "decoder": {"module": step, "scripted": step, "methods": ["forward", "prepare", "new_cache"],
                    "description": "ids (B,K,S), pos, cache_k, cache_v, cross_k, cross_v, cross_bias -> logits (B,K,card); "
                                   "the self-attention cache is written in place",
                    # Weights, one guided window's cache, and working room for a step's activations.
                    "memory_estimate_bytes": int(param_bytes(step) * 1.25) + cache_bytes + 64 * 1024 * 1024},
        "codec_decoder": {"module": codec, "scripted": codec, "methods": ["forward"],
                          "description": "codes (B,K,T) int64 -> audio (B,1,T*%d) at %d Hz" % (hop, ac.sampling_rate)},
    }
    text_dim = dc.hidden_size
    extra = {
        "sample_rate": ac.sampling_rate,
        "frame_rate": frame_rate,
        "hop_length": hop,
        "codebooks": dc.num_codebooks,
        "card": dc.vocab_size,
        "text": {"tokenizer": "unigram", "file": "tokenizer.vocab", "sha256": sha256(vocab), "pad_id": 0, "eos_id": 1,
                 "unk_id": 2, "max_tokens": 64, "dim": text_dim, "lowercase": lowercase},
        "musicgen": {
            "interface": 1,
            "pad_token": int(gen.pad_token_id if gen.pad_token_id is not None else dc.vocab_size),
            "delay_pattern": list(range(dc.num_codebooks)),
            "window_frames": window,
            "prompt_frames": prompt,
            "max_positions": dc.max_position_embeddings,
            "layers": dc.num_hidden_layers, "heads": heads, "head_dim": head_dim,
            "guidance": float(gen.guidance_scale or 3.0), "top_k": int(gen.top_k or 250), "top_p": 0.0,
            "temperature": float(gen.temperature or 1.0),
            "codec_chunk_frames": 10 * frame_rate if not args.tiny else 24,
            "codec_overlap_frames": frame_rate if not args.tiny else 6,
            "kv_cache_bytes": cache_bytes,
        },
    }
    write_pack(args.out, name, "music", "musicgen", components, extra=extra, licence=licence, source=source)
    print("export: wrote %s (%.1f s)" % (folder, time.time() - t0))


if __name__ == "__main__":
    main()
