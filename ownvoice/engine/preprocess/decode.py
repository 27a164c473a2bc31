"""Decode any recording to mono float32 at the rates the pipeline needs, in bounded memory.

soundfile (libsndfile) reads wav/flac/ogg/mp3 and friends; PyAV (FFmpeg) reads m4a/aac/opus/webm.
Files are read in blocks, downmixed and resampled with streaming soxr, and cut at ``max_seconds``,
so a one-hour file never costs more than the part we keep. Broken input raises ``BadInput`` with a
specific reason the user can act on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ...errors import BadInput, TooLarge

_LOGGER = logging.getLogger(__name__)

# bytes: a 1 h 48 kHz stereo 24-bit WAV is ~1 GB; beyond that is a mistake
MAX_FILE_BYTES = 2 * 1024**3
DEFAULT_MAX_SECONDS = 3600.0  # s, the ``max_audio_seconds`` setting's default
BLOCK_FRAMES = 65536  # source frames per read: a few hundred kB per block at any rate
CLIP_LEVEL = 0.999  # |x| at or above this counts as a clipped sample
AV_SUFFIXES = frozenset({".m4a", ".aac", ".mp4", ".opus", ".webm", ".weba", ".mka", ".wma", ".amr"})


@dataclass(frozen=True)
class Decoded:
    """A decoded recording: mono float32 per requested rate plus what we learned reading it."""

    audio: dict[int, np.ndarray]
    """Mono float32 samples keyed by sample rate (Hz)."""
    source_rate: int
    """The file's own sample rate (Hz)."""
    channels: int
    seconds: float
    """Duration of the kept audio (s), after any cut."""
    source_seconds: float | None
    """Duration of the whole file (s) where the container says it."""
    truncated: bool
    clip_fraction: float
    """Fraction of source samples (all channels) at |x| >= 0.999, measured before resampling."""
    peak: float
    notes: tuple[str, ...] = ()

    def at(self, rate: int) -> np.ndarray:
        """The mono samples at ``rate``; the rate must have been requested at decode time."""
        try:
            return self.audio[rate]
        except KeyError:
            raise ValueError(f"rate {rate} Hz not decoded; have {sorted(self.audio)}") from None


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample mono float32 audio with soxr (high quality); identity when the rates match."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if rate_in == rate_out or len(x) == 0:
        return x.copy()
    return soxr.resample(x, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def decode(
    path: Path | str,
    rates: Sequence[int] = (24000,),
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bytes: int = MAX_FILE_BYTES,
) -> Decoded:
    """Read ``path`` as mono float32 at each of ``rates``, keeping at most ``max_seconds``."""
    path = Path(path)
    if not rates or any(int(r) <= 0 for r in rates):
        raise ValueError(f"rates must be positive sample rates, got {list(rates)}")
    if not (max_seconds > 0 and math.isfinite(max_seconds)):
        raise ValueError(f"max_seconds must be a positive number, got {max_seconds!r}")
    if not path.is_file():
        raise BadInput(f"{path.name}: not a readable file")
    size = path.stat().st_size
    if size == 0:
        raise BadInput(f"{path.name}: empty file (0 bytes)")
    if size > max_bytes:
        raise TooLarge(
            f"{path.name}: {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit for one "
            "recording; cut it into shorter files"
        )
    if path.suffix.lower() in AV_SUFFIXES:
        reader = _AvReader(path)
    else:
        try:
            reader = _SfReader(path)
        except sf.LibsndfileError as e:
            # A container libsndfile does not know (or a mislabelled suffix): FFmpeg may read it.
            _LOGGER.debug("soundfile cannot open %s (%s); trying PyAV", path, e)
            reader = _AvReader(path, sf_error=getattr(e, "error_string", None) or str(e))
    return _collect(path, reader, [int(r) for r in rates], max_seconds)


def _frames_per_block(channels: int) -> int:
    """Frames per read: BLOCK_FRAMES for mono/stereo, fewer for many channels (bounded bytes)."""
    return max(256, (BLOCK_FRAMES * 2) // max(1, channels))


class _SfReader:
    """Blocks of (frames, channels) float32 from libsndfile."""

    def __init__(self, path: Path) -> None:
        info = sf.info(str(path))
        if info.channels <= 0:
            raise BadInput(f"{path.name}: the file has no audio channels")
        if info.samplerate <= 0:
            raise BadInput(f"{path.name}: invalid sample rate {info.samplerate}")
        if info.frames <= 0:
            raise BadInput(f"{path.name}: empty: the file has no audio samples")
        self.path = path
        self.rate = int(info.samplerate)
        self.channels = int(info.channels)
        self.frames: int | None = int(info.frames)

    def blocks(self, limit: int) -> Iterator[np.ndarray]:
        try:
            with sf.SoundFile(str(self.path)) as f:
                left = min(limit, self.frames or limit)
                while left > 0:
                    n = min(_frames_per_block(self.channels), left)
                    block = f.read(n, dtype="float32", always_2d=True)
                    if len(block) == 0:
                        break
                    left -= len(block)
                    yield block
        except sf.LibsndfileError as e:
            why = getattr(e, "error_string", None) or str(e)
            raise BadInput(f"{self.path.name}: the audio data is corrupt ({why})") from e


class _AvReader:
    """Blocks of (frames, channels) float32 from FFmpeg via PyAV, for containers libsndfile lacks."""

    def __init__(self, path: Path, sf_error: str | None = None) -> None:
        self.path = path
        try:
            import av
        except ImportError as e:
            raise BadInput(
                f"{path.name}: {path.suffix or 'this'} files need PyAV (pip install av); "
                "convert the recording to WAV or FLAC instead"
            ) from e
        self._av = av
        try:
            self._container = av.open(str(path), mode="r")
        except Exception as e:  # FFmpeg raises many error types; all mean "unreadable"
            why = sf_error or str(e)
            if sf_error and "does not exist" in sf_error:
                # libsndfile's words for "no format I know" (it is a regular file: checked above)
                why = str(e)
            raise BadInput(
                f"{path.name}: cannot decode audio: corrupt header or unsupported format ({why}); "
                "convert it to WAV"
            ) from e
        streams = self._container.streams.audio
        if not streams:
            self._container.close()
            raise BadInput(f"{path.name}: the file has no audio stream")
        self._stream = streams[0]
        ctx = self._stream.codec_context
        if ctx is None:  # FFmpeg found an audio stream but has no decoder for its codec
            self._container.close()
            raise BadInput(
                f"{path.name}: unsupported audio codec ({sf_error or 'no decoder'}); "
                "convert the recording to WAV or FLAC"
            )
        self.rate = int(ctx.sample_rate or 0)
        self.channels = int(getattr(ctx, "channels", 0) or len(getattr(ctx.layout, "channels", ())))
        if self.channels <= 0:
            self._container.close()
            raise BadInput(f"{path.name}: the file has no audio channels")
        if self.rate <= 0:
            self._container.close()
            raise BadInput(f"{path.name}: invalid sample rate {self.rate}")
        self.frames = None
        if self._stream.duration is not None and self._stream.time_base is not None:
            self.frames = int(float(self._stream.duration * self._stream.time_base) * self.rate)
        elif self._container.duration:
            self.frames = int(self._container.duration / 1_000_000 * self.rate)

    def blocks(self, limit: int) -> Iterator[np.ndarray]:
        av = self._av
        resampler = av.AudioResampler(format="fltp", layout=self._stream.layout, rate=self.rate)
        got = 0
        try:
            for frame in self._container.decode(self._stream):
                for out in resampler.resample(frame):
                    block = np.ascontiguousarray(out.to_ndarray().T, dtype=np.float32)
                    if got + len(block) > limit:
                        block = block[: limit - got]
                    got += len(block)
                    if len(block):
                        yield block
                    if got >= limit:
                        self.more_after_limit = True
                        return
        except av.error.FFmpegError as e:
            raise BadInput(f"{self.path.name}: the audio data is corrupt ({e})") from e
        finally:
            self._container.close()

    more_after_limit = False


def _collect(
    path: Path, reader: _SfReader | _AvReader, rates: list[int], max_seconds: float
) -> Decoded:
    limit = int(max_seconds * reader.rate)
    streams = {
        r: soxr.ResampleStream(reader.rate, r, 1, dtype="float32")
        for r in rates
        if r != reader.rate
    }
    # Preallocate when the length is known, so the kept audio is never held twice.
    expect = min(limit, reader.frames) if reader.frames else None
    buffers: dict[int, _Growing] = {r: _Growing(expect, reader.rate, r) for r in rates}
    n_src = clipped = 0
    peak = 0.0
    for block in reader.blocks(limit):
        if not np.isfinite(block).all():
            raise BadInput(f"{path.name}: the audio contains NaN or infinite samples")
        clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
        peak = max(peak, float(np.max(np.abs(block))))
        n_src += len(block)
        mono = (
            np.ascontiguousarray(block[:, 0])
            if block.shape[1] == 1
            else block.mean(axis=1, dtype=np.float32)
        )
        for r in rates:
            buffers[r].add(streams[r].resample_chunk(mono) if r in streams else mono)
    if n_src == 0:
        raise BadInput(f"{path.name}: empty: the file has no audio samples")
    for r, stream in streams.items():
        buffers[r].add(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    audio = {r: buffers[r].result() for r in rates}
    source_seconds = reader.frames / reader.rate if reader.frames else None
    truncated = (reader.frames is not None and reader.frames > limit) or getattr(
        reader, "more_after_limit", False
    )
    notes: list[str] = []
    if truncated:
        whole = f" of {source_seconds:.0f} s" if source_seconds else ""
        notes.append(f"cut to the first {max_seconds:.0f} s{whole}")
    if reader.channels > 1:
        notes.append(f"{reader.channels} channels mixed down to mono")
    return Decoded(
        audio=audio,
        source_rate=reader.rate,
        channels=reader.channels,
        seconds=n_src / reader.rate,
        source_seconds=source_seconds,
        truncated=truncated,
        clip_fraction=clipped / (n_src * reader.channels),
        peak=peak,
        notes=tuple(notes),
    )


class _Growing:
    """An output buffer: one preallocated array when the length is known, else a list of blocks."""

    def __init__(self, src_frames: int | None, rate_in: int, rate_out: int) -> None:
        self._arr = None
        self._parts: list[np.ndarray] = []
        self._n = 0
        if src_frames:
            self._arr = np.empty(math.ceil(src_frames * rate_out / rate_in) + 64, dtype=np.float32)

    def add(self, x: np.ndarray) -> None:
        if len(x) == 0:
            return
        if self._arr is not None and self._n + len(x) <= len(self._arr):
            self._arr[self._n : self._n + len(x)] = x
        else:
            if self._arr is not None:  # the container's length was wrong: fall back to blocks
                self._parts.append(self._arr[: self._n])
                self._arr = None
            self._parts.append(np.array(x, dtype=np.float32))
        self._n += len(x)

    def result(self) -> np.ndarray:
        if self._arr is not None:
            return self._arr[: self._n]  # a view: the slack is a few samples
        return np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.float32)
