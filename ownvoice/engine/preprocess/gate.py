"""Quality gate: decide per file and per segment whether a recording is fit to train on, and say why.

Levels are measured on the raw decoded audio (before loudness normalization), at 16 kHz, in 20 ms
frames. SNR compares the energy of VAD speech frames with that of the frames between speech.
Sample-rate policy: below 11.025 kHz (telephone audio, 8 kHz) is rejected, because a voice trained
on it would sound muffled; 11.025-16 kHz is accepted with a warning; everything is resampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FRAME = 320  # samples at 16 kHz, 20 ms
_POWER_BLOCK = 4096  # frames per block of frame_power (82 s of audio, 10 MB as float64)
MIN_PLAUSIBLE_RATE = 2000  # Hz: below this no file is a recording, whatever its header says
MAX_PLAUSIBLE_RATE = 768000  # Hz: the highest rate real audio interfaces record at
_EPS = 1e-12  # power floor: digital silence must not give log(0)


@dataclass(frozen=True)
class GateLimits:
    """Thresholds of the quality gate (all documented in the reasons users see)."""

    min_speech_s: float = 1.5
    """Less speech than this in a file (or a segment) is too short to learn from."""
    min_speech_fraction: float = 0.15
    """A file where VAD finds speech in less than this fraction is noise, music or silence."""
    silence_dbfs: float = -60.0
    """Whole-file RMS below this is silence."""
    quiet_dbfs: float = -45.0
    """Speech RMS below this is too quiet: normalizing it would amplify the noise floor."""
    min_snr_db: float = 10.0
    """Speech-to-background ratio below this is too noisy to clone cleanly."""
    denoise_below_snr_db: float = 30.0
    """With denoising "auto", files with less speech-to-background ratio than this are denoised
    before training: LibriSpeech 2609 (15 dB) and 3005 (30 dB) are, 2033 (57 dB) and LJ Speech
    (37 dB median) are not."""
    max_clip_fraction_file: float = 0.01
    """More clipped samples than this in a file rejects the file."""
    max_clip_fraction_segment: float = 0.002
    """More clipped samples than this in a segment rejects the segment."""
    min_rate: int = 11025
    """Below this sample rate (Hz) a file is rejected."""
    warn_rate: int = 16000
    """Below this sample rate (Hz) a file gets a warning."""


@dataclass(frozen=True)
class LevelStats:
    """Loudness and noise of a stretch of audio, in dBFS and dB."""

    rms_dbfs: float
    speech_dbfs: float
    noise_dbfs: float
    snr_db: float
    speech_s: float
    speech_fraction: float


def frame_power(audio_16k: np.ndarray) -> np.ndarray:
    """Mean power of each whole 20 ms frame (the tail shorter than a frame is ignored)."""
    n = len(audio_16k) // FRAME
    out = np.zeros(n, dtype=np.float64)
    # In blocks: a float64 copy of a whole hour-long file would cost 460 MB for a moment.
    for i in range(0, n, _POWER_BLOCK):
        j = min(n, i + _POWER_BLOCK)
        frames = audio_16k[i * FRAME : j * FRAME].reshape(j - i, FRAME).astype(np.float64)
        out[i:j] = np.einsum("ij,ij->i", frames, frames) / FRAME
    return out


def frame_mask(n_frames: int, regions: list[tuple[int, int]]) -> np.ndarray:
    """Which 20 ms frames lie inside speech regions (sample indices at 16 kHz)."""
    mask = np.zeros(n_frames, dtype=bool)
    for s, e in regions:
        mask[s // FRAME : -(-e // FRAME)] = True
    return mask


def db(power: float) -> float:
    return 10.0 * math.log10(max(power, _EPS))


def level_stats(
    power: np.ndarray, speech: np.ndarray, noise_power: float | None = None
) -> LevelStats:
    """Speech level, background level and SNR from frame powers and a speech mask."""
    total = float(power.mean()) if len(power) else 0.0
    sp = power[speech]
    speech_p = float(sp.mean()) if len(sp) else 0.0
    if noise_power is None:
        noise_power = estimate_noise(power, speech)
    snr = db(max(speech_p - noise_power, _EPS)) - db(noise_power) if speech_p > 0 else -math.inf
    return LevelStats(
        rms_dbfs=db(total),
        speech_dbfs=db(speech_p),
        noise_dbfs=db(noise_power),
        snr_db=snr,
        speech_s=float(speech.sum()) * FRAME / 16000,
        speech_fraction=float(speech.mean()) if len(speech) else 0.0,
    )


def estimate_noise(power: np.ndarray, speech: np.ndarray) -> float:
    """Background power: lower quartile of the pauses, or of the quietest frames if pauses are rare."""
    quiet = power[~speech]
    if len(quiet) >= 25:  # 0.5 s of pauses is enough for a stable estimate
        # Lower quartile, not the median: VAD padding leaks speech tails into the pauses.
        return max(float(np.percentile(quiet, 25)), _EPS)
    if len(power) == 0:
        return _EPS
    # Hardly any pause: the 5th percentile of all frames bounds the noise floor from above.
    return max(float(np.percentile(power, 5)), _EPS)


def check_rate(rate: int, limits: GateLimits) -> tuple[str | None, str | None]:
    """(reason to reject, warning) for a file's sample rate."""
    if not MIN_PLAUSIBLE_RATE <= rate <= MAX_PLAUSIBLE_RATE:
        # No recorder writes this: the header is damaged, and the samples cannot be trusted.
        reason = (
            f"sample rate {rate} Hz is not a real recording rate (the file header is damaged?); "
            "export the recording again as WAV or FLAC"
        )
        return reason, None
    if rate < limits.min_rate:
        reason = (
            f"sample rate {rate} Hz is telephone quality: a voice trained on it would sound "
            f"muffled; record at {limits.warn_rate // 1000} kHz or more"
        )
        return reason, None
    if rate < limits.warn_rate:
        return (
            None,
            f"low sample rate {rate} Hz: the voice may sound dull; 16 kHz or more is better",
        )
    return None, None


def check_file(
    stats: LevelStats, clip_fraction: float, seconds: float, limits: GateLimits
) -> str | None:
    """The reason a whole file is unusable, or None when it may go on to segmentation."""
    if stats.rms_dbfs < limits.silence_dbfs:
        return f"silent: the recording's level is {stats.rms_dbfs:.0f} dBFS"
    if stats.speech_s < 0.3 or stats.speech_fraction < limits.min_speech_fraction:
        return (
            f"no speech found: only {stats.speech_s:.1f} s of {seconds:.1f} s sounds like a voice "
            "(noise, music or a tone?)"
        )
    if stats.speech_s < limits.min_speech_s:
        return (
            f"too short: {stats.speech_s:.1f} s of speech, at least {limits.min_speech_s:.1f} s "
            "are needed per file"
        )
    if clip_fraction > limits.max_clip_fraction_file:
        return (
            f"clipped: {clip_fraction:.1%} of samples are at full scale; record again with lower "
            "input gain"
        )
    if stats.speech_dbfs < limits.quiet_dbfs:
        return (
            f"too quiet: speech at {stats.speech_dbfs:.0f} dBFS (need at least "
            f"{limits.quiet_dbfs:.0f}); move closer to the microphone or raise its gain"
        )
    if stats.snr_db < limits.min_snr_db:
        return (
            f"too noisy: speech is only {stats.snr_db:.0f} dB above the background (need "
            f"{limits.min_snr_db:.0f} dB); record in a quieter place"
        )
    return None


def check_segment(
    stats: LevelStats, clip_fraction: float, text: str, limits: GateLimits
) -> str | None:
    """The reason one segment is unusable, or None."""
    if stats.speech_s < limits.min_speech_s:
        return f"too short: {stats.speech_s:.1f} s of speech"
    if clip_fraction > limits.max_clip_fraction_segment:
        return f"clipped: {clip_fraction:.1%} of samples at full scale"
    if stats.snr_db < limits.min_snr_db:
        return f"too noisy: {stats.snr_db:.0f} dB SNR"
    if not text.strip():
        return "no words recognized"
    return None
