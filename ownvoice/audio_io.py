"""Encode synthesized audio to the formats users and clients ask for (wav, flac, ogg, opus, mp3, pcm)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

from . import atomic
from .errors import BadInput

# name -> (soundfile format, subtype, mime type)
FORMATS: dict[str, tuple[str, str, str]] = {
    "wav": ("WAV", "PCM_16", "audio/wav"),
    "flac": ("FLAC", "PCM_16", "audio/flac"),
    "ogg": ("OGG", "VORBIS", "audio/ogg"),
    "opus": ("OGG", "OPUS", "audio/ogg"),
    "mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"),
    "pcm": ("RAW", "PCM_16", "audio/pcm"),
}
OPUS_RATE = 48000  # Hz: Opus only codes 8/12/16/24/48 kHz; 24 kHz is fine, kept explicit


def check_format(fmt: str) -> str:
    fmt = (fmt or "wav").lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadInput(f"unsupported audio format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def format_from_path(path: Path, default: str = "wav") -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    return check_format(suffix) if suffix else default


def mime_type(fmt: str) -> str:
    return FORMATS[check_format(fmt)][2]


def encode(samples: np.ndarray, sample_rate: int, fmt: str = "wav") -> bytes:
    """Encode mono float32 samples in [-1, 1] to ``fmt`` bytes."""
    fmt = check_format(fmt)
    major, subtype, _ = FORMATS[fmt]
    x = np.clip(np.nan_to_num(np.asarray(samples, dtype=np.float32)), -1.0, 1.0)
    if fmt == "pcm":
        return (x * 32767.0).astype("<i2").tobytes()
    buf = io.BytesIO()
    if len(x) == 0:
        x = np.zeros(1, dtype=np.float32)  # some encoders refuse empty streams
    sf.write(buf, x, sample_rate, format=major, subtype=subtype)
    return buf.getvalue()


def write(path: Path, samples: np.ndarray, sample_rate: int, fmt: str | None = None) -> Path:
    """Write audio to ``path`` atomically, in the format named by ``fmt`` or the file suffix."""
    path = Path(path)
    fmt = check_format(fmt) if fmt else format_from_path(path)
    atomic.write_bytes(path, encode(samples, sample_rate, fmt))
    return path
