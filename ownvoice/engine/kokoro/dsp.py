"""Signal pieces of the Kokoro decoder written for export: STFT/iSTFT as convolutions, atan2, upsampling.

Each is plain torch arithmetic that the ONNX exporter (``kokoro.export``) translates one to one,
so the fp32 ONNX graph computes what the torch model computes (parity tests: log-mel L1 ~0.002).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def upsample_linear(x: torch.Tensor, factor: int) -> torch.Tensor:
    """``F.interpolate(x, scale_factor=factor, mode="linear")`` written with elementwise ops.

    onnxruntime has no float64 Resize, and the phase needs float64; this form exports as plain
    arithmetic. Output sample k of frame i sits at i + w, w = (k + 0.5) / factor - 0.5.
    """
    w = (torch.arange(factor, device=x.device, dtype=x.dtype) + 0.5) / factor - 0.5
    n = x.shape[2]  # positive bounds and axes: the ONNX tracer mis-resolves negative ones
    prev = torch.cat([x[:, :, :1], x[:, :, : n - 1]], dim=2)  # edges clamp, as interpolate does
    nxt = torch.cat([x[:, :, 1:], x[:, :, n - 1 :]], dim=2)
    out = x[..., None] + (x - prev)[..., None] * w.clamp(max=0) + (nxt - x)[..., None] * w.clamp(min=0)
    return out.reshape(x.shape[0], x.shape[1], x.shape[2] * factor)  # no -1: see above


def atan2(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``torch.atan2`` from ops that export to ONNX unchanged.

    The exporter's own atan2 maps y == 0, x < 0 to -π (torch: +π) and 0/0 to NaN; the phase of
    silent frames (exactly 0) feeds the generator, so that would change the audio.
    """
    base = torch.atan(y / torch.where(x == 0, torch.ones_like(x), x))
    out = torch.where(x < 0, torch.where(y >= 0, base + math.pi, base - math.pi), base)
    edge = torch.where(y > 0, torch.full_like(y, math.pi / 2), torch.where(y < 0, torch.full_like(y, -math.pi / 2), torch.zeros_like(y)))
    return torch.where(x == 0, edge, out)


def _hann(n: int) -> torch.Tensor:
    return torch.hann_window(n, periodic=True, dtype=torch.float64)


class Stft(nn.Module):
    """STFT / inverse STFT as real convolutions (exportable, differentiable), n_fft 20, hop 5."""

    def __init__(self, n_fft: int, hop: int, gain: float) -> None:
        super().__init__()
        self.n_fft, self.hop, self.gain = n_fft, hop, gain
        bins = n_fft // 2 + 1
        n = torch.arange(n_fft, dtype=torch.float64)
        k = torch.arange(bins, dtype=torch.float64)
        ang = 2 * math.pi * k[:, None] * n[None, :] / n_fft
        win = _hann(n_fft)
        fwd = torch.cat([torch.cos(ang) * win, -torch.sin(ang) * win])  # [2*bins, n_fft]
        # one-sided inverse DFT: bins 1..N/2-1 count twice; synthesis window applied here too
        wt = torch.full((bins,), 2.0, dtype=torch.float64)
        wt[0] = wt[-1] = 1.0
        inv = torch.cat([torch.cos(ang) * wt[:, None], -torch.sin(ang) * wt[:, None]]) * win / n_fft
        self.register_buffer("forward_basis", fwd.float().unsqueeze(1), persistent=False)
        self.register_buffer("inverse_basis", inv.float().unsqueeze(1), persistent=False)
        self.register_buffer("window_sq", (win**2).float().view(1, 1, -1), persistent=False)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, L] → magnitude and phase, each [B, n_fft/2+1, L/hop + 1] (centered, reflect pad)."""
        pad = self.n_fft // 2
        x = F.pad(x.unsqueeze(1), (pad, pad), mode="reflect")
        spec = F.conv1d(x, self.forward_basis, stride=self.hop)
        re, im = spec.chunk(2, dim=1)
        return torch.sqrt(re * re + im * im), atan2(im, re)

    def inverse(self, mag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Magnitude and phase [B, bins, frames] → [B, (frames-1)*hop] samples."""
        spec = torch.cat([mag * torch.cos(phase), mag * torch.sin(phase)], dim=1)
        y = F.conv_transpose1d(spec, self.inverse_basis, stride=self.hop)
        ones = torch.ones(1, 1, spec.shape[-1], device=y.device, dtype=y.dtype)
        env = F.conv_transpose1d(ones, self.window_sq, stride=self.hop)
        pad, n = self.n_fft // 2, y.shape[2]
        y = y[:, :, pad : n - pad] / env[:, :, pad : n - pad].clamp_min(1e-8)
        return self.gain * y[:, 0]
