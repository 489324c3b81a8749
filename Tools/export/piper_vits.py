"""ProStudio's own PyTorch implementation of Piper's VITS inference graph.

It mirrors the graph in a Piper voice's ONNX export (``en_US-joe-medium`` was used to check it):

    phoneme ids -> text encoder (6 transformer layers, relative-position attention, window 4)
                -> stochastic duration predictor (reverse, 3 ConvFlows with rational-quadratic splines)
                -> durations = ceil(exp(logw) * length_scale)   (frames of `hop_length` samples)
                -> length regulation (repeat each phoneme's prior mean/log-std for its duration)
                -> z_p = m_p + randn * exp(logs_p) * noise_scale
                -> residual coupling flow (reverse, 4 WaveNet couplings)
                -> HiFi-GAN generator (ResBlock2, upsample 8x8x4 = 256) -> audio

The module is written for ``torch.jit.script`` (no tracing): the phoneme count is free. Batch size is 1;
there is no padding, so the masks of the original (all ones for one unpadded utterance) are left out.
Some layers are computed differently from upstream for speed on Debian's torch (reference BLAS, oneDNN 2.6)
but to the same result: see ``conv1d`` (every convolution on oneDNN), ``PolyphaseConvTranspose1d``,
``RelPosMultiHeadAttention.forward`` (the attention products as convolutions) and ``_window``, ``ResBlock2``
(explicit padding), ``UpStage`` (in place) and ``Generator.forward`` (chunked decoding).

Weights come from the ONNX file's initialisers (``load_from_onnx``); the hyper-parameters are read
from the weight shapes and the ONNX Conv attributes where they vary between Piper voice qualities.
"""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


# ------------------------------------------------------------------------------------------------- helpers


def conv1d(x: Tensor, weight: Tensor, bias: Optional[Tensor], padding: int, dilation: int, groups: int) -> Tensor:
    """F.conv1d, but on CPU in float32 always through oneDNN (mkldnn).

    Why: PyTorch 1.13 picks its own im2col + BLAS convolution for batch-1 inputs of at most 20,480 values
    (most text-encoder and duration-predictor layers of a short sentence) and for undilated 1x1 kernels on
    one thread. Debian links torch against the reference (netlib) BLAS, where that path is 10-20x slower than
    oneDNN. Calling the oneDNN operator directly skips that choice; it gives the same result to float
    rounding. Other devices (CUDA) take F.conv1d.
    """
    if x.device.type == "cpu" and x.dtype == torch.float32:
        return torch.mkldnn_convolution(x, weight, bias, [padding], [1], [dilation], groups)
    return F.conv1d(x, weight, bias, 1, padding, dilation, groups)


class Conv1d(nn.Conv1d):
    """nn.Conv1d (same parameters, zero padding only) computed by `conv1d`."""

    def forward(self, x: Tensor) -> Tensor:
        return conv1d(x, self.weight, self.bias, self.padding[0], self.dilation[0], self.groups)


def pointwise(c_in: int, c_out: int) -> Conv1d:
    return Conv1d(c_in, c_out, 1)


class PolyphaseConvTranspose1d(nn.Module):
    """ConvTranspose1d(c_in, c_out, kernel, stride, padding) computed as one ordinary convolution.

    The transposed convolution is split into `stride` phases; phase r of the output uses kernel taps
    r, r+stride, ... . Stacking the phases as output channels gives a Conv1d with the same multiply count,
    whose result is interleaved back. Exact in real arithmetic. Why: PyTorch 1.13 runs ConvTranspose1d on
    CPU through im2col + BLAS (slow with Debian's reference BLAS); an ordinary convolution takes oneDNN.
    Load weights with `set_transposed_weights` (the ConvTranspose1d layout [c_in, c_out, kernel]).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int):
        super().__init__()
        self.c_in = c_in
        self.c_out = c_out
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.taps = (kernel + stride - 1) // stride
        self.weight = nn.Parameter(torch.zeros(stride * c_out, c_in, self.taps))
        self.bias = nn.Parameter(torch.zeros(c_out))

    @torch.jit.ignore
    def set_transposed_weights(self, weight: Tensor, bias: Tensor) -> None:
        c_in, c_out, k = weight.shape
        s, j = self.stride, self.taps
        w = F.pad(weight, [0, j * s - k])  # [c_in, c_out, J*s]
        w = w.reshape(c_in, c_out, j, s).flip(2)  # [c_in, c_out, j', r] = W[.., s*(J-1-j') + r]
        w = w.permute(3, 1, 0, 2).reshape(s * c_out, c_in, j)
        with torch.no_grad():
            self.weight.copy_(w)
            self.bias.copy_(bias)

    def forward(self, x: Tensor) -> Tensor:
        b, _, t_in = x.size()
        # The bias is the same for every phase, so it goes into the convolution (phase-major channels).
        y = conv1d(x, self.weight, self.bias.repeat(self.stride), self.taps - 1, 1, 1)  # [b, s*c_out, t_in + J - 1]
        m = y.size(2)
        y = y.view(b, self.stride, self.c_out, m).permute(0, 2, 3, 1).reshape(b, self.c_out, m * self.stride)
        t_out = (t_in - 1) * self.stride - 2 * self.padding + self.kernel
        return y[:, :, self.padding:self.padding + t_out]


# --------------------------------------------------------------------------------------------- text encoder


class LayerNorm(nn.Module):
    """Layer norm over the channel axis of a [B, C, T] tensor."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        x = x.transpose(1, -1)
        x = F.layer_norm(x, [self.channels], self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


class RelPosMultiHeadAttention(nn.Module):
    """VITS multi-head self-attention with shared relative-position key/value embeddings."""

    def __init__(self, channels: int, n_heads: int, window_size: int):
        super().__init__()
        self.channels = channels
        self.n_heads = n_heads
        self.k_channels = channels // n_heads
        self.window_size = window_size
        self.conv_q = pointwise(channels, channels)
        self.conv_k = pointwise(channels, channels)
        self.conv_v = pointwise(channels, channels)
        self.conv_o = pointwise(channels, channels)
        self.emb_rel_k = nn.Parameter(torch.zeros(1, 2 * window_size + 1, self.k_channels))
        self.emb_rel_v = nn.Parameter(torch.zeros(1, 2 * window_size + 1, self.k_channels))

    def _window(self, length: int) -> Tuple[int, int]:
        """VITS pads the 2w+1 relative embeddings with zeros to 2*length-1 rows (pad on both sides), or
        slices them when length < w+1. Only the 2w+1 real rows are multiplied here; the zero rows give
        exact zeros, which are put back by padding the (small) product instead of the embeddings."""
        pad = max(length - (self.window_size + 1), 0)
        start = max((self.window_size + 1) - length, 0)
        return pad, start

    @staticmethod
    def _rel_to_abs(x: Tensor) -> Tensor:
        # [b, h, l, 2l-1] -> [b, h, l, l]
        b, h, length, _ = x.size()
        x = F.pad(x, [0, 1, 0, 0, 0, 0, 0, 0])
        x_flat = x.reshape(b, h, length * 2 * length)
        x_flat = F.pad(x_flat, [0, length - 1, 0, 0, 0, 0])
        return x_flat.reshape(b, h, length + 1, 2 * length - 1)[:, :, :length, length - 1:]

    @staticmethod
    def _abs_to_rel(x: Tensor) -> Tensor:
        # [b, h, l, l] -> [b, h, l, 2l-1]
        b, h, length, _ = x.size()
        x = F.pad(x, [0, length - 1, 0, 0, 0, 0, 0, 0])
        x_flat = x.reshape(b, h, length * length + length * (length - 1))
        x_flat = F.pad(x_flat, [length, 0, 0, 0, 0, 0])
        return x_flat.reshape(b, h, length, 2 * length)[:, :, :, 1:]

    def forward(self, x: Tensor) -> Tensor:
        q = self.conv_q(x) / math.sqrt(self.k_channels)  # [b, d, t], d = heads * k_channels, b = 1
        k = self.conv_k(x)
        v = self.conv_v(x)
        b, d, t = k.size()
        h, c = self.n_heads, self.k_channels
        # The two t x t products are 1x1 convolutions grouped by head, with k and v as the weights: scores come
        # out transposed, [b, h, t_key, t_query], and the values product straight in [b, d, t]. Why: as
        # matmuls they are bmm calls into Debian's reference BLAS (~2 GFLOP/s), as convolutions oneDNN.
        scores_t = conv1d(q, k.view(h, c, t).transpose(1, 2).reshape(h * t, c, 1), None, 0, 1, h).view(b, h, t, t)
        pad, start = self._window(t)
        q_heads = q.view(b, h, c, t).transpose(2, 3)  # [b, h, t, c]
        rel_logits = torch.matmul(q_heads, self.emb_rel_k[0].transpose(0, 1))  # [b, h, t, 2w+1]
        if pad > 0:
            rel_logits = F.pad(rel_logits, [pad, pad])
        else:
            rel_logits = rel_logits[:, :, :, start:start + 2 * t - 1]
        scores_t = scores_t + self._rel_to_abs(rel_logits).transpose(2, 3)
        p_t = F.softmax(scores_t, dim=2)  # over keys
        out = conv1d(p_t.reshape(b, h * t, t), v.view(h * c, t, 1), None, 0, 1, h)  # [b, d, t]
        rel_weights = self._abs_to_rel(p_t.transpose(2, 3))  # [b, h, t, 2t-1]
        if pad > 0:
            rel_out = torch.matmul(rel_weights[:, :, :, pad:pad + 2 * self.window_size + 1], self.emb_rel_v[0])
        else:
            rel_out = torch.matmul(rel_weights, self.emb_rel_v[0][start:start + 2 * t - 1])
        out = out + rel_out.transpose(2, 3).reshape(b, d, t)
        return self.conv_o(out)


class FFN(nn.Module):
    def __init__(self, channels: int, filter_channels: int, kernel_size: int):
        super().__init__()
        self.pad_l = (kernel_size - 1) // 2
        self.pad_r = kernel_size // 2
        self.conv_1 = Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = Conv1d(filter_channels, channels, kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv_1(F.pad(x, [self.pad_l, self.pad_r]))
        x = torch.relu(x)
        return self.conv_2(F.pad(x, [self.pad_l, self.pad_r]))


class EncoderLayer(nn.Module):
    def __init__(self, channels: int, filter_channels: int, n_heads: int, kernel_size: int, window_size: int):
        super().__init__()
        self.attn = RelPosMultiHeadAttention(channels, n_heads, window_size)
        self.norm_1 = LayerNorm(channels)
        self.ffn = FFN(channels, filter_channels, kernel_size)
        self.norm_2 = LayerNorm(channels)

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm_1(x + self.attn(x))
        return self.norm_2(x + self.ffn(x))


class TextEncoder(nn.Module):
    def __init__(self, n_vocab: int, out_channels: int, hidden: int, filter_channels: int, n_heads: int,
                 n_layers: int, kernel_size: int, window_size: int):
        super().__init__()
        self.hidden = hidden
        self.out_channels = out_channels
        self.emb = nn.Embedding(n_vocab, hidden)
        self.layers = nn.ModuleList(
            [EncoderLayer(hidden, filter_channels, n_heads, kernel_size, window_size) for _ in range(n_layers)])
        self.proj = pointwise(hidden, out_channels * 2)

    def forward(self, ids: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        x = self.emb(ids) * math.sqrt(self.hidden)  # [1, T, H]
        x = x.transpose(1, -1)  # [1, H, T]
        for layer in self.layers:
            x = layer(x)
        stats = self.proj(x)
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return x, m, logs


# ------------------------------------------------------------------------------ stochastic duration predictor


class DDSConv(nn.Module):
    """Dilated depth-separable convolutions (dilation kernel_size**i), GELU, channel layer norms."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int):
        super().__init__()
        self.blocks = nn.ModuleList([_DDSBlock(channels, kernel_size, kernel_size ** i) for i in range(n_layers)])

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = x + block(x)
        return x


class _DDSBlock(nn.Module):
    def __init__(self, channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.sep = Conv1d(channels, channels, kernel_size, groups=channels, dilation=dilation,
                             padding=(kernel_size * dilation - dilation) // 2)
        self.one = pointwise(channels, channels)
        self.n1 = LayerNorm(channels)
        self.n2 = LayerNorm(channels)

    def forward(self, x: Tensor) -> Tensor:
        y = F.gelu(self.n1(self.sep(x)))
        return F.gelu(self.n2(self.one(y)))


def _rq_spline_inverse(inputs: Tensor, uw: Tensor, uh: Tensor, ud: Tensor, tail_bound: float) -> Tensor:
    """Inverse unconstrained rational-quadratic spline with linear tails (VITS/nflows), outputs only.

    inputs [...]; uw, uh [..., K]; ud [..., K-1]. Values outside [-B, B] pass through unchanged.
    """
    min_bin_width = 1e-3  # VITS transforms.py defaults (locals: TorchScript does not read module globals)
    min_bin_height = 1e-3
    min_derivative = 1e-3
    num_bins = uw.size(-1)
    left = -tail_bound
    right = tail_bound
    inside = (inputs >= left) & (inputs <= right)
    x = torch.clamp(inputs, left, right)

    constant = math.log(math.exp(1.0 - min_derivative) - 1.0)
    ud = F.pad(ud, [1, 1], value=constant)

    widths = F.softmax(uw, dim=-1)
    widths = min_bin_width + (1.0 - min_bin_width * num_bins) * widths
    cumwidths = torch.cumsum(widths, dim=-1)
    cumwidths = F.pad(cumwidths, [1, 0], value=0.0)
    cumwidths = (right - left) * cumwidths + left
    cumwidths = torch.cat([torch.full_like(cumwidths[..., :1], left), cumwidths[..., 1:-1],
                           torch.full_like(cumwidths[..., :1], right)], dim=-1)
    widths = cumwidths[..., 1:] - cumwidths[..., :-1]

    derivatives = min_derivative + F.softplus(ud)

    heights = F.softmax(uh, dim=-1)
    heights = min_bin_height + (1.0 - min_bin_height * num_bins) * heights
    cumheights = torch.cumsum(heights, dim=-1)
    cumheights = F.pad(cumheights, [1, 0], value=0.0)
    cumheights = (right - left) * cumheights + left
    cumheights = torch.cat([torch.full_like(cumheights[..., :1], left), cumheights[..., 1:-1],
                            torch.full_like(cumheights[..., :1], right)], dim=-1)
    heights = cumheights[..., 1:] - cumheights[..., :-1]

    # searchsorted with the last edge nudged up by eps, as in VITS.
    edges = torch.cat([cumheights[..., :-1], cumheights[..., -1:] + 1e-6], dim=-1)
    bin_idx = (torch.sum((x.unsqueeze(-1) >= edges).to(torch.long), dim=-1) - 1).unsqueeze(-1)

    in_cumwidths = cumwidths.gather(-1, bin_idx)[..., 0]
    in_widths = widths.gather(-1, bin_idx)[..., 0]
    in_cumheights = cumheights.gather(-1, bin_idx)[..., 0]
    delta = heights / widths
    in_delta = delta.gather(-1, bin_idx)[..., 0]
    in_d = derivatives.gather(-1, bin_idx)[..., 0]
    in_d1 = derivatives[..., 1:].gather(-1, bin_idx)[..., 0]
    in_heights = heights.gather(-1, bin_idx)[..., 0]

    dy = x - in_cumheights
    s = in_d + in_d1 - 2.0 * in_delta
    a = dy * s + in_heights * (in_delta - in_d)
    b = in_heights * in_d - dy * s
    c = -in_delta * dy
    disc = torch.clamp(b.pow(2) - 4.0 * a * c, min=0.0)
    root = (2.0 * c) / (-b - torch.sqrt(disc))
    out = root * in_widths + in_cumwidths
    return torch.where(inside, out, inputs)


class ConvFlow(nn.Module):
    def __init__(self, filter_channels: int, kernel_size: int, n_layers: int, num_bins: int = 10,
                 tail_bound: float = 5.0):
        super().__init__()
        self.filter_channels = filter_channels
        self.num_bins = num_bins
        self.tail_bound = tail_bound
        self.pre = pointwise(1, filter_channels)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers)
        self.proj = pointwise(filter_channels, num_bins * 3 - 1)

    def forward(self, z: Tensor, cond: Tensor) -> Tensor:
        z0 = z[:, :1]
        z1 = z[:, 1:]
        h = self.pre(z0)
        h = self.convs(h + cond)
        h = self.proj(h)  # [1, 3K-1, T]
        b, c, t = z0.size()
        h = h.reshape(b, c, -1, t).permute(0, 1, 3, 2)  # [1, 1, T, 3K-1]
        scale = math.sqrt(self.filter_channels)
        uw = h[..., :self.num_bins] / scale
        uh = h[..., self.num_bins:2 * self.num_bins] / scale
        ud = h[..., 2 * self.num_bins:]
        z1 = _rq_spline_inverse(z1, uw, uh, ud, self.tail_bound)
        return torch.cat([z0, z1], 1)


class StochasticDurationPredictor(nn.Module):
    """Reverse (sampling) direction only. The training-time posterior flows are not needed."""

    def __init__(self, channels: int, kernel_size: int, n_flows: int = 4):
        super().__init__()
        self.pre = pointwise(channels, channels)
        self.convs = DDSConv(channels, kernel_size, 3)
        self.proj = pointwise(channels, channels)
        # ElementwiseAffine(2): reverse is (z - m) * exp(-logs); the ONNX export stores exp(-logs) folded.
        self.ea_m = nn.Parameter(torch.zeros(2, 1))
        self.ea_exp_neg_logs = nn.Parameter(torch.ones(2, 1))
        # Flows applied in reverse order, the first ConvFlow (a "useless vflow") dropped, as VITS does.
        self.flows = nn.ModuleList([ConvFlow(channels, kernel_size, 3) for _ in range(n_flows - 1)])

    def forward(self, x: Tensor, noise_w: float) -> Tensor:
        x = self.pre(x.detach())
        x = self.convs(x)
        x = self.proj(x)
        z = torch.randn(x.size(0), 2, x.size(2), dtype=x.dtype, device=x.device) * noise_w
        z = torch.flip(z, [1])
        for flow in self.flows:
            z = flow(z, x)
            z = torch.flip(z, [1])
        z = (z - self.ea_m) * self.ea_exp_neg_logs
        return z[:, :1]  # logw


# ----------------------------------------------------------------------------------------------------- flow


class WN(nn.Module):
    def __init__(self, hidden: int, kernel_size: int, n_layers: int):
        super().__init__()
        self.hidden = hidden
        self.n_layers = n_layers
        self.layers = nn.ModuleList([_WNLayer(hidden, kernel_size, i == n_layers - 1) for i in range(n_layers)])

    def forward(self, x: Tensor) -> Tensor:
        output = torch.zeros_like(x)
        for layer in self.layers:
            x, output = layer(x, output)
        return output


class _WNLayer(nn.Module):
    def __init__(self, hidden: int, kernel_size: int, last: bool):
        super().__init__()
        self.in_layer = Conv1d(hidden, 2 * hidden, kernel_size, padding=(kernel_size - 1) // 2)
        self.res_skip = pointwise(hidden, hidden if last else 2 * hidden)
        self.hidden = hidden
        self.last = last

    def forward(self, x: Tensor, output: Tensor) -> Tuple[Tensor, Tensor]:
        x_in = self.in_layer(x)
        acts = torch.tanh(x_in[:, :self.hidden]) * torch.sigmoid(x_in[:, self.hidden:])
        rs = self.res_skip(acts)
        if self.last:
            return x, output + rs
        return x + rs[:, :self.hidden], output + rs[:, self.hidden:]


class ResidualCouplingLayer(nn.Module):
    def __init__(self, channels: int, hidden: int, kernel_size: int, n_layers: int):
        super().__init__()
        self.half = channels // 2
        self.pre = pointwise(self.half, hidden)
        self.enc = WN(hidden, kernel_size, n_layers)
        self.post = pointwise(hidden, self.half)

    def forward(self, x: Tensor) -> Tensor:
        x0 = x[:, :self.half]
        x1 = x[:, self.half:]
        m = self.post(self.enc(self.pre(x0)))  # mean-only coupling
        return torch.cat([x0, x1 - m], 1)


class ResidualCouplingBlock(nn.Module):
    def __init__(self, channels: int, hidden: int, kernel_size: int, n_layers: int, n_flows: int = 4):
        super().__init__()
        # Stored in reverse application order: couplings[0] is the original flows.{2*(n_flows-1)}.
        self.couplings = nn.ModuleList([ResidualCouplingLayer(channels, hidden, kernel_size, n_layers)
                                        for _ in range(n_flows)])

    def forward(self, x: Tensor) -> Tensor:
        for coupling in self.couplings:
            x = torch.flip(x, [1])
            x = coupling(x)
        return x


# -------------------------------------------------------------------------------------------------- decoder


class ResBlock2(nn.Module):
    """Two dilated convolutions with residuals.

    Wide zero padding is done by `F.pad` before the convolution instead of inside it. Why: oneDNN 2.6 (torch
    1.13) has a direct AVX2 kernel for dilated convolutions only while the padding is at most 3 columns;
    wider, it falls back to im2col + GEMM with a ~70 MB column buffer per call. Padding first keeps the direct
    kernel (the whole voice ran ~7% faster); narrow padding stays inside (an extra copy would cost more).
    """

    ONEDNN_DIRECT_MAX_PAD = 3

    def __init__(self, channels: int, kernel_size: int, dilations: List[int]):
        super().__init__()
        pads = [(kernel_size * d - d) // 2 for d in dilations]
        inside = [p <= self.ONEDNN_DIRECT_MAX_PAD for p in pads]
        self.convs = nn.ModuleList([Conv1d(channels, channels, kernel_size, dilation=d, padding=p if keep else 0)
                                    for d, p, keep in zip(dilations, pads, inside)])
        self.pads: List[int] = [0 if keep else p for p, keep in zip(pads, inside)]

    def forward(self, x: Tensor) -> Tensor:
        # In place only on tensors made here: the caller passes the same x to every ResBlock2 of its stage.
        i = 0
        for conv in self.convs:
            p = self.pads[i]
            if p > 0:
                y = F.leaky_relu(F.pad(x, [p, p]), 0.1, True)
            else:
                y = F.leaky_relu(x, 0.1)
            x = conv(y).add_(x)
            i += 1
        return x


class UpStage(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, rate: int, rb_kernels: List[int],
                 rb_dilations: List[List[int]]):
        super().__init__()
        self.up = PolyphaseConvTranspose1d(c_in, c_out, kernel, rate, (kernel - rate) // 2)
        self.resblocks = nn.ModuleList([ResBlock2(c_out, k, d) for k, d in zip(rb_kernels, rb_dilations)])
        self.num_kernels = len(rb_kernels)

    def forward(self, x: Tensor) -> Tensor:
        # In place where the tensor is this stage's own (the decoder's activations are tens of MB each, and
        # fewer of them alive at once is less peak memory and fewer fresh pages): x comes from conv_pre or
        # the previous stage and is not used after this.
        x = self.up(F.leaky_relu(x, 0.1, True))
        xs: Optional[Tensor] = None
        for rb in self.resblocks:
            y = rb(x)
            xs = y if xs is None else xs.add_(y)
        assert xs is not None
        return xs.mul_(1.0 / float(self.num_kernels))


class Generator(nn.Module):
    def __init__(self, in_channels: int, initial_channels: int, up_rates: List[int], up_kernels: List[int],
                 rb_kernels: List[int], rb_dilations: List[List[int]]):
        super().__init__()
        self.conv_pre = Conv1d(in_channels, initial_channels, 7, padding=3)
        stages = []
        ch = initial_channels
        for r, k in zip(up_rates, up_kernels):
            stages.append(UpStage(ch, ch // 2, k, r, rb_kernels, rb_dilations))
            ch //= 2
        self.stages = nn.ModuleList(stages)
        self.conv_post = Conv1d(ch, 1, 7, padding=3, bias=False)
        self.hop = int(math.prod(up_rates))
        # Decode long inputs in chunks of this many frames, each with `overlap` frames of context on both
        # sides that are decoded and thrown away. The generator's receptive field is ~11 frames each side
        # (conv_pre 3, the first upsample 1 and its ResBlock2s 45 samples at 8 per frame ~6, the later
        # stages ~1), so with 16 frames of context every kept sample sees exactly the inputs it would see in
        # one pass: the result is the same up to float rounding, and peak memory stops growing with the
        # utterance length. Longer chunks run a little faster (less context decoded twice) but each 128
        # frames add ~100 MB to the peak on CPU; 256 + 2 x 16 was the balance measured (Docs/piper-voice.md).
        self.chunk_frames = 256
        self.overlap = 16

    def _decode(self, x: Tensor) -> Tensor:
        x = self.conv_pre(x)
        for stage in self.stages:
            x = stage(x)
        x = F.leaky_relu(x, 0.01, True)
        return torch.tanh_(self.conv_post(x))

    def forward(self, x: Tensor) -> Tensor:
        frames = x.size(2)
        if frames <= self.chunk_frames + 2 * self.overlap:
            return self._decode(x)
        pieces: List[Tensor] = []
        start = 0
        while start < frames:
            end = min(start + self.chunk_frames, frames)
            lo = max(start - self.overlap, 0)
            hi = min(end + self.overlap, frames)
            y = self._decode(x[:, :, lo:hi])
            pieces.append(y[:, :, (start - lo) * self.hop:(end - lo) * self.hop])
            start = end
        return torch.cat(pieces, dim=2)


# ------------------------------------------------------------------------------------------------ synthesizer


class PiperVits(nn.Module):
    """forward(ids [1,T] int64, noise_scale, length_scale, noise_w) -> (audio [1,N] f32, durations [1,T] f32).

    durations are frames of `hop_length` samples, after length scaling and ceil; N == sum(durations) * hop_length.
    """

    def __init__(self, cfg: Dict):
        super().__init__()
        self.hop_length: int = int(math.prod(cfg["upsample_rates"]))
        self.enc_p = TextEncoder(cfg["n_vocab"], cfg["inter_channels"], cfg["hidden_channels"],
                                 cfg["filter_channels"], cfg["n_heads"], cfg["n_layers"], cfg["kernel_size"],
                                 cfg["window_size"])
        self.dp = StochasticDurationPredictor(cfg["hidden_channels"], cfg["dp_kernel_size"])
        self.flow = ResidualCouplingBlock(cfg["inter_channels"], cfg["hidden_channels"], cfg["flow_kernel_size"],
                                          cfg["flow_n_layers"], cfg["flow_n_flows"])
        self.dec = Generator(cfg["inter_channels"], cfg["upsample_initial_channel"], cfg["upsample_rates"],
                             cfg["upsample_kernel_sizes"], cfg["resblock_kernel_sizes"], cfg["resblock_dilation_sizes"])

    def forward(self, ids: Tensor, noise_scale: float, length_scale: float, noise_w: float) -> Tuple[Tensor, Tensor]:
        x, m_p, logs_p = self.enc_p(ids)
        logw = self.dp(x, noise_w)  # [1, 1, T]
        w_ceil = torch.ceil(torch.exp(logw) * length_scale)
        durations = w_ceil[:, 0]  # [1, T]
        reps = durations[0].to(torch.long)
        m = torch.repeat_interleave(m_p, reps, dim=2)
        logs = torch.repeat_interleave(logs_p, reps, dim=2)
        z_p = m + torch.randn_like(m) * torch.exp(logs) * noise_scale
        z = self.flow(z_p)
        audio = self.dec(z)  # [1, 1, N]
        return audio[:, 0], durations


# -------------------------------------------------------------------------------------------- ONNX loading


def _onnx_initializers(onnx_path: str):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes = list(model.graph.node)
    return inits, nodes


def _attr(node, name):
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return None


def _onnx_param_names(inits, nodes) -> Dict[str, str]:
    """Map module-style parameter names (Piper's PyTorch names) to ONNX initialiser names.

    Named initialisers map to themselves; weights the exporter renamed (folded weight norm: onnx::Conv_N,
    the embedding) are named after the node that consumes them.
    """
    names = {n: n for n in inits if re.match(r"^(enc_p|dp|flow|dec)\.", n)}
    for node in nodes:
        if node.op_type in ("Conv", "ConvTranspose") and len(node.input) > 1 and node.input[1] in inits:
            w = node.input[1]
            torch_name = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".") + ".weight"
            names.setdefault(torch_name, w)
        if node.op_type == "Gather" and node.name == "/enc_p/emb/Gather":
            names["enc_p.emb.weight"] = node.input[0]
    names["dp.flows.0.exp_neg_logs"] = "/dp/flows.0/Exp_output_0"
    return names


def config_from_onnx(onnx_path: str) -> Dict:
    inits, nodes = _onnx_initializers(onnx_path)
    return _config(inits, nodes, _onnx_param_names(inits, nodes))


def _config(inits, nodes, names) -> Dict:
    def shape(n):
        return list(inits[names[n]].shape)

    n_layers = len({m.group(1) for n in names for m in [re.match(r"enc_p\.encoder\.attn_layers\.(\d+)\.", n)] if m})
    emb_rel = shape("enc_p.encoder.attn_layers.0.emb_rel_k")
    hidden = shape("enc_p.emb.weight")[1]
    flow_idx = sorted({int(m.group(1)) for n in names for m in [re.match(r"flow\.flows\.(\d+)\.pre\.", n)] if m})
    wn_layers = len({m.group(1) for n in names for m in [re.match(r"flow\.flows\.0\.enc\.in_layers\.(\d+)\.", n)] if m})
    ups = sorted({int(m.group(1)) for n in names for m in [re.match(r"dec\.ups\.(\d+)\.", n)] if m})
    n_rb = len({m.group(1) for n in names for m in [re.match(r"dec\.resblocks\.(\d+)\.", n)] if m})
    n_kernels = n_rb // len(ups)
    convs = {node.name: node for node in nodes if node.op_type in ("Conv", "ConvTranspose")}
    up_rates, up_kernels = [], []
    for i in ups:
        node = convs[f"/dec/ups.{i}/ConvTranspose"]
        up_rates.append(int(_attr(node, "strides")[0]))
        up_kernels.append(int(_attr(node, "kernel_shape")[0]))
    rb_kernels, rb_dils = [], []
    for j in range(n_kernels):
        rb_kernels.append(shape(f"dec.resblocks.{j}.convs.0.weight")[2])
        dils = []
        c = 0
        while f"/dec/resblocks.{j}/convs.{c}/Conv" in convs:
            dils.append(int(_attr(convs[f"/dec/resblocks.{j}/convs.{c}/Conv"], "dilations")[0]))
            c += 1
        rb_dils.append(dils)
    return {
        "n_vocab": shape("enc_p.emb.weight")[0],
        "hidden_channels": hidden,
        "inter_channels": shape("enc_p.proj.weight")[0] // 2,
        "filter_channels": shape("enc_p.encoder.ffn_layers.0.conv_1.weight")[0],
        "n_heads": hidden // emb_rel[2],
        "n_layers": n_layers,
        "kernel_size": shape("enc_p.encoder.ffn_layers.0.conv_1.weight")[2],
        "window_size": (emb_rel[1] - 1) // 2,
        "dp_kernel_size": shape("dp.convs.convs_sep.0.weight")[2],
        "flow_kernel_size": shape("flow.flows.0.enc.in_layers.0.weight")[2],
        "flow_n_layers": wn_layers,
        "flow_n_flows": len(flow_idx),
        "upsample_initial_channel": shape("dec.conv_pre.weight")[0],
        "upsample_rates": up_rates,
        "upsample_kernel_sizes": up_kernels,
        "resblock_kernel_sizes": rb_kernels,
        "resblock_dilation_sizes": rb_dils,
    }


def _target_name(onnx_style: str, cfg: Dict):
    """Piper's PyTorch parameter name -> this module's parameter name (None if unused at inference)."""
    name = _target_name_outer(onnx_style, cfg)
    if name is None:
        return None
    dds = {"convs_sep": "sep", "convs_1x1": "one", "norms_1": "n1", "norms_2": "n2"}
    name = re.sub(r"convs\.(convs_sep|convs_1x1|norms_1|norms_2)\.(\d+)\.",
                  lambda m: f"convs.blocks.{m.group(2)}.{dds[m.group(1)]}.", name)
    name = re.sub(r"enc\.(in_layers|res_skip_layers)\.(\d+)\.",
                  lambda m: f"enc.layers.{m.group(2)}.{'in_layer' if m.group(1) == 'in_layers' else 'res_skip'}.", name)
    return name


def _target_name_outer(onnx_style: str, cfg: Dict):
    n = onnx_style
    m = re.match(r"enc_p\.encoder\.(attn_layers|norm_layers_1|ffn_layers|norm_layers_2)\.(\d+)\.(.*)", n)
    if m:
        sub = {"attn_layers": "attn", "norm_layers_1": "norm_1", "ffn_layers": "ffn", "norm_layers_2": "norm_2"}
        return f"enc_p.layers.{m.group(2)}.{sub[m.group(1)]}.{m.group(3)}"
    if n.startswith("enc_p."):
        return n
    if n == "dp.flows.0.m":
        return "dp.ea_m"
    if n == "dp.flows.0.exp_neg_logs":
        return "dp.ea_exp_neg_logs"
    m = re.match(r"dp\.flows\.(\d+)\.(.*)", n)
    if m:
        k = int(m.group(1))
        # ConvFlows sit at odd indices 1,3,5,7; reverse order, flows.1 dropped -> 7,5,3 -> 0,1,2.
        order = [2 * i + 1 for i in range(3, 0, -1)]
        if k not in order:
            return None
        return f"dp.flows.{order.index(k)}.{m.group(2)}"
    if re.match(r"dp\.(post_|flows\.)", n):
        return None
    if n.startswith("dp."):
        return n
    m = re.match(r"flow\.flows\.(\d+)\.(.*)", n)
    if m:
        nf = cfg["flow_n_flows"]
        k = int(m.group(1)) // 2
        return f"flow.couplings.{nf - 1 - k}.{m.group(2)}"
    m = re.match(r"dec\.ups\.(\d+)\.(.*)", n)
    if m:
        return f"dec.stages.{m.group(1)}.up.{m.group(2)}"
    m = re.match(r"dec\.resblocks\.(\d+)\.(.*)", n)
    if m:
        nk = len(cfg["resblock_kernel_sizes"])
        j = int(m.group(1))
        return f"dec.stages.{j // nk}.resblocks.{j % nk}.{m.group(2)}"
    if n.startswith("dec."):
        return n
    return None


def load_from_onnx(onnx_path: str) -> Tuple[PiperVits, Dict]:
    """Build a PiperVits whose parameters are the ONNX voice's initialisers. Every parameter must be filled."""
    inits, nodes = _onnx_initializers(onnx_path)
    names = _onnx_param_names(inits, nodes)
    cfg = _config(inits, nodes, names)
    model = PiperVits(cfg)
    own = dict(model.named_parameters())
    filled = set()
    with torch.no_grad():
        for src, onnx_name in names.items():
            dst = _target_name(src, cfg)
            if dst is None:
                continue
            if dst not in own:
                raise KeyError(f"no parameter {dst} for ONNX initialiser {onnx_name} ({src})")
            value = torch.from_numpy(inits[onnx_name].copy()).float()
            if re.match(r"dec\.stages\.\d+\.up\.weight$", dst):
                # ConvTranspose1d layout; the bias is loaded by the generic path below.
                up = model.dec.stages[int(dst.split(".")[2])].up
                up.set_transposed_weights(value, up.bias.detach().clone())
                filled.add(dst)
                continue
            if tuple(value.shape) != tuple(own[dst].shape):
                raise ValueError(f"{dst}: shape {tuple(value.shape)} != {tuple(own[dst].shape)}")
            own[dst].copy_(value)
            filled.add(dst)
    missing = sorted(set(own) - filled)
    if missing:
        raise KeyError(f"parameters not found in the ONNX file: {missing}")
    model.eval()
    return model, cfg
