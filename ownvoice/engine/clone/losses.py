"""Training losses for voice cloning: waveform reconstruction (multi-resolution STFT, log-mel L1)
and prosody (durations, F0 on voiced frames, energy), all differentiable torch functions.

Conventions follow Kokoro/StyleTTS2: durations are in 600-sample frames, F0 (Hz) and energy ("N",
``log ‖mel power‖``) in 300-sample frames, audio at 24 kHz.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..features import MEL_HOP, WIN, mel_filterbank

# (n_fft, hop, window) triples: short windows catch transients, long ones harmonics (ParallelWaveGAN).
STFT_RESOLUTIONS: tuple[tuple[int, int, int], ...] = (
    (512, 128, 512),
    (1024, 256, 1024),
    (2048, 512, 2048),
)
_EPS = 1e-7
MIN_F0 = (
    1.0  # Hz: predicted F0 is clamped here before the log (the model predicts ~10 Hz when unvoiced)
)


def _magnitude(x: torch.Tensor, n_fft: int, hop: int, win: int) -> torch.Tensor:
    """|STFT| [B, bins, frames] of [B, L] audio."""
    spec = torch.stft(
        x,
        n_fft=n_fft,
        hop_length=hop,
        win_length=win,
        window=torch.hann_window(win, device=x.device, dtype=x.dtype),
        center=True,
        pad_mode="reflect" if x.shape[-1] > n_fft // 2 else "constant",
        return_complex=True,
    )
    return torch.sqrt(spec.real.square() + spec.imag.square() + _EPS)


def _keep(n_bins: int, n_fft: int, max_hz: float | None) -> int:
    """How many of the lowest STFT bins lie below ``max_hz`` (all when None)."""
    if max_hz is None:
        return n_bins
    return max(1, min(n_bins, int(max_hz * n_fft / 24000) + 1))


def mel_bands_below(max_hz: float | None, n_mels: int = 80) -> int:
    """How many of Kokoro's 80 HTK mel bands lie entirely below ``max_hz`` (all when None)."""
    if max_hz is None:
        return n_mels
    top = 2595.0 * math.log10(1.0 + 12000.0 / 700.0)
    edges = 700.0 * (10 ** (torch.linspace(0, top, n_mels + 2, dtype=torch.float64) / 2595.0) - 1.0)
    return max(1, int((edges[2:] <= max_hz + 1e-6).sum()))


def _pair(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.ndim == 1:
        pred, target = pred[None], target[None]
    if pred.shape != target.shape:
        raise ValueError(f"audio shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    return pred, target


def stft_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    max_hz: float | None = None,
    resolutions: tuple[tuple[int, int, int], ...] = STFT_RESOLUTIONS,
) -> torch.Tensor:
    """Multi-resolution STFT loss: spectral convergence + L1 of log magnitudes, averaged over resolutions.

    ``max_hz`` ignores frequencies above the recording's bandwidth (a 16 kHz file resampled to
    24 kHz has nothing above 8 kHz: matching that would teach the model to muffle its voice).
    """
    pred, target = _pair(pred, target)
    total = pred.new_zeros(())
    for n_fft, hop, win in resolutions:
        p, t = _magnitude(pred, n_fft, hop, win), _magnitude(target, n_fft, hop, win)
        k = _keep(p.shape[-2], n_fft, max_hz)
        p, t = p[..., :k, :], t[..., :k, :]
        convergence = torch.linalg.norm(t - p) / torch.linalg.norm(t).clamp_min(_EPS)
        log_mag = F.l1_loss(torch.log(p), torch.log(t))
        total = total + convergence + log_mag
    return total / len(resolutions)


def log_mel(audio: torch.Tensor) -> torch.Tensor:
    """Differentiable natural-log mel [B, 80, frames] on Kokoro's analysis grid (hop 300, window 1200)."""
    fb = mel_filterbank().to(audio.dtype)
    spec = torch.stft(
        audio,
        n_fft=2048,
        hop_length=MEL_HOP,
        win_length=WIN,
        window=torch.hann_window(WIN, device=audio.device, dtype=audio.dtype),
        center=True,
        pad_mode="reflect" if audio.shape[-1] > 1024 else "constant",
        return_complex=True,
    )
    power = spec.real.square() + spec.imag.square()
    return torch.log(1e-5 + fb.T @ power)


def mel_loss(pred: torch.Tensor, target: torch.Tensor, max_hz: float | None = None) -> torch.Tensor:
    """L1 between log-mel spectrograms (StyleTTS2/HiFi-GAN's main reconstruction loss), bands below ``max_hz``."""
    pred, target = _pair(pred, target)
    k = mel_bands_below(max_hz)
    return F.l1_loss(log_mel(pred)[..., :k, :], log_mel(target)[..., :k, :])


def duration_loss(
    logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Duration loss as StyleTTS2 trains it: L1 of the predicted frame count + BCE of the bins.

    ``logits`` [T, max_dur] (each bin's sigmoid says "this token lasts at least k+1 frames"),
    ``target`` [T] integer frames, ``mask`` [T] bool selects the tokens that count.
    """
    if logits.ndim == 3:
        logits = logits[0]
    target = target.to(logits.dtype).reshape(-1)
    if mask is None:
        mask = torch.ones_like(target, dtype=torch.bool)
    if not bool(mask.any()):
        return logits.new_zeros(())
    lg, tg = logits[mask], target[mask]
    predicted = torch.sigmoid(lg).sum(-1)
    bins = torch.arange(lg.shape[-1], device=lg.device, dtype=lg.dtype)
    bin_target = (bins[None, :] < tg[:, None]).to(lg.dtype)
    return F.l1_loss(predicted, tg) + F.binary_cross_entropy_with_logits(lg, bin_target)


def f0_loss(pred_hz: torch.Tensor, real_hz: torch.Tensor) -> torch.Tensor:
    """L1 of log F0 on frames the recording marks voiced (``real_hz > 0``); unvoiced frames are ignored.

    Log scale so that an error of a semitone costs the same for low and high voices.
    """
    pred_hz, real_hz = pred_hz.reshape(-1), real_hz.reshape(-1).to(pred_hz.dtype)
    n = min(len(pred_hz), len(real_hz))
    pred_hz, real_hz = pred_hz[:n], real_hz[:n]
    voiced = real_hz > 0
    if not bool(voiced.any()):
        return pred_hz.new_zeros(())
    return F.l1_loss(torch.log(pred_hz[voiced].clamp_min(MIN_F0)), torch.log(real_hz[voiced]))


def energy_loss(pred: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """L1 between predicted and measured energy curves (``log ‖mel power‖`` per 300-sample frame)."""
    pred, real = pred.reshape(-1), real.reshape(-1).to(pred.dtype)
    n = min(len(pred), len(real))
    return F.l1_loss(pred[:n], real[:n])


def bandwidth_hz(audio_24k: torch.Tensor, drop_db: float = 45.0) -> float:
    """Highest frequency where the long-term spectrum is within ``drop_db`` of the speech band's level.

    Detects recordings made (or resampled) at a lower rate: LibriSpeech (16 kHz) gives ~7.8 kHz,
    LJ Speech (22.05 kHz) ~10.9 kHz, a full-band 24 kHz recording 12 kHz.
    """
    x = audio_24k.reshape(-1)
    if x.numel() < 4096:
        return 12000.0
    with torch.no_grad():
        power = _magnitude(x[None], 2048, 512, 2048)[0].square().mean(-1)
        db = 10 * torch.log10(power + 1e-12)
        freqs = torch.arange(len(db)) * 24000.0 / 2048
        ref = db[(freqs > 200) & (freqs < 4000)].median()
        above = torch.nonzero(db > ref - drop_db).reshape(-1)
    return float(freqs[above.max()]) if len(above) else 12000.0


def energy_curve(audio_24k: torch.Tensor) -> torch.Tensor:
    """Kokoro's energy input N for real audio [L] → [L // 300 + 1]: ``log ‖1e-5 + mel power‖₂``.

    This is StyleTTS2's ``log_norm`` of its normalized mel; on Kokoro's own output it matches the
    predictor's N curve with slope 0.99 and no lag (measured), so real recordings need no calibration.
    """
    with torch.no_grad():
        power = torch.exp(log_mel(audio_24k[None]))[0]
        return torch.log(torch.linalg.vector_norm(power, dim=0))
