"""Render notes to audio: one-shot (``render_note``, ``export_note``) and incremental (``NoteRenderer``).

The synthesizer is injected (``synthesize(text, lang) -> np.ndarray`` at ``sample_rate``), so this
module knows nothing of models; the cache makes re-rendering a note cost only its new sentences.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .. import atomic
from ..audio_constants import SAMPLE_RATE
from ..errors import BadInput, Cancelled, MissingDependency, NotFound, OwnvoiceError
from ..yield_gate import YieldGate
from .cache import AudioCache, cache_key
from .rules import ReadingRules
from .script import Sentence, build_script
from .source import read_note
from .timings import write_timings

_LOGGER = logging.getLogger(__name__)

Synthesize = Callable[[str, str], np.ndarray]

# format → (soundfile format, subtype)
AUDIO_FORMATS: dict[str, tuple[str, str]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


@dataclass(frozen=True)
class VoiceKey:
    """What besides the words decides a sentence's audio: voice, its version, engine, speed."""

    voice_id: str
    voice_version: str | int
    engine_version: str
    speed: float = 1.0

    def key(self, text: str, lang: str) -> str:
        return cache_key(
            text, lang, self.voice_id, self.voice_version, self.engine_version, self.speed
        )


@dataclass(frozen=True)
class TimedSentence:
    """A sentence of the script placed in the audio: ``t0``/``t1`` seconds, source offsets."""

    index: int
    text: str
    lang: str
    start: int
    end: int
    heading: str | None
    t0: float
    t1: float


@dataclass
class RenderedNote:
    """A note's audio (mono float32) and where each sentence is in it."""

    samples: np.ndarray
    sample_rate: int
    sentences: list[TimedSentence]
    synthesized: int = 0  # sentences that were not in the cache
    source: str | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def check_audio(audio: Any) -> np.ndarray:
    """The synthesizer's output as mono float32; NaN/inf are an engine bug and are refused."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim > 1:
        if sum(d > 1 for d in a.shape) > 1:
            raise BadInput(f"synthesizer returned audio of shape {a.shape}; expected mono")
        a = a.reshape(-1)
    elif a.ndim == 0:
        raise BadInput("synthesizer returned a scalar, not audio")
    if not np.all(np.isfinite(a)):
        raise BadInput("synthesizer returned NaN or infinite samples")
    return a


def sentence_audio(
    sentence: Sentence | tuple[str, str],
    synthesize: Synthesize,
    cache: AudioCache | None,
    voice: VoiceKey | None,
    sample_rate: int = SAMPLE_RATE,
) -> tuple[np.ndarray, bool]:
    """Audio for one sentence from the cache, else synthesized (and cached); ``(audio, synthesized)``."""
    text, lang = (sentence.text, sentence.lang) if isinstance(sentence, Sentence) else sentence
    key = voice.key(text, lang) if cache is not None and voice is not None else None
    if key is not None:
        hit = cache.get_with_rate(key)  # type: ignore[union-attr]
        if hit is not None and hit[1] == sample_rate:
            return hit[0], False
    audio = check_audio(synthesize(text, lang))
    if key is not None:
        cache.put(key, audio, sample_rate)  # type: ignore[union-attr]
    return audio, True


def render_note(
    note: Path | os.PathLike[str] | str,
    synthesize: Synthesize,
    cache: AudioCache | None = None,
    *,
    voice: VoiceKey | None = None,
    rules: ReadingRules | Mapping[str, Any] | None = None,
    sample_rate: int = SAMPLE_RATE,
    cancelled: Callable[[], bool] | None = None,
) -> RenderedNote:
    """Speak a note (a ``Path``; a ``str`` is the note's Markdown text) into one track.

    Sentences are joined with each sentence's ``pause_after`` of silence (longer after headings
    and paragraphs). If the note file disappears while rendering, raises NotFound and returns no
    audio, so nothing stale is served.
    """
    if cache is not None and voice is None:
        raise BadInput(
            "render_note needs voice=VoiceKey(...) when a cache is given (it keys the cache)"
        )
    path = Path(note) if isinstance(note, os.PathLike) else None
    text = read_note(path) if path is not None else note
    if not isinstance(text, str):
        raise BadInput("note must be a path or Markdown text")
    script = build_script(text, rules)
    pieces: list[np.ndarray] = []
    timed: list[TimedSentence] = []
    pos = 0
    synthesized = 0
    for n, s in enumerate(script):
        if cancelled is not None and cancelled():
            raise Cancelled("rendering cancelled")
        audio, fresh = sentence_audio(s, synthesize, cache, voice, sample_rate)
        synthesized += fresh
        if path is not None and not path.exists():
            raise NotFound(f"note was deleted while it was being rendered: {path}")
        t0 = pos / sample_rate
        pieces.append(audio)
        pos += len(audio)
        timed.append(
            TimedSentence(s.index, s.text, s.lang, s.start, s.end, s.heading, t0, pos / sample_rate)
        )
        if n < len(script) - 1:
            gap = round(s.pause_after * sample_rate)
            pieces.append(np.zeros(gap, dtype=np.float32))
            pos += gap
    if path is not None and not path.exists():
        raise NotFound(f"note was deleted while it was being rendered: {path}")
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return RenderedNote(samples, sample_rate, timed, synthesized, str(path) if path else None)


def audio_bytes(samples: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """Encode mono float audio as wav/flac/ogg/mp3 (mp3 only where libsndfile has an MP3 encoder)."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in AUDIO_FORMATS:
        raise BadInput(f"unknown audio format {fmt!r}; choose one of {', '.join(AUDIO_FORMATS)}")
    container, subtype = AUDIO_FORMATS[fmt]
    if container not in sf.available_formats():
        raise MissingDependency(
            f"this libsndfile ({sf.__libsndfile_version__}) cannot write {fmt}; export wav, flac or ogg"
        )
    buf = io.BytesIO()
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if len(clipped) == 0 and fmt in ("ogg", "mp3"):
        clipped = np.zeros(1, dtype=np.float32)  # lossy encoders reject empty streams
    sf.write(buf, clipped, sample_rate, format=container, subtype=subtype)
    return buf.getvalue()


def export_note(
    note_path: Path | os.PathLike[str] | str,
    out_path: Path | os.PathLike[str] | str,
    synthesize: Synthesize,
    cache: AudioCache | None = None,
    fmt: str | None = None,
    *,
    voice: VoiceKey | None = None,
    rules: ReadingRules | Mapping[str, Any] | None = None,
    sample_rate: int = SAMPLE_RATE,
) -> tuple[Path, Path, Path]:
    """Render ``note_path`` to ``out_path`` (format from ``fmt`` or the suffix) plus .json/.vtt timings.

    Returns ``(audio_path, json_path, vtt_path)``. Nothing is written unless the whole note rendered.
    """
    out = Path(out_path)
    fmt = (fmt or out.suffix.lstrip(".") or "wav").lower()
    if fmt not in AUDIO_FORMATS:
        raise BadInput(f"unknown audio format {fmt!r}; choose one of {', '.join(AUDIO_FORMATS)}")
    if not out.suffix:
        out = out.with_suffix("." + fmt)
    if not out.parent.is_dir():
        raise NotFound(f"output folder does not exist: {out.parent}")
    rendered = render_note(
        Path(note_path), synthesize, cache, voice=voice, rules=rules, sample_rate=sample_rate
    )
    data = audio_bytes(rendered.samples, rendered.sample_rate, fmt)
    json_path, vtt_path = out.with_suffix(".json"), out.with_suffix(".vtt")
    if json_path == out or vtt_path == out:
        raise BadInput("the audio file cannot be named .json or .vtt")
    try:
        atomic.write_bytes(out, data)
        write_timings(rendered, json_path, vtt_path)
    except OSError as e:
        raise OwnvoiceError(f"could not write {out}: {e}") from e
    _LOGGER.info(
        "exported %s (%.1f s, %d sentences, %d synthesized)",
        out,
        rendered.duration,
        len(rendered.sentences),
        rendered.synthesized,
    )
    return out, json_path, vtt_path


INTERACTIVE = 0  # a user is waiting (read this note now)
BACKGROUND = 10  # pre-rendering changed notes


@dataclass(frozen=True)
class RenderResult:
    """What one incremental update did: sentences in the note, synthesized, and the text diff."""

    path: str
    sentences: int
    synthesized: int
    added: int  # sentences (text + language) not in the previous version
    removed: int
    complete: bool = True  # False when it yielded to a more urgent request (re-queued)


class NoteRenderer:
    """Keeps each note's last script and pre-renders changes, synthesizing only uncached sentences.

    ``submit(path, priority)`` queues a note; one worker thread takes the most urgent first
    (``INTERACTIVE`` = 0 before ``BACKGROUND`` = 10) and, between sentences of a background
    note, yields to a more urgent one (the rest of the note goes back in the queue). Requests
    served elsewhere (e.g. the bridge speaking a selection) can wrap their work in
    ``with renderer.interactive():`` so background synthesis waits instead of competing for the
    CPU; the hold is a :class:`~ownvoice.yield_gate.YieldGate` (``gate``), which other
    background workers may share. Plug it into :class:`~ownvoice.notes.watch.NoteWatcher` via
    ``on_note_changed`` and ``on_note_deleted``. ``voice`` keys the cache: one ``VoiceKey``, or
    a function of the sentence's language (the default voice is a different voice per language).
    """

    def __init__(
        self,
        synthesize: Synthesize,
        cache: AudioCache,
        voice: VoiceKey | Callable[[str], VoiceKey],
        rules: ReadingRules | Mapping[str, Any] | None = None,
        sample_rate: int = SAMPLE_RATE,
        gate: YieldGate | None = None,
    ) -> None:
        self.synthesize = synthesize
        self.cache = cache
        self.voice = voice
        self.rules = rules
        self.sample_rate = sample_rate
        self.synth_calls = 0
        self.results: list[RenderResult] = []  # most recent last (bounded)
        self._scripts: dict[str, list[Sentence]] = {}
        self._queue: queue.PriorityQueue[tuple[int, int, str]] = queue.PriorityQueue()
        self._pending: dict[str, tuple[int, int]] = {}  # path -> (priority, seq) of its live entry
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self.gate = gate or YieldGate()  # held by interactive work: background synthesis waits
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _key(path: Path | os.PathLike[str] | str) -> str:
        return os.path.abspath(os.fspath(path))

    def voice_for(self, lang: str) -> VoiceKey:
        return self.voice if isinstance(self.voice, VoiceKey) else self.voice(lang)

    # ---- synchronous core -------------------------------------------------------------------
    def update(
        self, path: Path | os.PathLike[str] | str, priority: int = BACKGROUND
    ) -> RenderResult:
        """Re-read one note and synthesize its sentences that are not cached yet."""
        key = self._key(path)
        script = build_script(read_note(key), self.rules)
        with self._lock:
            old = self._scripts.get(key, [])
            self._scripts[key] = script
        before = Counter((s.text, s.lang) for s in old)
        after = Counter((s.text, s.lang) for s in script)
        added, removed = sum((after - before).values()), sum((before - after).values())
        synthesized = 0
        seen: set[tuple[str, str]] = set()
        # The sentences just edited first: they are what the user is looking at (and likely to
        # hear next); sentences that were in the note before only miss the cache after eviction.
        for s in sorted(script, key=lambda s: (s.text, s.lang) in before):
            if (s.text, s.lang) in seen:
                continue
            seen.add((s.text, s.lang))
            voice = self.voice_for(s.lang)
            if voice.key(s.text, s.lang) in self.cache:
                continue
            if priority > INTERACTIVE and not self.gate.wait(self._stop):
                return self._record(
                    RenderResult(key, len(script), synthesized, added, removed, False)
                )
            try:
                _, fresh = sentence_audio(s, self._counted, self.cache, voice, self.sample_rate)
            except Cancelled:  # a request stopped the synthesizer mid-sentence: redo it later
                if priority <= INTERACTIVE:
                    raise
                self.submit(key, priority)
                return self._record(
                    RenderResult(key, len(script), synthesized, added, removed, False)
                )
            synthesized += fresh
            if priority > INTERACTIVE and self._more_urgent_waiting(priority):
                self.submit(key, priority)  # finish later: the cached part will not be redone
                return self._record(
                    RenderResult(key, len(script), synthesized, added, removed, False)
                )
        if not os.path.exists(key):
            raise NotFound(f"note was deleted while it was being rendered: {key}")
        return self._record(RenderResult(key, len(script), synthesized, added, removed))

    def _counted(self, text: str, lang: str) -> np.ndarray:
        with self._lock:
            self.synth_calls += 1
        return self.synthesize(text, lang)

    def _record(self, result: RenderResult) -> RenderResult:
        with self._lock:
            self.results.append(result)
            del self.results[:-100]
        _LOGGER.debug("rendered %s", result)
        return result

    def interactive(self) -> AbstractContextManager[None]:
        """While inside, background rendering pauses before its next sentence."""
        return self.gate.hold()

    def _more_urgent_waiting(self, priority: int) -> bool:
        with self._queue.mutex:
            return bool(self._queue.queue) and self._queue.queue[0][0] < priority

    def script_for(self, path: Path | os.PathLike[str] | str) -> list[Sentence] | None:
        """The last script rendered for ``path`` (None if never rendered or deleted)."""
        with self._lock:
            return self._scripts.get(self._key(path))

    # ---- watcher callbacks and queue --------------------------------------------------------
    def on_note_changed(self, path: Path | os.PathLike[str] | str) -> None:
        self.submit(path, BACKGROUND)

    def on_note_deleted(self, path: Path | os.PathLike[str] | str) -> None:
        key = self._key(path)
        with self._lock:
            self._scripts.pop(key, None)
            self._pending.pop(key, None)  # its queue entry becomes stale and is skipped

    def submit(self, path: Path | os.PathLike[str] | str, priority: int = BACKGROUND) -> None:
        """Queue a note for rendering; a note already queued keeps its most urgent priority."""
        key = self._key(path)
        with self._lock:
            live = self._pending.get(key)
            if live is not None and live[0] <= priority:
                return
            entry = (priority, next(self._seq))
            self._pending[key] = entry
        self._queue.put((entry[0], entry[1], key))

    def start(self) -> NoteRenderer:
        """Start the worker thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="ownvoice-note-renderer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the sentence in progress; queued notes are dropped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued or running (for tests and shutdown); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending and self._active == 0, timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                priority, seq, key = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            with self._lock:
                if self._pending.get(key) != (priority, seq):
                    continue  # superseded by a more urgent entry, or the note was deleted
                del self._pending[key]
                self._active += 1
            try:
                self.update(key, priority)
            except NotFound:
                _LOGGER.info("note gone before it was rendered: %s", key)
                self.on_note_deleted(key)
            except OwnvoiceError as e:
                _LOGGER.warning("could not render %s: %s", key, e)
            except Exception:  # a bad note or an engine error must not kill the worker
                _LOGGER.exception("rendering %s failed", key)
            finally:
                with self._idle:
                    self._active -= 1
                    self._idle.notify_all()
