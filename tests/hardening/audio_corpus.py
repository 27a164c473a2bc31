"""A generated corpus of malformed, hostile and odd audio files (≥ 30 kinds) for hardening tests.

Each entry is ``(kind, filename, writer)``; ``writer(path)`` creates the file. Real speech (for the
"good file in the same batch" check) comes from ../shared/speech.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def _tone(seconds: float, sr: int = SR, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(seconds: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    return (amp * np.random.default_rng(0).standard_normal(int(seconds * sr))).astype(np.float32)


def _wav_header(
    data_len: int,
    channels: int = 1,
    sr: int = SR,
    bits: int = 16,
    riff_len: int | None = None,
    fmt_tag: int = 1,
) -> bytes:
    block = channels * bits // 8
    riff_len = 36 + data_len if riff_len is None else riff_len
    return (
        b"RIFF"
        + struct.pack("<I", riff_len & 0xFFFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, fmt_tag, channels, sr, sr * block, block, bits)
        + b"data"
        + struct.pack("<I", data_len & 0xFFFFFFFF)
    )


def _raw(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _sf(data: np.ndarray, sr: int = SR, subtype: str | None = None, fmt: str | None = None):
    return lambda p: sf.write(p, data, sr, subtype=subtype, format=fmt)


def _truncated(p: Path) -> None:
    buf = _wav_header(SR * 2 * 3) + (np.zeros(SR, np.int16)).tobytes()
    p.write_bytes(buf[: len(buf) // 3])


def _mp3_garbage(p: Path) -> None:
    p.write_bytes(
        b"ID3\x04\x00\x00\x00\x00\x00\x00"
        + bytes(np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8))
    )


def _png_as_wav(p: Path) -> None:
    raw = b"\x00" + b"\xff\x00\x00" * 4
    png = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + b"IHDR"
        + struct.pack(">IIBBBBB", 4, 1, 8, 2, 0, 0, 0)
        + b"\0\0\0\0"
        + struct.pack(">I", len(zlib.compress(raw)))
        + b"IDAT"
        + zlib.compress(raw)
        + b"\0\0\0\0"
    )
    p.write_bytes(png)


def _nan_float(p: Path) -> None:
    x = _tone(2.0)
    x[::7] = np.nan
    x[::11] = np.inf
    sf.write(p, x, SR, subtype="FLOAT")


def _hour_long(p: Path) -> None:
    # an hour of quiet noise, written in blocks so the generator itself stays small in memory
    with sf.SoundFile(p, "w", SR, 1, subtype="PCM_16") as f:
        block = (0.01 * np.random.default_rng(2).standard_normal(SR * 60)).astype(np.float32)
        for _ in range(60):
            f.write(block)


def _square(p: Path) -> None:
    x = np.sign(_tone(3.0)).astype(np.float32)
    sf.write(p, x, SR, subtype="PCM_16")


def _dc(p: Path) -> None:
    sf.write(p, np.full(SR * 3, 0.6, np.float32), SR, subtype="PCM_16")


def _clipped_noise(p: Path) -> None:
    sf.write(p, np.clip(_noise(3.0, amp=3.0), -1, 1), SR, subtype="PCM_16")


def _mp3_then_garbage(p: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, _tone(2.0), SR, format="MP3", subtype="MPEG_LAYER_III")
    p.write_bytes(
        buf.getvalue() + bytes(np.random.default_rng(3).integers(0, 256, 30000, dtype=np.uint8))
    )


def _wav_then_garbage(p: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, _noise(2.0, amp=0.1), SR, format="WAV", subtype="PCM_16")
    p.write_bytes(buf.getvalue() + b"JUNK" + b"\xff" * 5000)


def _truncated_flac(p: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, _noise(3.0, amp=0.1), SR, format="FLAC")
    data = buf.getvalue()
    p.write_bytes(data[: len(data) // 2])


def _truncated_ogg(p: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, _noise(3.0, amp=0.1), SR, format="OGG", subtype="VORBIS")
    data = buf.getvalue()
    p.write_bytes(data[: len(data) // 3])


def _many_channels(p: Path) -> None:
    # 1000 channels of 8-bit audio: a block of frames is channels × larger than usual
    p.write_bytes(_wav_header(1000 * 800, channels=1000, bits=8) + b"\x80" * (1000 * 800))


def _huge_fmt_chunk(p: Path) -> None:
    hdr = bytearray(_wav_header(SR * 2))
    hdr[16:20] = struct.pack("<I", 0xFFFFFFF0)  # fmt chunk claims 4 GiB
    p.write_bytes(bytes(hdr) + np.zeros(SR, np.int16).tobytes())


def _absurd_rate(p: Path) -> None:
    p.write_bytes(
        _wav_header(SR * 2, sr=0x7FFFFFFF)
        + _noise(1.0, amp=0.1).astype(np.float32).view(np.uint8)[: SR * 2].tobytes()
    )


def _symlink_dev_zero(p: Path) -> None:
    p.symlink_to("/dev/zero")


CORPUS: list[tuple[str, str, Callable[[Path], None]]] = [
    ("zero_length", "empty.wav", lambda p: p.write_bytes(b"")),
    ("header_only", "header_only.wav", lambda p: _raw(p, _wav_header(0))),
    ("truncated_wav", "truncated.wav", _truncated),
    (
        "wrong_riff_size",
        "riff_size.wav",
        lambda p: _raw(p, _wav_header(SR * 2, riff_len=4) + np.zeros(SR, np.int16).tobytes()),
    ),
    (
        "huge_declared_length",
        "huge_len.wav",
        lambda p: _raw(p, _wav_header(0xFFFFFFF0) + np.zeros(SR, np.int16).tobytes()),
    ),
    ("zero_channels", "zero_ch.wav", lambda p: _raw(p, _wav_header(100, channels=0) + b"\0" * 100)),
    ("zero_sample_rate", "zero_sr.wav", lambda p: _raw(p, _wav_header(100, sr=0) + b"\0" * 100)),
    (
        "unknown_codec_tag",
        "codec.wav",
        lambda p: _raw(p, _wav_header(200, fmt_tag=0x1234) + b"\0" * 200),
    ),
    ("one_sample", "one.wav", _sf(np.zeros(1, np.float32))),
    ("nan_inf_float", "nan.wav", _nan_float),
    ("eight_channels", "8ch.wav", _sf(np.tile(_noise(2.0, amp=0.1)[:, None], (1, 8)))),
    ("stereo_tone", "stereo.wav", _sf(np.stack([_tone(2.0), _tone(2.0, freq=660)], axis=1))),
    ("rate_8k", "8k.wav", _sf(_noise(2.0, sr=8000, amp=0.1), sr=8000)),
    ("rate_192k", "192k.wav", _sf(_noise(1.0, sr=192000, amp=0.1), sr=192000)),
    ("rate_1hz", "1hz.wav", _sf(np.zeros(10, np.float32), sr=1)),
    ("pcm_24bit", "24bit.wav", _sf(_noise(2.0, amp=0.1), subtype="PCM_24")),
    ("float_32", "f32.wav", _sf(_noise(2.0, amp=0.1), subtype="FLOAT")),
    ("float_64", "f64.wav", _sf(_noise(2.0, amp=0.1), subtype="DOUBLE")),
    ("pcm_u8", "u8.wav", _sf(_noise(2.0, amp=0.1), subtype="PCM_U8")),
    ("ulaw", "ulaw.wav", _sf(_noise(2.0, amp=0.1), subtype="ULAW")),
    ("mp3_garbage", "garbage.mp3", _mp3_garbage),
    ("png_renamed_wav", "image.wav", _png_as_wav),
    ("text_renamed_wav", "text.wav", lambda p: p.write_text("this is not audio\n" * 50)),
    ("silence", "silence.wav", _sf(np.zeros(SR * 5, np.float32))),
    ("white_noise", "noise.wav", _sf(_noise(5.0))),
    ("pure_tone", "tone.wav", _sf(_tone(5.0))),
    ("square_full_scale", "square.wav", _square),
    ("dc_offset", "dc.wav", _dc),
    ("clipped_noise", "clipped.wav", _clipped_noise),
    ("half_second", "short.wav", _sf(_noise(0.5, amp=0.1))),
    ("flac_tone", "tone.flac", _sf(_tone(3.0), fmt="FLAC")),
    ("ogg_noise", "noise.ogg", _sf(_noise(3.0, amp=0.2), fmt="OGG", subtype="VORBIS")),
    ("directory_named_wav", "dir.wav", lambda p: p.mkdir()),
    ("mp3_then_garbage", "tail_garbage.mp3", _mp3_then_garbage),
    ("wav_then_garbage", "tail_garbage.wav", _wav_then_garbage),
    ("truncated_flac", "truncated.flac", _truncated_flac),
    ("truncated_ogg", "truncated.ogg", _truncated_ogg),
    ("thousand_channels", "1000ch.wav", _many_channels),
    ("huge_fmt_chunk", "huge_fmt.wav", _huge_fmt_chunk),
    ("absurd_sample_rate", "absurd_rate.wav", _absurd_rate),
    (
        "garbage_m4a",
        "garbage.m4a",
        lambda p: p.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 4000),
    ),
    ("text_renamed_opus", "text.opus", lambda p: p.write_text("not audio at all\n" * 100)),
    ("symlink_to_dev_zero", "zero_link.wav", _symlink_dev_zero),
    ("hour_long_noise", "hour.wav", _hour_long),
]
LONG_KINDS = frozenset({"hour_long_noise"})  # minutes of work: the full run only


def build(folder: Path, kinds: list[str] | None = None) -> dict[str, Path]:
    """Write the corpus (or the named kinds) into ``folder``; returns kind → path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, name, writer in CORPUS:
        if kinds is not None and kind not in kinds:
            continue
        p = folder / name
        writer(p)
        out[kind] = p
    return out
