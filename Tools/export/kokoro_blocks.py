"""Kokoro v1.0's style-conditioned blocks and its iSTFTNet decoder (split from kokoro_model.py, which holds the
text side, the whole model and the loaders; see its docstring for what differs from the PyPI `kokoro` reference).

Inference only, batch 1: AdaIN runs as one batch norm whose scale and shift carry the style, Snake's alpha is
folded into that norm and into the next convolution, and the depthwise transposed-conv upsample runs as its two
output phases (Docs/kokoro.md, "Speed and memory"). Parameter names stay the reference's.
"""
import math
from typing import Final, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE = 24000

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
