"""Recordings → clean, transcribed training segments, with a reason for everything left out.

    from ownvoice.engine.preprocess import prepare_recordings
    result = prepare_recordings([Path("me1.wav"), Path("me2.m4a")], lang="en")
    result.segments          # [Segment(audio_24k, audio_16k, text, source, start_s, end_s)]
    result.rejected          # {"/path/noise.wav": "no speech found: ..."}
    print(result.summary())

Per file: decode (bounded) → VAD → quality gate → if noisy, denoise (NSNet2) and VAD again → one
loudness gain → transcript (sidecar or Whisper, with word times) → segments of 1.5-12 s cut between
words → per-segment gate. One bad file never spoils the batch: it lands in ``rejected`` with its reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ...errors import BadInput, Cancelled, MissingDependency
from . import gate, transcribe
from .decode import DEFAULT_MAX_SECONDS, decode
from .denoise import denoise_pair
from .gate import FRAME, GateLimits
from .loudness import normalize_gain
from .segment import plan_segments
from .vad import speech_regions

_LOGGER = logging.getLogger(__name__)

__all__ = ["FileReport", "GateLimits", "PrepResult", "Segment", "prepare_recordings"]

LANGS = ("en", "zh", "ja")
TTS_RATE = 24000  # Hz, what the model trains on
ANALYSIS_RATE = 16000  # Hz, VAD / ASR / speaker encoder
SIDECAR_MAX_S = 20.0  # s: a sidecar covering more speech than this is split by Whisper word times
_CLIP_PROXY = 0.98  # |x| after resampling that counts as clipped inside a segment

Progress = Callable[[float, str], None]
_DEFAULT_LIMITS = GateLimits()


@dataclass(frozen=True)
class Segment:
    """One training segment: loudness-normalized audio at both rates and its transcript."""

    audio_24k: np.ndarray
    audio_16k: np.ndarray
    text: str
    source: str
    start_s: float
    end_s: float

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class FileReport:
    """What happened to one input file."""

    path: str
    accepted: bool
    reason: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    speech_s: float = 0.0
    snr_db: float | None = None
    segments: int = 0
    transcript: str = ""
    """Where the text came from: "sidecar", "whisper" or "" (none)."""
    dropped_segments: tuple[str, ...] = ()
    """Segments left out, as "12.3-14.0 s: reason"."""
    denoised: bool = False
    """Whether its background noise was removed (NSNet2) before training."""


@dataclass
class PrepResult:
    """The segments of a batch and the account of every file."""

    segments: list[Segment] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    accepted_files: list[str] = field(default_factory=list)
    total_speech_s: float = 0.0
    report: list[FileReport] = field(default_factory=list)

    def summary(self) -> str:
        """A few human lines: what was used, what was not and why."""
        head = (
            f"{len(self.segments)} segments, {self.total_speech_s:.1f} s of speech from "
            f"{len(self.accepted_files)} of {len(self.report)} files"
        )
        lines = [head]
        for r in self.report:
            name = Path(r.path).name
            if r.accepted:
                how = f"{r.transcript}, denoised" if r.denoised else r.transcript
                lines.append(f"  ok   {name}: {r.segments} segments, {r.speech_s:.1f} s ({how})")
            else:
                lines.append(f"  skip {name}: {r.reason}")
            lines.extend(f"       note: {w}" for w in r.warnings)
            lines.extend(f"       dropped {d}" for d in r.dropped_segments)
        return "\n".join(lines)


def prepare_recordings(
    paths: Sequence[Path | str],
    lang: str,
    progress: Progress | None = None,
    max_seconds_total: float | None = None,
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    limits: GateLimits = _DEFAULT_LIMITS,
    cancelled: Callable[[], bool] | None = None,
    denoise: bool | None = None,
) -> PrepResult:
    """Decode, gate, transcribe and segment ``paths``; stop once ``max_seconds_total`` of speech is in.

    ``denoise``: True cleans every file with NSNet2 first, False none, None (auto) the files whose
    speech is less than ``limits.denoise_below_snr_db`` above their background.
    """
    if lang not in LANGS:
        raise BadInput(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    if max_seconds_total is not None and not max_seconds_total > 0:
        raise BadInput("max_seconds_total must be a positive number of seconds")
    result = PrepResult()
    paths = [Path(p) for p in paths]
    for i, path in enumerate(paths):
        if cancelled is not None and cancelled():
            raise Cancelled("preprocessing cancelled")
        if progress:
            progress(i / max(len(paths), 1), f"preparing {path.name}")
        remaining = None if max_seconds_total is None else max_seconds_total - result.total_speech_s
        if remaining is not None and remaining <= 0:
            result.report.append(
                FileReport(str(path), False, reason="not needed: enough speech already")
            )
            continue
        try:
            rep, segs = _prepare_file(path, lang, limits, max_seconds, remaining, denoise)
        except BadInput as e:
            rep, segs = (
                FileReport(str(path), False, reason=str(e).removeprefix(f"{path.name}: ")),
                [],
            )
        except MissingDependency:
            raise  # an install problem, not a problem with this file: stop the batch
        except Exception as e:  # one unreadable file must not sink the batch
            _LOGGER.exception("unexpected failure preparing %s", path)
            rep, segs = (
                FileReport(
                    str(path), False, reason=f"could not be processed ({type(e).__name__}: {e})"
                ),
                [],
            )
        result.report.append(rep)
        if rep.accepted:
            result.accepted_files.append(str(path))
            result.segments.extend(segs)
            result.total_speech_s += sum(s.seconds for s in segs)
        else:
            result.rejected[str(path)] = rep.reason or "rejected"
    if progress:
        progress(1.0, f"{len(result.segments)} segments, {result.total_speech_s:.0f} s of speech")
    _LOGGER.info("preprocess: %s", result.summary().splitlines()[0])
    return result


def _read_cap(max_seconds: float, remaining: float | None) -> tuple[float, str | None]:
    """How much of a file to read: all of ``max_seconds``, or enough for the remaining budget."""
    if remaining is None:
        return max_seconds, None
    # Read twice what is still needed plus a margin: speech rarely fills less than half a recording.
    cap = min(max_seconds, 2 * remaining + 30.0)
    return cap, (
        f"read only the first {cap:.0f} s: enough for the requested total"
        if cap < max_seconds
        else None
    )


def _analyse(x16: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray, gate.LevelStats]:
    """Speech regions, frame powers, their speech mask and the level statistics of 16 kHz audio."""
    regions = speech_regions(x16)
    power = gate.frame_power(x16)
    mask = gate.frame_mask(len(power), regions)
    return regions, power, mask, gate.level_stats(power, mask)


def _prepare_file(
    path: Path,
    lang: str,
    limits: GateLimits,
    max_seconds: float,
    remaining: float | None,
    denoise: bool | None = None,
) -> tuple[FileReport, list[Segment]]:
    cap, cap_note = _read_cap(max_seconds, remaining)
    dec = decode(path, rates=(TTS_RATE, ANALYSIS_RATE), max_seconds=cap)
    warnings = list(dec.notes)
    if cap_note and dec.truncated:  # say why it was cut: the budget, not the duration limit
        warnings = [cap_note if n.startswith("cut to") else n for n in warnings]
    bad_rate, rate_warning = gate.check_rate(dec.source_rate, limits)
    if bad_rate:
        return FileReport(str(path), False, bad_rate, tuple(warnings), dec.seconds), []
    if rate_warning:
        warnings.append(rate_warning)

    x16 = dec.at(ANALYSIS_RATE)
    regions, power, mask, stats = _analyse(x16)
    report = FileReport(
        str(path),
        False,
        warnings=tuple(warnings),
        seconds=dec.seconds,
        speech_s=stats.speech_s,
        snr_db=stats.snr_db if math.isfinite(stats.snr_db) else None,
    )
    reason = gate.check_file(stats, dec.clip_fraction, dec.seconds, limits)
    if reason:
        return replace(report, reason=reason), []

    x24, peak = dec.at(TTS_RATE), dec.peak
    if denoise if denoise is not None else stats.snr_db < limits.denoise_below_snr_db:
        # The gate judged the recording as made; everything after it (VAD, loudness, Whisper,
        # segmenting, and what the model learns from) works on the cleaned audio.
        c24, c16 = denoise_pair(x24, x16, dec.source_rate)
        cleaned = _analyse(c16)
        if cleaned[0]:  # speech found in the cleaned audio too
            x24, x16, (regions, power, mask, stats) = c24, c16, cleaned
            peak = float(np.max(np.abs(x24)))
            report = replace(report, denoised=True)
    gain = np.float32(normalize_gain(10 ** (stats.speech_dbfs / 10), peak))
    try:
        planned, source = _spans_with_text(path, lang, x16, gain, regions, power)
    except BadInput as e:
        return replace(report, reason=str(e)), []

    noise = gate.estimate_noise(power, mask)
    segments: list[Segment] = []
    dropped: list[str] = []
    for (s, e), text in planned:
        where = f"{s / ANALYSIS_RATE:.1f}-{e / ANALYSIS_RATE:.1f} s"
        if remaining is not None and sum(seg.seconds for seg in segments) >= remaining:
            dropped.append(f"{where}: not needed (enough speech)")
            continue
        f0, f1 = s // FRAME, -(-e // FRAME)
        seg16 = x16[s:e]
        why = gate.check_segment(
            gate.level_stats(power[f0:f1], mask[f0:f1], noise_power=noise),
            float(np.count_nonzero(np.abs(seg16) >= _CLIP_PROXY)) / max(len(seg16), 1),
            text,
            limits,
        )
        if why:
            dropped.append(f"{where}: {why}")
            continue
        s24, e24 = s * TTS_RATE // ANALYSIS_RATE, e * TTS_RATE // ANALYSIS_RATE
        segments.append(
            Segment(
                audio_24k=x24[s24:e24] * gain,
                audio_16k=seg16 * gain,
                text=text,
                source=str(path),
                start_s=s / ANALYSIS_RATE,
                end_s=e / ANALYSIS_RATE,
            )
        )
    report = replace(report, dropped_segments=tuple(dropped))
    if not segments:
        why = "; ".join(d.split(": ", 1)[1] for d in dropped[:3]) or "no speech segments"
        return replace(report, reason=f"no usable segment: {why}"), []
    return (
        replace(
            report,
            accepted=True,
            speech_s=sum(seg.seconds for seg in segments),
            segments=len(segments),
            transcript=source,
        ),
        segments,
    )


def _spans_with_text(
    path: Path,
    lang: str,
    x16: np.ndarray,
    gain: np.float32,
    regions: list[tuple[int, int]],
    power: np.ndarray,
) -> tuple[list[tuple[tuple[int, int], str]], str]:
    """Planned segments (16 kHz sample spans) with their text, and where the text came from."""
    sidecar = transcribe.read_sidecar(path)
    span = (regions[0][0], regions[-1][1])
    span_s = (span[1] - span[0]) / ANALYSIS_RATE
    if sidecar and span_s <= SIDECAR_MAX_S:  # short: trust the user's text for the whole file
        return [(span, sidecar)], "sidecar"
    if lang not in transcribe.ASR_LANGS:
        if sidecar:
            raise BadInput(
                f"its transcript covers {span_s:.0f} s of speech, more than {SIDECAR_MAX_S:.0f} s, "
                f"and without a {lang} recognizer it cannot be split; cut the recording into files "
                f"of up to {SIDECAR_MAX_S:.0f} s, each with its own .txt"
            )
        raise BadInput(
            f"no transcript: add {path.with_suffix('.txt').name} (UTF-8) with what is said; "
            f"there is no offline speech recognizer for {lang}"
        )
    words = transcribe.transcribe_regions(x16 * gain, regions, lang)
    if sidecar:  # long: time the user's words with Whisper's, then cut between them
        words = transcribe.time_sidecar_words(sidecar, words)
    bounds = plan_segments(regions, power, cuts=transcribe.word_gaps(words))
    return _assign_words(bounds, words), ("sidecar" if sidecar else "whisper")


def _assign_words(
    bounds: list[tuple[int, int]], words: list[transcribe.Word]
) -> list[tuple[tuple[int, int], str]]:
    """Each segment's text: the words whose midpoint is inside it, or near it when VAD trimmed them."""
    inside: list[list[transcribe.Word]] = [[] for _ in bounds]
    for w in words if bounds else ():
        mid = (w.start + w.end) / 2 * ANALYSIS_RATE
        dist = [0 if s <= mid < e else min(abs(mid - s), abs(mid - e)) for s, e in bounds]
        k = int(np.argmin(dist))
        if dist[k] <= 0.5 * ANALYSIS_RATE:  # further than 0.5 s from speech: a hallucination
            inside[k].append(w)
    return [(seg, transcribe.join_words(ws)) for seg, ws in zip(bounds, inside)]
