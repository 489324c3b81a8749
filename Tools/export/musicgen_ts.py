"""TorchScript-able MusicGen inference graph, loaded from a transformers `MusicgenForConditionalGeneration`.

transformers' classes do not script (Python-side shape logic, optional outputs), so these re-write the three
inference paths with the same op order, and take their weights from the transformers model:

- TextEncoder: T5 encoder (relative position bias, RMS layer norm, ReLU or gated-GELU FFN), then MusicGen's
  enc_to_dec_proj and the mask multiply (as MusicgenForConditionalGeneration.forward does).
- DecoderStep: the codebook decoder with its KV cache as explicit tensors. `prepare` makes the cross-attention
  keys/values (and, for classifier-free guidance, the unconditional half: zero states, all-masked, exactly as
  transformers' generate builds it); `new_cache` allocates the self-attention cache for a whole window once;
  `forward` runs S new frames at position `pos`, writes their keys/values into the cache in place (flat memory:
  no concatenation per step) and returns the last frame's logits (B, K, card).
- CodecDecoder: EnCodec's quantizer decode + SEANet decoder (weight norm folded in), codes (B,K,T) -> (B,1,T*hop).

Written for torch 1.13 (Debian's libtorch, which ProStudio links).
"""
import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def mask_min(dtype: torch.dtype) -> float:
    """torch.finfo(dtype).min, which TorchScript 1.13 cannot call: the additive mask transformers uses."""
    if dtype == torch.float16:
        return -65504.0
    if dtype == torch.bfloat16:
        return -3.3895313892515355e38
    return -3.4028234663852886e38


# ---------------------------------------------------------------- T5 text encoder

class T5Block(nn.Module):
    def __init__(self, d_model: int, d_kv: int, heads: int, d_ff: int, gated: bool, eps: float):
        super().__init__()
        inner = d_kv * heads
        self.heads = heads
        self.d_kv = d_kv
        self.q = nn.Linear(d_model, inner, bias=False)
        self.k = nn.Linear(d_model, inner, bias=False)
        self.v = nn.Linear(d_model, inner, bias=False)
        self.o = nn.Linear(inner, d_model, bias=False)
        self.ln1 = nn.Parameter(torch.ones(d_model))
        self.ln2 = nn.Parameter(torch.ones(d_model))
        self.gated = gated
        self.wi = nn.Linear(d_model, d_ff, bias=False)
        self.wi_1 = nn.Linear(d_model, d_ff if gated else 1, bias=False)
        self.wo = nn.Linear(d_ff, d_model, bias=False)
        self.eps = eps

    def norm(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return w * x

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, l, _ = x.shape
        h = self.norm(x, self.ln1)
        q = self.q(h).view(b, -1, self.heads, self.d_kv).transpose(1, 2)
        k = self.k(h).view(b, -1, self.heads, self.d_kv).transpose(1, 2)
        v = self.v(h).view(b, -1, self.heads, self.d_kv).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(3, 2))
        scores = scores + bias
        w = F.softmax(scores.float(), dim=-1).type_as(scores)
        a = torch.matmul(w, v).transpose(1, 2).contiguous().view(b, -1, self.heads * self.d_kv)
        x = x + self.o(a)
        h = self.norm(x, self.ln2)
        if self.gated:
            f = F.gelu(self.wi(h), approximate="tanh") * self.wi_1(h)
        else:
            f = F.relu(self.wi(h))
        return x + self.wo(f)


class TextEncoder(nn.Module):
    def __init__(self, hf):
        super().__init__()
        t5 = hf.text_encoder
        c = t5.config
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.embed.weight.data.copy_(t5.shared.weight.data)
        gated = c.is_gated_act
        self.blocks = nn.ModuleList()
        for blk in t5.encoder.block:
            sa = blk.layer[0].SelfAttention
            ff = blk.layer[1].DenseReluDense
            m = T5Block(c.d_model, c.d_kv, c.num_heads, c.d_ff, gated, c.layer_norm_epsilon)
            m.q.weight.data.copy_(sa.q.weight); m.k.weight.data.copy_(sa.k.weight)
            m.v.weight.data.copy_(sa.v.weight); m.o.weight.data.copy_(sa.o.weight)
            m.ln1.data.copy_(blk.layer[0].layer_norm.weight); m.ln2.data.copy_(blk.layer[1].layer_norm.weight)
            if gated:
                m.wi.weight.data.copy_(ff.wi_0.weight); m.wi_1.weight.data.copy_(ff.wi_1.weight)
            else:
                m.wi.weight.data.copy_(ff.wi.weight)
            m.wo.weight.data.copy_(ff.wo.weight)
            self.blocks.append(m)
        self.rel = nn.Embedding(c.relative_attention_num_buckets, c.num_heads)
        self.rel.weight.data.copy_(t5.encoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight)
        self.num_buckets = c.relative_attention_num_buckets
        self.max_distance = c.relative_attention_max_distance
        self.final_ln = nn.Parameter(t5.encoder.final_layer_norm.weight.data.clone())
        self.eps = c.layer_norm_epsilon
        self.project = hf.text_encoder.config.hidden_size != hf.decoder.config.hidden_size and \
            hf.decoder.config.cross_attention_hidden_size is None
        dec = hf.decoder.config.hidden_size
        self.proj = nn.Linear(c.d_model, dec)
        if self.project:
            self.proj.weight.data.copy_(hf.enc_to_dec_proj.weight); self.proj.bias.data.copy_(hf.enc_to_dec_proj.bias)

    def bucket(self, rel: torch.Tensor) -> torch.Tensor:
        # transformers' T5Attention._relative_position_bucket, bidirectional.
        num_buckets = self.num_buckets // 2
        buckets = (rel > 0).to(torch.long) * num_buckets
        rel = torch.abs(rel)
        max_exact = num_buckets // 2
        is_small = rel < max_exact
        large = max_exact + (torch.log(rel.float() / max_exact) / math.log(self.max_distance / max_exact)
                             * (num_buckets - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, num_buckets - 1))
        return buckets + torch.where(is_small, rel, large)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """ids (B,L) int64, mask (B,L) int64 -> encoder states (B,L,D_decoder), zero where mask is 0."""
        x = self.embed(ids)
        l = ids.shape[1]
        ctx = torch.arange(l, dtype=torch.long)[:, None]
        mem = torch.arange(l, dtype=torch.long)[None, :]
        bias = self.rel(self.bucket(mem - ctx)).permute([2, 0, 1]).unsqueeze(0)
        ext = (1.0 - mask[:, None, None, :].to(x.dtype)) * mask_min(x.dtype)
        bias = bias + ext
        for blk in self.blocks:
            x = blk(x, bias)
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        x = self.final_ln * (x * torch.rsqrt(variance + self.eps))
        if self.project:
            x = self.proj(x)
        return x * mask[..., None]


# ---------------------------------------------------------------- codebook decoder with KV cache

class DecoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, ffn: int):
        super().__init__()
        self.heads = heads
        self.head_dim = d // heads
        self.scaling = float(self.head_dim) ** -0.5
        self.sa_ln = nn.LayerNorm(d)
        self.sa_q = nn.Linear(d, d, bias=False); self.sa_k = nn.Linear(d, d, bias=False)
        self.sa_v = nn.Linear(d, d, bias=False); self.sa_o = nn.Linear(d, d, bias=False)
        self.ca_ln = nn.LayerNorm(d)
        self.ca_q = nn.Linear(d, d, bias=False); self.ca_k = nn.Linear(d, d, bias=False)
        self.ca_v = nn.Linear(d, d, bias=False); self.ca_o = nn.Linear(d, d, bias=False)
        self.ff_ln = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn, bias=False)
        self.fc2 = nn.Linear(ffn, d, bias=False)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        w = torch.matmul(q, k.transpose(2, 3)) + bias
        w = F.softmax(w, dim=-1)
        a = torch.matmul(w, v)
        b, h, s, dh = a.shape
        return a.transpose(1, 2).reshape(b, s, h * dh)

    def forward(self, x: torch.Tensor, pos: int, cache_k: torch.Tensor, cache_v: torch.Tensor, causal: torch.Tensor,
                cross_k: torch.Tensor, cross_v: torch.Tensor, cross_bias: torch.Tensor) -> torch.Tensor:
        s = x.shape[1]
        h = self.sa_ln(x)
        q = self.split(self.sa_q(h) * self.scaling)
        cache_k[:, :, pos:pos + s] = self.split(self.sa_k(h))
        cache_v[:, :, pos:pos + s] = self.split(self.sa_v(h))
        a = self.attend(q, cache_k[:, :, :pos + s], cache_v[:, :, :pos + s], causal)
        x = x + self.sa_o(a)
        h = self.ca_ln(x)
        q = self.split(self.ca_q(h) * self.scaling)
        x = x + self.ca_o(self.attend(q, cross_k, cross_v, cross_bias))
        h = self.ff_ln(x)
        return x + self.fc2(F.gelu(self.fc1(h)))


class DecoderStep(nn.Module):
    def __init__(self, hf):
        super().__init__()
        dec = hf.decoder.model.decoder
        c = hf.decoder.config
        self.codebooks = c.num_codebooks
        self.d = c.hidden_size
        self.heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        # transformers computes embed_scale but never applies it in MusicgenDecoder.forward: neither do we.
        self.embeds = nn.ModuleList()
        for e in dec.embed_tokens:
            m = nn.Embedding(e.num_embeddings, e.embedding_dim)
            m.weight.data.copy_(e.weight)
            self.embeds.append(m)
        self.register_buffer("positions", dec.embed_positions.weights.data.clone())
        self.layers = nn.ModuleList()
        for src in dec.layers:
            m = DecoderLayer(c.hidden_size, c.num_attention_heads, c.ffn_dim)
            m.sa_ln.load_state_dict(src.self_attn_layer_norm.state_dict())
            for a, b in (("sa_q", src.self_attn.q_proj), ("sa_k", src.self_attn.k_proj), ("sa_v", src.self_attn.v_proj),
                         ("sa_o", src.self_attn.out_proj), ("ca_q", src.encoder_attn.q_proj),
                         ("ca_k", src.encoder_attn.k_proj), ("ca_v", src.encoder_attn.v_proj),
                         ("ca_o", src.encoder_attn.out_proj), ("fc1", src.fc1), ("fc2", src.fc2)):
                getattr(m, a).weight.data.copy_(b.weight)
            m.ca_ln.load_state_dict(src.encoder_attn_layer_norm.state_dict())
            m.ff_ln.load_state_dict(src.final_layer_norm.state_dict())
            self.layers.append(m)
        self.norm = nn.LayerNorm(c.hidden_size)
        self.norm.load_state_dict(dec.layer_norm.state_dict())
        self.lm_heads = nn.ModuleList()
        for hd in hf.decoder.lm_heads:
            m = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
            m.weight.data.copy_(hd.weight)
            self.lm_heads.append(m)

    @torch.jit.export
    def prepare(self, enc: torch.Tensor, mask: torch.Tensor, guided: bool) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """enc (1,L,D) from the text encoder, mask (1,L) -> cross keys, values (layers,B,H,L,dh) and the additive
        cross-attention mask (B,1,1,L); B is 2 when guided (conditional, then unconditional: zero states, masked)."""
        if guided:
            enc = torch.cat([enc, torch.zeros_like(enc)], dim=0)
            mask = torch.cat([mask, torch.zeros_like(mask)], dim=0)
        ks: List[torch.Tensor] = []
        vs: List[torch.Tensor] = []
        for layer in self.layers:
            ks.append(layer.split(layer.ca_k(enc)))
            vs.append(layer.split(layer.ca_v(enc)))
        bias = (1.0 - mask[:, None, None, :].to(enc.dtype)) * mask_min(enc.dtype)
        return torch.stack(ks), torch.stack(vs), bias

    @torch.jit.export
    def new_cache(self, batch: int, length: int, like: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Self-attention keys and values for `length` frames: (layers,B,H,length,dh) each, zeros."""
        shape = [len(self.layers), batch, self.heads, length, self.head_dim]
        return (torch.zeros(shape, dtype=like.dtype, device=like.device),
                torch.zeros(shape, dtype=like.dtype, device=like.device))

    def forward(self, ids: torch.Tensor, pos: int, cache_k: torch.Tensor, cache_v: torch.Tensor,
                cross_k: torch.Tensor, cross_v: torch.Tensor, cross_bias: torch.Tensor) -> torch.Tensor:
        """ids (B,K,S) for frames pos..pos+S-1 -> logits (B,K,card) of the last one. Writes the frames' keys and
        values into cache_k/cache_v (in place) at pos..pos+S-1."""
        s = ids.shape[2]
        x = self.embeds[0](ids[:, 0])
        for i, emb in enumerate(self.embeds):
            if i > 0:
                x = x + emb(ids[:, i])
        x = x + self.positions[pos:pos + s].to(x.dtype)
        qpos = torch.arange(s, device=ids.device)[:, None] + pos
        kpos = torch.arange(pos + s, device=ids.device)[None, :]
        causal = (kpos > qpos).to(x.dtype) * mask_min(x.dtype)
        i = 0
        for layer in self.layers:
            x = layer(x, pos, cache_k[i], cache_v[i], causal, cross_k[i], cross_v[i], cross_bias)
            i += 1
        x = self.norm(x[:, -1:])
        return torch.stack([head(x) for head in self.lm_heads], dim=1)[:, :, 0]


# ---------------------------------------------------------------- EnCodec decoder

class Conv(nn.Module):
    """EncodecConv1d, weight norm folded, non-causal or causal padding (reflect or zero)."""

    def __init__(self, src, causal: bool, pad_mode: str):
        super().__init__()
        conv = src.conv
        w = torch._weight_norm(conv.weight_v, conv.weight_g, 0) if hasattr(conv, "weight_v") else conv.weight
        self.conv = nn.Conv1d(conv.in_channels, conv.out_channels, conv.kernel_size[0], conv.stride[0],
                              dilation=conv.dilation[0])
        self.conv.weight.data.copy_(w.detach())
        self.conv.bias.data.copy_(conv.bias.detach())
        self.stride = conv.stride[0]
        self.kernel = (conv.kernel_size[0] - 1) * conv.dilation[0] + 1
        self.padding_total = self.kernel - self.stride
        self.causal = causal
        self.reflect = pad_mode == "reflect"

    def pad(self, x: torch.Tensor, left: int, right: int) -> torch.Tensor:
        if not self.reflect:
            return F.pad(x, [left, right])
        length = x.shape[-1]
        max_pad = max(left, right)
        extra = 0
        if length <= max_pad:
            extra = max_pad - length + 1
            x = F.pad(x, [0, extra])
        padded = F.pad(x, [left, right], mode="reflect")
        return padded[..., :padded.shape[-1] - extra]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1]
        n_frames = math.ceil((length - self.kernel + self.padding_total) / self.stride + 1) - 1
        extra = n_frames * self.stride + self.kernel - self.padding_total - length
        if self.causal:
            x = self.pad(x, self.padding_total, extra)
        else:
            right = self.padding_total // 2
            x = self.pad(x, self.padding_total - right, right + extra)
        return self.conv(x)


class ConvT(nn.Module):
    def __init__(self, src, causal: bool, trim_right_ratio: float):
        super().__init__()
        conv = src.conv
        w = torch._weight_norm(conv.weight_v, conv.weight_g, 0) if hasattr(conv, "weight_v") else conv.weight
        self.conv = nn.ConvTranspose1d(conv.in_channels, conv.out_channels, conv.kernel_size[0], conv.stride[0])
        self.conv.weight.data.copy_(w.detach())
        self.conv.bias.data.copy_(conv.bias.detach())
        total = conv.kernel_size[0] - conv.stride[0]
        right = math.ceil(total * trim_right_ratio) if causal else total // 2
        self.left = total - right
        self.right = right

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x[..., self.left:x.shape[-1] - self.right]


class Residual(nn.Module):
    def __init__(self, src, causal: bool, pad_mode: str):
        super().__init__()
        self.block = nn.ModuleList([Conv(m, causal, pad_mode) for m in src.block if not isinstance(m, nn.ELU)])
        self.shortcut = Conv(src.shortcut, causal, pad_mode) if not isinstance(src.shortcut, nn.Identity) else None
        if self.shortcut is None:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for conv in self.block:
            h = conv(F.elu(h))
        return self.shortcut(x) + h


class LSTMSkip(nn.Module):
    def __init__(self, src):
        super().__init__()
        self.lstm = src.lstm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(2, 0, 1)
        y, _ = self.lstm(x)
        return (y + x).permute(1, 2, 0)


class CodecDecoder(nn.Module):
    def __init__(self, hf):
        super().__init__()
        codec = hf.audio_encoder
        c = codec.config
        causal = c.use_causal_conv
        self.codebooks = hf.decoder.config.num_codebooks
        # The quantizer's codebooks, one per LM codebook (the rest of EnCodec's are unused at this bandwidth).
        self.register_buffer("codes_embed",
                             torch.stack([codec.quantizer.layers[i].codebook.embed.data.clone() for i in range(self.codebooks)]))
        layers: List[nn.Module] = []
        from transformers.models.encodec import modeling_encodec as me
        for m in codec.decoder.layers:
            if isinstance(m, me.EncodecConv1d):
                layers.append(Conv(m, causal, c.pad_mode))
            elif isinstance(m, me.EncodecConvTranspose1d):
                layers.append(ConvT(m, causal, c.trim_right_ratio))
            elif isinstance(m, me.EncodecLSTM):
                layers.append(LSTMSkip(m))
            elif isinstance(m, me.EncodecResnetBlock):
                layers.append(Residual(m, causal, c.pad_mode))
            elif isinstance(m, nn.ELU):
                layers.append(nn.ELU())
            else:
                raise ValueError("unexpected EnCodec decoder layer %s" % type(m).__name__)
        self.layers = nn.ModuleList(layers)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B,K,T) int64 -> audio (B,1,T*hop)."""
        x = F.embedding(codes[:, 0], self.codes_embed[0])
        for i in range(1, self.codebooks):
            x = x + F.embedding(codes[:, i], self.codes_embed[i])
        x = x.transpose(1, 2)
        for layer in self.layers:
            x = layer(x)
        return x
