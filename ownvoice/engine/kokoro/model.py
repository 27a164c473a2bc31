"""Kokoro-82M v1.0 as plain torch modules: phoneme ids + 256-d style → 24 kHz audio.

A language-blind re-implementation of the StyleTTS2-derived Kokoro architecture (ALBERT/PL-BERT →
prosody predictor → text encoder → duration alignment → iSTFTNet decoder), written for inference
*and* fine-tuning: weight norm is fused into plain weights, module names are stable (LoRA targets
them), and each stage is its own method so training code can cache the frozen parts.

Shapes use B = batch, T = tokens (incl. the two boundary zeros), F = duration frames (600 samples
each at 24 kHz), 2F = F0/energy frames (300 samples each). The ONNX export this model is loaded
from is deterministic (no random phase or noise in the harmonic source), and so is this model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .dsp import Stft, upsample_linear


@dataclass(frozen=True)
class KokoroConfig:
    """Hyper-parameters of Kokoro-82M v1.0 (kokoro-onnx's config.json, same values)."""

    n_token: int = 178
    hidden: int = 512  # text encoder / predictor width
    style_dim: int = 128  # each half of the 256-d style vector
    max_dur: int = 50  # duration bins (frames) per token
    n_layer: int = 3
    text_kernel: int = 5
    bert_hidden: int = 768
    bert_embed: int = 128
    bert_layers: int = 12
    bert_heads: int = 12
    bert_intermediate: int = 2048
    bert_max_pos: int = 512
    upsample_rates: tuple[int, ...] = (10, 6)
    upsample_kernels: tuple[int, ...] = (20, 12)
    upsample_initial: int = 512
    resblock_kernels: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[tuple[int, ...], ...] = field(
        default=((1, 3, 5), (1, 3, 5), (1, 3, 5))
    )
    n_fft: int = 20
    istft_hop: int = 5
    sample_rate: int = 24000  # Hz
    harmonics: int = 9  # fundamental + 8 overtones in the sine source
    voiced_threshold: float = 10.0  # Hz: F0 above this counts as voiced

    @property
    def f0_hop(self) -> int:
        """Samples per F0/energy frame (300 = 10 * 6 * 5)."""
        return math.prod(self.upsample_rates) * self.istft_hop

    @property
    def frame_hop(self) -> int:
        """Samples per duration frame (600: the decoder doubles the frame rate first)."""
        return 2 * self.f0_hop


# ---------------------------------------------------------------- PL-BERT (ALBERT, shared layer)


class Albert(nn.Module):
    """ALBERT encoder: one transformer layer applied ``layers`` times (PL-BERT of StyleTTS2)."""

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        self.layers = c.bert_layers
        self.heads = c.bert_heads
        self.word_embeddings = nn.Embedding(c.n_token, c.bert_embed)
        self.position_embeddings = nn.Embedding(c.bert_max_pos, c.bert_embed)
        self.token_type_embeddings = nn.Embedding(2, c.bert_embed)
        self.embed_norm = nn.LayerNorm(c.bert_embed, eps=1e-12)
        self.project_in = nn.Linear(c.bert_embed, c.bert_hidden)
        self.query = nn.Linear(c.bert_hidden, c.bert_hidden)
        self.key = nn.Linear(c.bert_hidden, c.bert_hidden)
        self.value = nn.Linear(c.bert_hidden, c.bert_hidden)
        self.dense = nn.Linear(c.bert_hidden, c.bert_hidden)
        self.attention_norm = nn.LayerNorm(c.bert_hidden, eps=1e-12)
        self.ffn = nn.Linear(c.bert_hidden, c.bert_intermediate)
        self.ffn_output = nn.Linear(c.bert_intermediate, c.bert_hidden)
        self.ffn_norm = nn.LayerNorm(c.bert_hidden, eps=1e-12)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, T] ids → [B, T, 768] hidden states (no padding: every sequence is full length)."""
        b, t = tokens.shape
        pos = torch.arange(t, device=tokens.device)
        x = (
            self.word_embeddings(tokens)
            + self.position_embeddings(pos)[None]
            + self.token_type_embeddings.weight[0]
        )
        x = self.project_in(self.embed_norm(x))
        hd = x.shape[-1] // self.heads
        for _ in range(self.layers):
            q, k, v = (
                proj(x).view(b, t, self.heads, hd).transpose(1, 2)
                for proj in (self.query, self.key, self.value)
            )
            a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, -1)
            x = self.attention_norm(x + self.dense(a))
            h = self.ffn_output(F.gelu(self.ffn(x), approximate="tanh"))
            x = self.ffn_norm(x + h)
        return x


# ---------------------------------------------------------------- style-conditioned norms


class AdaLayerNorm(nn.Module):
    """LayerNorm over channels of [B, T, C] whose scale and shift come from the style."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.channels = channels  # a static normalized shape keeps the ONNX export shape-free
        self.fc = nn.Linear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.fc(s)[:, None].chunk(2, dim=2)
        return (1 + gamma) * F.layer_norm(x, (self.channels,), eps=1e-5) + beta


class AdaIN1d(nn.Module):
    """Instance norm of [B, C, L] with a style-predicted scale and shift."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(style_dim, 2 * channels)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        # positive axes throughout: the ONNX tracer mis-resolves negative ones in this model
        gamma, beta = self.fc(s)[:, :, None].chunk(2, dim=1)
        # instance norm and style affine folded into one per-channel scale/shift: one pass over x
        var, mean = torch.var_mean(x, dim=2, keepdim=True, correction=0)
        scale = (1 + gamma) * torch.rsqrt(var + 1e-5)
        return torch.addcmul(beta - mean * scale, x, scale)


class AdainResBlk1d(nn.Module):
    """StyleTTS2 residual block: AdaIN → LeakyReLU → conv, twice; optional 2x upsampling."""

    def __init__(self, dim_in: int, dim_out: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.norm1 = AdaIN1d(style_dim, dim_in)
        self.conv1 = nn.Conv1d(dim_in, dim_out, 3, padding=1)
        self.norm2 = AdaIN1d(style_dim, dim_out)
        self.conv2 = nn.Conv1d(dim_out, dim_out, 3, padding=1)
        # depthwise transposed conv: the learned half of the 2x upsampling
        self.pool = (
            nn.ConvTranspose1d(dim_in, dim_in, 3, stride=2, padding=1, output_padding=1, groups=dim_in)
            if upsample
            else None
        )
        self.conv1x1 = nn.Conv1d(dim_in, dim_out, 1, bias=False) if dim_in != dim_out else None

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.norm1(x, s), 0.2)
        if self.pool is not None:
            h = self.pool(h)
        h = self.conv2(F.leaky_relu(self.norm2(self.conv1(h), s), 0.2))
        sc = F.interpolate(x, scale_factor=2.0, mode="nearest") if self.upsample else x
        if self.conv1x1 is not None:
            sc = self.conv1x1(sc)
        return (h + sc) * (1 / math.sqrt(2))


def _snake(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Snake activation x + sin²(αx)/α: periodic inductive bias for waveforms."""
    s = torch.sin(alpha * x)
    return torch.addcmul(x, s * s, alpha.reciprocal())


class AdaINResBlock1(nn.Module):
    """HiFi-GAN resblock with AdaIN and Snake; ``convs1`` are dilated (1, 3, 5), ``convs2`` not."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...], style_dim: int) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in dilations
        )
        self.adain1 = nn.ModuleList(AdaIN1d(style_dim, channels) for _ in dilations)
        self.adain2 = nn.ModuleList(AdaIN1d(style_dim, channels) for _ in dilations)
        self.alpha1 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)
        self.alpha2 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        for c1, c2, n1, n2, a1, a2 in zip(
            self.convs1, self.convs2, self.adain1, self.adain2, self.alpha1, self.alpha2
        ):
            h = c1(_snake(n1(x, s), a1))
            x = x + c2(_snake(n2(h, s), a2))
        return x


# ---------------------------------------------------------------- text side


class ConvBlock(nn.Module):
    """Conv1d → channel LayerNorm → LeakyReLU(0.2) of the text encoder."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2)
        self.norm = nn.LayerNorm(channels, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x).transpose(1, 2)).transpose(1, 2)
        return F.leaky_relu(x, 0.2)


class TextEncoder(nn.Module):
    """Token ids → acoustic text features [B, 512, T] (embedding, 3 convs, BiLSTM)."""

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(c.n_token, c.hidden)
        self.cnn = nn.ModuleList(ConvBlock(c.hidden, c.text_kernel) for _ in range(c.n_layer))
        self.lstm = nn.LSTM(c.hidden, c.hidden // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embedding(tokens).transpose(1, 2)
        for block in self.cnn:
            x = block(x)
        x, _ = self.lstm(x.transpose(1, 2))
        return x.transpose(1, 2)


class DurationEncoder(nn.Module):
    """BiLSTMs interleaved with style AdaLayerNorm; the style is re-appended after each norm."""

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        width = c.hidden + c.style_dim
        self.lstms = nn.ModuleList(
            nn.LSTM(width, c.hidden // 2, batch_first=True, bidirectional=True)
            for _ in range(c.n_layer)
        )
        self.norms = nn.ModuleList(AdaLayerNorm(c.style_dim, c.hidden) for _ in range(c.n_layer))

    def forward(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """[B, T, 512] bert features + [B, 128] style → [B, T, 640]."""
        st = s.unsqueeze(1).expand(-1, x.shape[1], -1)
        x = torch.cat([x, st], dim=-1)
        for lstm, norm in zip(self.lstms, self.norms):
            x, _ = lstm(x)
            x = torch.cat([norm(x, s), st], dim=-1)
        return x


class ProsodyPredictor(nn.Module):
    """Durations from text, then F0 and energy (N) curves from the aligned features."""

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        h, sd = c.hidden, c.style_dim
        self.text_encoder = DurationEncoder(c)
        self.lstm = nn.LSTM(h + sd, h // 2, batch_first=True, bidirectional=True)
        self.duration_proj = nn.Linear(h, c.max_dur)
        self.shared = nn.LSTM(h + sd, h // 2, batch_first=True, bidirectional=True)
        self.F0 = nn.ModuleList(
            [AdainResBlk1d(h, h, sd), AdainResBlk1d(h, h // 2, sd, upsample=True), AdainResBlk1d(h // 2, h // 2, sd)]
        )
        self.N = nn.ModuleList(
            [AdainResBlk1d(h, h, sd), AdainResBlk1d(h, h // 2, sd, upsample=True), AdainResBlk1d(h // 2, h // 2, sd)]
        )
        self.F0_proj = nn.Conv1d(h // 2, 1, 1)
        self.N_proj = nn.Conv1d(h // 2, 1, 1)

    def f0_n(self, en: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Aligned predictor features [B, 640, F] → F0 (Hz) and energy curves, each [B, 2F]."""
        x, _ = self.shared(en.transpose(1, 2))
        f0 = n = x.transpose(1, 2)
        for block in self.F0:
            f0 = block(f0, s)
        for block in self.N:
            n = block(n, s)
        # [:, 0] rather than squeeze(1): the ONNX tracer turns squeeze into an If of unknown rank
        return self.F0_proj(f0)[:, 0], self.N_proj(n)[:, 0]


# ---------------------------------------------------------------- decoder (iSTFTNet)


class SineSource(nn.Module):
    """Harmonic source: F0 → 9 phase-continuous harmonics → one excitation (NSF-style), no noise."""

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        self.c = c
        self.linear = nn.Linear(c.harmonics, 1)

    def forward(self, f0: torch.Tensor, phase0: torch.Tensor | None = None) -> torch.Tensor:
        """F0 [B, 2F] at 300-sample frames → excitation [B, 2F*300] at 24 kHz.

        ``phase0`` [B, harmonics] float64, in cycles: each harmonic's phase before the first
        frame, so that a crop of a longer F0 curve continues its phase (``kokoro.chunks``).
        """
        c, hop = self.c, self.c.f0_hop
        with torch.no_grad():
            mult = torch.arange(1, c.harmonics + 1, device=f0.device, dtype=torch.float64)
            rad = f0.double().unsqueeze(1) * mult[None, :, None] / c.sample_rate  # cycles/sample
            rad = rad - torch.floor(rad)
            # phase advance per frame, integrated, then linearly interpolated to sample rate; in
            # float64 because it reaches ~1e6 rad for a 10 s sentence
            phase = torch.cumsum(rad, dim=2) * (2 * math.pi * hop)
            if phase0 is not None:
                phase = phase + (2 * math.pi) * phase0.double()[:, :, None]
            phase = upsample_linear(phase, hop)
            sines = 0.1 * torch.sin(torch.remainder(phase, 2 * math.pi)).float()
            voiced = (f0 > c.voiced_threshold).float().repeat_interleave(hop, dim=1)
            sines = sines * voiced.unsqueeze(1)
        return torch.tanh(self.linear(sines.transpose(1, 2)))[:, :, 0]


class Generator(nn.Module):
    """iSTFTNet generator: features [B, 512, 2F] + F0 → magnitude/phase at 1/5 rate → audio."""

    # The ONNX export's inverse STFT leaves out the window-envelope division (sum of squared
    # Hann windows = 1.5 at hop n_fft/4), so its audio is 1.5x a normalized iSTFT. We keep that
    # level so that output matches the reference runtime and earlier cached audio.
    ISTFT_GAIN = 1.5

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        sd = c.style_dim
        self.source = SineSource(c)
        self.stft = Stft(c.n_fft, c.istft_hop, self.ISTFT_GAIN)
        self.post_bins = c.n_fft // 2 + 1
        self.ups = nn.ModuleList()
        self.noise_convs = nn.ModuleList()
        self.noise_res = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = c.upsample_initial
        n_up = len(c.upsample_rates)
        for i, (u, k) in enumerate(zip(c.upsample_rates, c.upsample_kernels)):
            ch = c.upsample_initial // 2 ** (i + 1)
            self.ups.append(nn.ConvTranspose1d(2 * ch, ch, k, stride=u, padding=(k - u) // 2))
            for rk, rd in zip(c.resblock_kernels, c.resblock_dilations):
                self.resblocks.append(AdaINResBlock1(ch, rk, rd, sd))
            if i + 1 < n_up:
                stride = math.prod(c.upsample_rates[i + 1 :])
                self.noise_convs.append(
                    nn.Conv1d(c.n_fft + 2, ch, 2 * stride, stride=stride, padding=(stride + 1) // 2)
                )
                self.noise_res.append(AdaINResBlock1(ch, 7, (1, 3, 5), sd))
            else:
                self.noise_convs.append(nn.Conv1d(c.n_fft + 2, ch, 1))
                self.noise_res.append(AdaINResBlock1(ch, 11, (1, 3, 5), sd))
        self.n_kernels = len(c.resblock_kernels)
        self.conv_post = nn.Conv1d(ch, c.n_fft + 2, 7, padding=3)

    def harmonic_spec(self, f0: torch.Tensor, phase0: torch.Tensor | None = None) -> torch.Tensor:
        """F0 [B, 2F] → STFT of the harmonic excitation, [B, 22, 2F*60 + 1] (magnitude ‖ phase)."""
        with torch.no_grad():
            mag, phase = self.stft.transform(self.source(f0, phase0))
        return torch.cat([mag, phase], dim=1)

    def forward(self, x: torch.Tensor, s: torch.Tensor, f0: torch.Tensor,
                phase0: torch.Tensor | None = None) -> torch.Tensor:
        har = self.harmonic_spec(f0, phase0)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, 0.1))
            if i == len(self.ups) - 1:
                x = F.pad(x, (1, 0), mode="reflect")
            x = x + self.noise_res[i](self.noise_convs[i](har), s)
            blocks = self.resblocks[i * self.n_kernels : (i + 1) * self.n_kernels]
            x = sum(block(x, s) for block in blocks) / self.n_kernels
        x = self.conv_post(F.leaky_relu(x, 0.01))
        mag = torch.exp(x[:, : self.post_bins])
        phase = torch.sin(x[:, self.post_bins :])
        return self.stft.inverse(mag, phase)


class Decoder(nn.Module):
    """Aligned text features + F0 + energy + acoustic style → waveform."""

    def __init__(self, c: KokoroConfig) -> None:
        super().__init__()
        sd = c.style_dim
        width = 1024 + 2 + 64  # features ‖ F0 ‖ N ‖ asr residual
        self.encode = AdainResBlk1d(c.hidden + 2, 1024, sd)
        self.decode = nn.ModuleList(
            [AdainResBlk1d(width, 1024, sd) for _ in range(3)] + [AdainResBlk1d(width, 512, sd, upsample=True)]
        )
        self.F0_conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)
        self.N_conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)
        self.asr_res = nn.Conv1d(c.hidden, 64, 1)
        self.generator = Generator(c)

    def forward(self, asr: torch.Tensor, f0: torch.Tensor, n: torch.Tensor, s: torch.Tensor,
                phase0: torch.Tensor | None = None) -> torch.Tensor:
        f0_d = self.F0_conv(f0.unsqueeze(1))
        n_d = self.N_conv(n.unsqueeze(1))
        x = self.encode(torch.cat([asr, f0_d, n_d], dim=1), s)
        res = self.asr_res(asr)
        for block in self.decode:  # the residual inputs are re-fed until (and into) the upsampler
            x = block(torch.cat([x, res, f0_d, n_d], dim=1), s)
        return self.generator(x, s, f0, phase0)


# ---------------------------------------------------------------- the whole model

_INIT_FUNCTIONS = ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_")


@contextmanager
def _skip_random_init() -> Iterator[None]:
    """Build modules without random init (0.6 s here) when their weights are loaded right after."""
    saved = {name: getattr(nn.init, name) for name in _INIT_FUNCTIONS}
    for name in _INIT_FUNCTIONS:
        setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(nn.init, name, fn)



@dataclass
class TextEncoding:
    """What ``KokoroModel.encode_text`` returns: everything the later stages need."""

    duration: torch.Tensor  # [B, T] float frames (before rounding, after speed)
    duration_logits: torch.Tensor  # [B, T, max_dur] (sigmoid of each bin sums to the duration)
    d: torch.Tensor  # [B, T, 640] predictor features (to align, then F0/N)
    t_en: torch.Tensor  # [B, 512, T] text-encoder features (to align, then decode)


class KokoroModel(nn.Module):
    """Kokoro-82M: phoneme ids [B, T] (0 at both ends) + style [B, 256] → audio [B, F*600].

    style[:, :128] conditions the decoder (timbre), style[:, 128:] the prosody predictor.
    """

    def __init__(self, config: KokoroConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or KokoroConfig()
        self.bert = Albert(c)
        self.bert_encoder = nn.Linear(c.bert_hidden, c.hidden)
        self.predictor = ProsodyPredictor(c)
        self.text_encoder = TextEncoder(c)
        self.decoder = Decoder(c)

    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, torch.Tensor], config: KokoroConfig | None = None) -> KokoroModel:
        """A frozen model in eval mode around ``state_dict``'s tensors (assigned, not copied)."""
        with _skip_random_init():
            model = cls(config)
        model.load_state_dict(dict(state_dict), strict=True, assign=True)
        return model.eval().requires_grad_(False)

    def encode_text(self, tokens: torch.Tensor, style: torch.Tensor, speed: float = 1.0) -> TextEncoding:
        """Run PL-BERT, the duration encoder and the text encoder (sequences of equal length)."""
        s = style[:, self.config.style_dim :]
        d = self.predictor.text_encoder(self.bert_encoder(self.bert(tokens)), s)
        x, _ = self.predictor.lstm(d)
        logits = self.predictor.duration_proj(x)
        duration = torch.sigmoid(logits).sum(dim=-1) / speed
        return TextEncoding(duration, logits, d, self.text_encoder(tokens))

    @staticmethod
    def round_durations(duration: torch.Tensor) -> torch.Tensor:
        """Float frames → integer frames, at least 1 per token (round half to even, as ONNX)."""
        return torch.round(duration).clamp(min=1).long()

    @staticmethod
    def alignment(durations: torch.Tensor) -> torch.Tensor:
        """Integer durations [T] → hard monotonic alignment [T, sum(durations)] of 0/1."""
        idx = torch.repeat_interleave(torch.arange(durations.shape[0], device=durations.device), durations)
        return F.one_hot(idx, durations.shape[0]).T.float()

    @staticmethod
    def align(x: torch.Tensor, durations: torch.Tensor) -> torch.Tensor:
        """Repeat each token's features: [B, C, T] with durations [T] → [B, C, sum(durations)]."""
        return torch.repeat_interleave(x, durations, dim=-1)

    def predict_f0_n(self, aligned_d: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Aligned predictor features [B, 640, F] → F0 (Hz) and energy, each [B, 2F]."""
        return self.predictor.f0_n(aligned_d, style[:, self.config.style_dim :])

    def decode(self, asr: torch.Tensor, f0: torch.Tensor, n: torch.Tensor, style: torch.Tensor,
               phase0: torch.Tensor | None = None) -> torch.Tensor:
        """Aligned text features [B, 512, F] + F0/N [B, 2F] + style → audio [B, F*600].

        ``phase0``: the harmonic source's starting phase, for a crop of a longer utterance.
        """
        return self.decoder(asr, f0, n, style[:, : self.config.style_dim], phase0)

    def forward(
        self, tokens: torch.Tensor, style: torch.Tensor, speed: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch of one: tokens [1, T], style [1, 256] → (audio [1, F*600], durations [T])."""
        enc = self.encode_text(tokens, style, speed)
        dur = self.round_durations(enc.duration[0])
        f0, n = self.predict_f0_n(self.align(enc.d.transpose(1, 2), dur), style)
        audio = self.decode(self.align(enc.t_en, dur), f0, n, style)
        return audio, dur
