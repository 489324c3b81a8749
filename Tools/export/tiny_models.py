"""Small but real architectures for ProStudio's test packs (random weights).

They have the shapes and calling conventions of the production packs so the torch engines can be tried
end to end without downloading weights:

- video: a byte-level text encoder, a flow-matching DiT-style denoiser with cross-attention to the text
  context, and a VAE-style encoder/decoder (4 latent channels, 4x spatial compression);
- speech: a HiFi-GAN-style vocoder (mel frames -> waveform);
- music: a MusicGen-style codebook LM (K parallel codebooks, causal transformer) and a codec decoder.

Every module is written to be TorchScript-scriptable with torch 1.13.
"""
import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int = 0):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        kv_dim = context_dim if context_dim > 0 else dim
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(kv_dim, dim)
        self.v = nn.Linear(kv_dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor, causal: bool = False) -> torch.Tensor:
        b, n, d = x.shape
        m = context.shape[1]
        q = self.q(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(context).view(b, m, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(context).view(b, m, self.heads, self.head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if causal:
            mask = torch.ones(n, m, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(mask, -1e4)
        attn = torch.softmax(scores, dim=-1)
        y = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, d)
        return self.out(y)


class Block(nn.Module):
    """Pre-norm transformer block; cross-attention when context_dim > 0."""

    def __init__(self, dim: int, heads: int, context_dim: int = 0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.has_cross = context_dim > 0
        self.norm2 = nn.LayerNorm(dim)
        self.cross = Attention(dim, heads, context_dim if context_dim > 0 else dim)
        self.norm3 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor, causal: bool = False) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, causal)
        if self.has_cross:
            x = x + self.cross(self.norm2(x), context, False)
        return x + self.mlp(self.norm3(x))


# ---------------------------------------------------------------- video

class TextEncoder(nn.Module):
    """Byte-level ids (0..255, 256 = pad) -> per-token context vectors."""

    def __init__(self, vocab: int = 260, dim: int = 32, layers: int = 2, heads: int = 4, max_tokens: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, max_tokens, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids) + self.pos[:, : ids.shape[1]]
        for block in self.blocks:
            x = block(x, x)
        return self.norm(x)

    @torch.jit.export
    def pooled(self, ids: torch.Tensor, normalize: bool) -> torch.Tensor:
        """Mean over tokens: one vector per prompt (a named method with a bool argument)."""
        x = self.forward(ids).mean(dim=1)
        if normalize:
            x = F.normalize(x, dim=-1)
        return x


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * 1000.0 * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1).to(t.dtype)


class Denoiser(nn.Module):
    """Flow-matching DiT with a FramePack-style packed context (ProStudio video pack interface 1).

    forward(latents (B,C,T,h,w), timestep (B,) sigma in [0,1], text (B,L,Dt),
            start (B,C,1,h,w), recent (B,C,Kr,h,w), old (B,C,Ko,h,w), mask (B,1+Kr+Ko)) -> velocity like latents

    `start` is the image-to-video conditioning latent, `recent` the last Kr latent frames before the window at
    full detail, `old` earlier frames already averaged in time by the caller; the model patchifies `old` 2x
    coarser in space, so it costs a quarter of the tokens. `mask` is 1 for slots that hold real frames.
    The context enters as extra tokens in self-attention (as in FramePack); the text by cross-attention.
    """

    def __init__(self, channels: int = 4, dim: int = 64, context_dim: int = 32, layers: int = 2, heads: int = 4,
                 patch: int = 2, max_frames: int = 32):
        super().__init__()
        self.channels = channels
        self.dim = dim
        self.patch = patch
        self.patch_embed = nn.Conv3d(channels, dim, kernel_size=(1, patch, patch), stride=(1, patch, patch))
        self.ctx_embed = nn.Conv3d(channels, dim, kernel_size=(1, patch, patch), stride=(1, patch, patch))
        self.ctx_coarse_embed = nn.Conv3d(channels, dim, kernel_size=(1, 2 * patch, 2 * patch),
                                          stride=(1, 2 * patch, 2 * patch))
        # Learned slot embeddings: 0 = start image, 1.. = frame positions counted back from the window.
        self.slot = nn.Parameter(torch.randn(max_frames, dim) * 0.02)
        self.frame = nn.Parameter(torch.randn(max_frames, dim) * 0.02)
        self.missing = nn.Parameter(torch.randn(dim) * 0.02)
        self.time_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, context_dim) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.unpatch = nn.Linear(dim, channels * patch * patch)

    def _tokens(self, y: torch.Tensor, first_slot: int, mask: torch.Tensor) -> torch.Tensor:
        # y: embedded context B, D, K, gh, gw
        b, d, k = y.shape[0], y.shape[1], y.shape[2]
        y = y.permute(0, 2, 3, 4, 1)  # B, K, gh, gw, D
        y = y + self.slot[first_slot:first_slot + k][None, :, None, None, :]
        m = mask[:, first_slot:first_slot + k][:, :, None, None, None]
        y = y * m + self.missing * (1.0 - m)
        return y.reshape(b, -1, d)

    def forward(self, latents: torch.Tensor, timestep: torch.Tensor, text: torch.Tensor, start: torch.Tensor,
                recent: torch.Tensor, old: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = latents.shape
        p = self.patch
        x = self.patch_embed(latents)  # B, D, T, H/p, W/p
        gh, gw = x.shape[3], x.shape[4]
        x = x.permute(0, 2, 3, 4, 1) + self.frame[:t][None, :, None, None, :]
        x = x.reshape(b, t * gh * gw, self.dim)
        n = x.shape[1]
        kr = recent.shape[2]
        ctx = [self._tokens(self.ctx_embed(start), 0, mask)]
        if kr > 0:
            ctx.append(self._tokens(self.ctx_embed(recent), 1, mask))
        if old.shape[2] > 0:
            ctx.append(self._tokens(self.ctx_coarse_embed(old), 1 + kr, mask))
        x = torch.cat([x] + ctx, dim=1)
        x = x + self.time_mlp(timestep_embedding(timestep, self.dim))[:, None, :]
        for block in self.blocks:
            x = block(x, text)
        x = self.unpatch(self.norm(x[:, :n]))  # B, N, C*p*p
        x = x.view(b, t, gh, gw, c, p, p).permute(0, 4, 1, 2, 5, 3, 6)
        return x.reshape(b, c, t, gh * p, gw * p)

    @torch.jit.export
    def step(self, latents: torch.Tensor, t: float, dt: float, text: torch.Tensor, start: torch.Tensor,
             recent: torch.Tensor, old: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One Euler step of the flow ODE; returns (next latents, velocity). Float scalars, tuple result."""
        timestep = torch.full([latents.shape[0]], t, dtype=latents.dtype, device=latents.device)
        v = self.forward(latents, timestep, text, start, recent, old, mask)
        return latents + dt * v, v


class FrameGroupNorm(nn.Module):
    """GroupNorm over each frame on its own (B,C,T,H,W): statistics never cross frames, so chunks decode alike."""

    def __init__(self, groups: int, ch: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        y = self.norm(x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
        return y.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)


def group_norm(ch: int, framewise: bool) -> nn.Module:
    return FrameGroupNorm(8, ch) if framewise else nn.GroupNorm(8, ch)


class ResBlock3d(nn.Module):
    def __init__(self, ch: int, kernel: Tuple[int, int, int] = (3, 3, 3), padding: Tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        framewise = kernel[0] == 1
        self.norm1 = group_norm(ch, framewise)
        self.conv1 = nn.Conv3d(ch, ch, kernel, padding=padding)
        self.norm2 = group_norm(ch, framewise)
        self.conv2 = nn.Conv3d(ch, ch, kernel, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class Upsample2x(nn.Module):
    def __init__(self, ch: int, kernel: Tuple[int, int, int] = (3, 3, 3), padding: Tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        self.conv = nn.Conv3d(ch, ch, kernel, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest"))


class VAEDecoder(nn.Module):
    """Latents (B,4,T,h,w) -> RGB video (B,3,T,4h,4w) in [-1, 1].

    Frame-wise in time (kernels 1x3x3): a chunk of latent frames decodes to exactly the frames the whole
    sequence would, so the engine can decode in chunks without seams (pack.json vae.decode_overlap = 0).
    """

    def __init__(self, latent: int = 4, ch: int = 32):
        super().__init__()
        k = (1, 3, 3)
        pad = (0, 1, 1)
        self.conv_in = nn.Conv3d(latent, ch, k, padding=pad)
        self.mid = ResBlock3d(ch, k, pad)
        self.up = nn.Sequential(Upsample2x(ch, k, pad), ResBlock3d(ch, k, pad), Upsample2x(ch, k, pad), ResBlock3d(ch, k, pad))
        self.norm = FrameGroupNorm(8, ch)
        self.conv_out = nn.Conv3d(ch, 3, k, padding=pad)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        x = self.up(self.mid(self.conv_in(latents)))
        # A pass-through path (latent channels 0..2 are the 4x4-averaged picture) beside the random convolutions,
        # so encode -> decode roughly round-trips even with random weights, as a trained VAE does.
        base = F.interpolate(latents[:, :3], scale_factor=(1.0, 4.0, 4.0), mode="nearest")
        return torch.tanh(base + 0.1 * self.conv_out(F.silu(self.norm(x))))


class VAEEncoder(nn.Module):
    """RGB video (B,3,T,H,W) -> latent mean (B,4,T,H/4,W/4) (image-to-video conditioning)."""

    def __init__(self, latent: int = 4, ch: int = 32):
        super().__init__()
        assert latent == 4
        self.conv_in = nn.Conv3d(3, ch, 3, padding=1)
        self.down1 = nn.Conv3d(ch, ch, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1))
        self.res1 = ResBlock3d(ch)
        self.down2 = nn.Conv3d(ch, ch, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1))
        self.res2 = ResBlock3d(ch)
        self.norm = nn.GroupNorm(8, ch)
        self.conv_out = nn.Conv3d(ch, latent, 3, padding=1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        x = self.res1(self.down1(self.conv_in(video)))
        x = self.res2(self.down2(x))
        # The decoder's pass-through path in reverse: channels 0..2 carry the 4x4-averaged picture.
        pooled = F.avg_pool3d(video, kernel_size=(1, 4, 4), stride=(1, 4, 4))
        base = torch.cat([pooled, torch.zeros_like(pooled[:, :1])], dim=1)
        return base + 0.1 * self.conv_out(F.silu(self.norm(x)))


# ---------------------------------------------------------------- speech

class ResBlock1d(nn.Module):
    def __init__(self, ch: int, dilations: List[int]):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(ch, ch, 3, padding=d, dilation=d) for d in dilations])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, 0.1))
        return x


class Vocoder(nn.Module):
    """HiFi-GAN-style generator: mel (B, mels, frames) -> waveform (B, frames * hop) in [-1, 1]."""

    def __init__(self, mels: int = 20, ch: int = 64, rates: Tuple[int, int, int] = (8, 8, 4)):
        super().__init__()
        self.conv_pre = nn.Conv1d(mels, ch, 7, padding=3)
        ups = []
        res = []
        c = ch
        for r in rates:
            ups.append(nn.ConvTranspose1d(c, c // 2, r * 2, stride=r, padding=r // 2 + r % 2, output_padding=r % 2))
            c = c // 2
            res.append(ResBlock1d(c, [1, 3, 5]))
        self.ups = nn.ModuleList(ups)
        self.res = nn.ModuleList(res)
        self.conv_post = nn.Conv1d(c, 1, 7, padding=3)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(mel)
        for up, res in zip(self.ups, self.res):
            x = res(up(F.leaky_relu(x, 0.1)))
        return torch.tanh(self.conv_post(F.leaky_relu(x, 0.1))).squeeze(1)


# ---------------------------------------------------------------- music

class CodebookLM(nn.Module):
    """MusicGen-style LM over K parallel codebooks: codes (B,K,T) -> logits (B,K,T,card)."""

    def __init__(self, codebooks: int = 2, card: int = 64, dim: int = 64, layers: int = 2, heads: int = 4,
                 max_frames: int = 256):
        super().__init__()
        self.codebooks = codebooks
        self.card = card
        self.embeds = nn.ModuleList([nn.Embedding(card + 1, dim) for _ in range(codebooks)])  # card = start token
        self.pos = nn.Parameter(torch.randn(1, max_frames, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.heads = nn.ModuleList([nn.Linear(dim, card) for _ in range(codebooks)])

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        x = self.pos[:, : codes.shape[2]]
        i = 0
        for emb in self.embeds:
            x = x + emb(codes[:, i])
            i += 1
        for block in self.blocks:
            x = block(x, x, True)
        x = self.norm(x)
        return torch.stack([head(x) for head in self.heads], dim=1)

    @torch.jit.export
    def next_logits(self, codes: torch.Tensor, position: int) -> torch.Tensor:
        """Logits (B,K,card) for frame `position` (a named method with an int argument)."""
        return self.forward(codes)[:, :, position]


class CodecDecoder(nn.Module):
    """EnCodec-style decoder: codes (B,K,T) -> waveform (B,1,T*hop)."""

    def __init__(self, codebooks: int = 2, card: int = 64, ch: int = 64, rates: Tuple[int, int, int] = (8, 5, 8)):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(card, ch) for _ in range(codebooks)])
        ups = []
        c = ch
        for r in rates:
            ups.append(nn.ConvTranspose1d(c, c // 2, r * 2, stride=r, padding=r // 2 + r % 2, output_padding=r % 2))
            c = c // 2
        self.ups = nn.ModuleList(ups)
        self.conv_post = nn.Conv1d(c, 1, 7, padding=3)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        x = self.embeds[0](codes[:, 0])
        i = 0
        for emb in self.embeds:
            if i > 0:
                x = x + emb(codes[:, i])
            i += 1
        x = x.transpose(1, 2)
        for up in self.ups:
            x = F.elu(up(x))
        return torch.tanh(self.conv_post(x))
