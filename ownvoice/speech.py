"""The speech pipeline: text (or Markdown) → sentences → phonemes → audio, cached per sentence.

``Speaker`` is the one object the CLI, the daemon and the bridge share. It owns the engine (loaded
lazily, kept warm), the voice store and the sentence audio cache, and serializes model calls (two
CPU cores gain nothing from two concurrent inferences).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .audio_constants import SAMPLE_RATE
from .config import Config, load_config
from .errors import BadInput

_LOGGER = logging.getLogger(__name__)

SPEED_RANGE = (0.5, 2.0)
SENTENCE_GAP = 0.12  # seconds of silence between sentences
# Latency: an uncached first sentence of a streamed answer comes in the chunks the engine decodes
# it in (``Engine.stream_phonemes``): the whole sentence's prosody, its first ~0.4 s of audio
# after ~0.3 s of work, then chunks that stay ahead of playback.


@dataclass(frozen=True)
class SentenceAudio:
    """One synthesized sentence: its audio and where it came from in the source text."""

    index: int
    text: str
    lang: str
    start: int  # code point offsets into the source text
    end: int
    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE
    part: int = 0  # 0, 1, 2...: the chunks of one streamed sentence (same index, text and span)
    last: bool = True  # False when more audio of the same sentence follows


@dataclass(frozen=True)
class SentenceTiming:
    index: int
    text: str
    lang: str
    start: int
    end: int
    t0: float  # seconds into the audio
    t1: float


@dataclass
class Speech:
    """The result of ``speak``: mono float32 samples and per-sentence timings."""

    samples: np.ndarray
    sample_rate: int
    sentences: list[SentenceTiming] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class ModelState:
    """Where loading the model stands, readable from any thread while it loads."""

    def __init__(self, state: str = "idle") -> None:
        self.state = state
        self._since = time.monotonic()
        self._took: float | None = None
        self._error: str | None = None

    def loading(self) -> None:
        if self.state != "loading":
            self.state, self._since, self._error = "loading", time.monotonic(), None

    def ready(self) -> None:
        self._took = time.monotonic() - self._since if self.state == "loading" else None
        self.state = "ready"

    def failed(self, e: Exception) -> None:
        self.state, self._error = "failed", f"{type(e).__name__}: {e}"

    def snapshot(self) -> dict:
        out: dict = {"state": self.state}
        if self.state == "loading":
            out["seconds"] = round(time.monotonic() - self._since, 1)
        elif self.state == "ready" and self._took is not None:
            out["seconds"] = round(self._took, 1)
        if self._error:
            out["error"] = self._error
        return out


@dataclass(frozen=True)
class ScriptSentence:
    index: int
    text: str
    lang: str
    start: int
    end: int
    pause_after: float = 0.0
    heading: str | None = None  # the Markdown heading the sentence is under (None for plain text)


def check_speed(speed: float) -> float:
    try:
        speed = float(speed)
    except (TypeError, ValueError):
        raise BadInput("speed must be a number") from None
    if not (SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]):
        raise BadInput(f"speed must be between {SPEED_RANGE[0]} and {SPEED_RANGE[1]}, got {speed}")
    return speed


def check_lang(lang: str) -> str:
    if lang not in ("auto", "en", "zh", "ja"):
        raise BadInput(f"unsupported language {lang!r}; choose auto, en, zh or ja")
    return lang


class Speaker:
    """Speaks text in a voice; thread-safe; shared by CLI, daemon and bridge."""

    def __init__(self, config: Config | None = None, store=None, engine=None, cache=None) -> None:
        self.config = config or load_config()
        self._store = store
        self._engine = engine
        self._cache = cache
        self._model_lock = threading.Lock()
        self._init_lock = threading.Lock()  # store and cache: quick to build
        # the engine has its own: its first load may convert the model for a minute, and status,
        # voices and cached audio must not wait for that
        self._engine_lock = threading.Lock()
        self._model = ModelState("ready" if engine is not None else "idle")
        self.synth_calls = 0  # sentences actually synthesized (cache misses), for tests and stats
        # called with (text, lang, voice, speed) when a sentence decoded in chunks was cached: the
        # daemon re-renders it whole when idle (``daemon.refine``)
        self.on_chunked_cached: Callable[[str, str, object, float], None] | None = None

    # ---- lazily built parts ------------------------------------------------------------------
    @property
    def store(self):
        with self._init_lock:
            if self._store is None:
                from .voice_store import BuiltinVoices, VoiceStore

                self._store = VoiceStore(self.config.paths.voices, BuiltinVoices())
            return self._store

    @property
    def engine(self):
        with self._engine_lock:
            if self._engine is None:
                from .engine import load_engine

                self._model.loading()
                try:
                    self._engine = load_engine(threads=self.config.torch_threads or None)
                except Exception as e:
                    self._model.failed(e)
                    raise
                self._model.ready()
            return self._engine

    def model_coming(self) -> None:
        """Say ``loading`` from now on: a warm-up thread is about to load the model."""
        if self._engine is None and self._model.state == "idle":
            self._model.loading()

    def model_status(self) -> dict:
        """``{state: idle|loading|ready|failed, seconds, error}`` without waiting for the model.

        ``loading`` lasts ~1 s on a warm machine; the first start after an install or an
        upgrade converts the model for this machine first (about a minute on 2 cores).
        """
        return self._model.snapshot()

    @property
    def cache(self):
        with self._init_lock:
            if self._cache is None:
                from .notes.cache import AudioCache

                self._cache = AudioCache(
                    self.config.paths.audio_cache, int(self.config.cache_max_mb) << 20
                )
            return self._cache

    # ---- text → script -----------------------------------------------------------------------
    def script(
        self, text: str, markdown: bool = False, rules=None, lang: str = "auto"
    ) -> list[ScriptSentence]:
        """Split text (or Markdown) into speakable sentences with source offsets."""
        if not isinstance(text, str):
            raise BadInput("text must be a string")
        limit = int(self.config.max_text_chars)
        if len(text) > limit:
            from .errors import TooLarge

            raise TooLarge(
                f"text is {len(text)} characters; the limit is {limit} (setting max_text_chars)"
            )
        check_lang(lang)
        if markdown:
            from .notes import build_script

            out = []
            for s in build_script(text, rules):
                if s.text.strip():
                    out.append(
                        ScriptSentence(
                            len(out),
                            s.text,
                            lang if lang != "auto" else s.lang,
                            s.start,
                            s.end,
                            float(getattr(s, "pause_after", 0.0) or 0.0),
                            getattr(s, "heading", None),
                        )
                    )
            return out
        from .engine.g2p import detect_lang
        from .notes import split_sentences

        out = []
        for start, end in split_sentences(text):
            piece = text[start:end].strip()
            if not piece:
                continue
            sl = lang if lang != "auto" else detect_lang(piece)
            out.append(ScriptSentence(len(out), piece, sl, start, end))
        return out

    # ---- synthesis ---------------------------------------------------------------------------
    def resolve_voice(self, voice: str, lang: str = "en"):
        from .voice_store import DEFAULT_ID

        name = voice or self.config.default_voice
        if name == DEFAULT_ID and self.config.default_voice != DEFAULT_ID:
            name = self.config.default_voice
        if name == DEFAULT_ID:
            return self.store.builtins.default_for(lang if lang in ("en", "zh", "ja") else "en")
        return self.store.find(name)

    def _key(self, text: str, lang: str, voice, speed: float) -> str:
        return self.voice_key(voice, speed).key(text, lang)

    def is_cached(self, text: str, lang: str, voice, speed: float = 1.0) -> bool:
        """Whether this sentence's audio is in the cache (no model call needed)."""
        return self._key(text, lang, voice, speed) in self.cache

    def synthesize_sentence(self, text: str, lang: str, voice, speed: float = 1.0) -> np.ndarray:
        """Audio for one sentence, from the cache when the same words were said before."""
        key = self._key(text, lang, voice, speed)
        hit = self.cache.get(key)
        if hit is not None:
            return hit[0] if isinstance(hit, tuple) else hit
        audio = self.synthesize_uncached(text, lang, voice, speed)
        self.cache.put(key, audio, SAMPLE_RATE)
        return audio

    def synthesize_uncached(self, text: str, lang: str, voice, speed: float = 1.0,
                            interrupt=None) -> np.ndarray:
        """One sentence from the model, neither looked up nor stored in the cache (a caller that
        keeps its own books, e.g. the note pre-renderer, stores it under ``voice_key``).
        ``interrupt`` (``engine.interrupt.Interrupt``) lets a more urgent request stop it."""
        from .engine.g2p import to_phonemes

        phonemes = to_phonemes(text, lang)
        if not phonemes.strip():
            return np.zeros(0, dtype=np.float32)
        kwargs = {} if interrupt is None else {"interrupt": interrupt}
        with self._model_lock:
            if interrupt is not None:
                interrupt.check()  # stopped while it waited for the model
            self.synth_calls += 1
            return self.engine.speak_phonemes(phonemes, voice, speed, **kwargs)

    def voice_key(self, voice, speed: float = 1.0):
        """What keys this voice's sentences in the cache, as ``notes.render.VoiceKey``."""
        from .notes.render import VoiceKey

        return VoiceKey(voice.id, voice.version, self.engine_version, speed)

    @property
    def engine_version(self) -> str:
        from .engine import ENGINE_VERSION

        return ENGINE_VERSION

    def stream(
        self,
        text: str,
        voice: str = "default",
        lang: str = "auto",
        speed: float = 1.0,
        markdown: bool = False,
        rules=None,
        cancelled: Callable[[], bool] | None = None,
        chunk_first: bool = False,
    ) -> Iterator[SentenceAudio]:
        """Yield each sentence's audio as soon as it is ready.

        With ``chunk_first`` (streamed answers), an uncached first sentence comes in chunks with
        the same ``index``, text and span (``part`` 0, 1, ..., ``last`` only on the final one),
        so audio starts sooner. Buffered answers gain nothing from chunks (and the sentence is
        decoded whole, a hair better), so it is off by default.
        """
        speed = check_speed(speed)
        sentences = self.script(text, markdown=markdown, rules=rules, lang=lang)
        voices: dict[str, object] = {}
        for n, s in enumerate(sentences):
            if cancelled and cancelled():
                return
            v = voices.get(s.lang)
            if v is None:
                v = voices[s.lang] = self.resolve_voice(voice, s.lang)
            if chunk_first and n == 0 and not self.is_cached(s.text, s.lang, v, speed):
                yield from self._stream_sentence(s, v, speed, cancelled)
                continue
            audio = self.synthesize_sentence(s.text, s.lang, v, speed)
            yield SentenceAudio(s.index, s.text, s.lang, s.start, s.end, audio)

    def _stream_sentence(self, s: ScriptSentence, voice, speed: float,
                         cancelled: Callable[[], bool] | None) -> Iterator[SentenceAudio]:
        """One uncached sentence in the engine's chunks, cached (joined) once all of it is made."""
        from .engine.g2p import to_phonemes

        phonemes = to_phonemes(s.text, s.lang)
        stream = getattr(self.engine, "stream_phonemes", None)
        if stream is None or not phonemes.strip():
            audio = self.synthesize_sentence(s.text, s.lang, voice, speed)
            yield SentenceAudio(s.index, s.text, s.lang, s.start, s.end, audio)
            return
        chunks = stream(phonemes, voice, speed)
        made: list[np.ndarray] = []
        with self._model_lock:
            self.synth_calls += 1
        try:
            last = False
            while not last:
                if made and cancelled and cancelled():
                    return  # nothing cached: the sentence is not whole
                with self._model_lock:  # held per chunk: other requests may run between chunks
                    audio, last = next(chunks)
                made.append(audio)
                if last:  # cached before the final chunk goes out: a client may stop reading then
                    self.cache.put(self._key(s.text, s.lang, voice, speed), np.concatenate(made), SAMPLE_RATE)
                    if len(made) > 1 and self.on_chunked_cached is not None:
                        self.on_chunked_cached(s.text, s.lang, voice, speed)
                yield SentenceAudio(s.index, s.text, s.lang, s.start, s.end, audio,
                                    part=len(made) - 1, last=last)
        finally:
            chunks.close()

    def speak(
        self,
        text: str,
        voice: str = "default",
        lang: str = "auto",
        speed: float = 1.0,
        markdown: bool = False,
        rules=None,
    ) -> Speech:
        """Synthesize all of ``text``; returns samples plus per-sentence timings."""
        builder = SpeechBuilder()
        for chunk in self.stream(text, voice, lang, speed, markdown, rules):
            builder.add(chunk)
        return builder.build()


class SpeechBuilder:
    """Joins streamed chunks into one ``Speech``: a gap between sentences, none between the parts
    of one sentence, and one timing per sentence (the parts of a streamed sentence merged)."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.timings: list[SentenceTiming] = []
        self.samples = 0
        self.spoken = 0  # samples of speech, gaps excluded
        self._gap = np.zeros(int(SENTENCE_GAP * SAMPLE_RATE), dtype=np.float32)

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    def add(self, chunk: SentenceAudio) -> None:
        audio = np.asarray(chunk.samples, dtype=np.float32)
        self.spoken += len(audio)
        if chunk.part and self.timings and self.timings[-1].index == chunk.index:
            prev = self.timings[-1]
            self.parts.append(audio)
            self.samples += len(audio)
            self.timings[-1] = SentenceTiming(
                prev.index, prev.text, prev.lang, prev.start, prev.end, prev.t0, self.seconds
            )
            return
        if self.parts:
            self.parts.append(self._gap)
            self.samples += len(self._gap)
        t0 = self.seconds
        self.parts.append(audio)
        self.samples += len(audio)
        self.timings.append(
            SentenceTiming(
                chunk.index, chunk.text, chunk.lang, chunk.start, chunk.end, t0, self.seconds
            )
        )

    def build(self) -> Speech:
        if not self.timings or not self.spoken:  # e.g. only punctuation or emoji: no phonemes
            raise BadInput("nothing to say: the text has no speakable words")
        samples = np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)
        return Speech(samples.astype(np.float32, copy=False), SAMPLE_RATE, self.timings)


_DEFAULT: Speaker | None = None
_DEFAULT_LOCK = threading.Lock()


def default_speaker() -> Speaker:
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Speaker()
        return _DEFAULT


def speak(text: str, voice: str = "default", lang: str = "auto", speed: float = 1.0) -> Speech:
    """Speak ``text`` with the default ``Speaker`` (the public one-call API)."""
    return default_speaker().speak(text, voice=voice, lang=lang, speed=speed)


def stream(
    text: str, voice: str = "default", lang: str = "auto", speed: float = 1.0
) -> Iterator[SentenceAudio]:
    """Yield sentence audio as each is ready, with the default ``Speaker``."""
    return default_speaker().stream(text, voice=voice, lang=lang, speed=speed)
