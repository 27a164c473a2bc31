"""The speech pipeline: text (or Markdown) → sentences → phonemes → audio, cached per sentence.

``Speaker`` is the one object the CLI, the daemon and the bridge share. It owns the engine (loaded
lazily, kept warm), the voice store and the sentence audio cache, and serializes model calls (two
CPU cores gain nothing from two concurrent inferences).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .audio_constants import SAMPLE_RATE
from .config import Config, load_config
from .errors import BadInput

_LOGGER = logging.getLogger(__name__)

SPEED_RANGE = (0.5, 2.0)
SENTENCE_GAP = 0.12  # seconds of silence between sentences
# Latency: an uncached first sentence is said in two parts, its first few words alone first, so
# the first audio is ready after synthesizing about a second of speech instead of the whole
# sentence. Short heads sound clipped, long ones delay the start: 3-6 words, cut at a clause
# mark when one is that close, else before a function word, else after HEAD_WORDS words.
HEAD_WORDS = 4
HEAD_MAX_WORDS = 6
TAIL_MIN_WORDS = 3  # a shorter rest is not worth a second model call
CJK_HEAD_MAX_CHARS = 12  # CJK has no spaces: cut only at a clause mark this close to the start
_CLAUSE_END = tuple(",;:—–、，；：")
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "yet",
        "for",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "onto",
        "as",
        "that",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "while",
        "because",
        "if",
        "than",
        "then",
    ]
)
_WORD_RE = re.compile(r"\S+")
_CJK_CLAUSE_RE = re.compile(r"[、，；：,;:]")


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
    part: int = 0  # 0, or 1 for the rest of a sentence whose first words came alone (same index)
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
        self._init_lock = threading.Lock()
        self.synth_calls = 0  # sentences actually synthesized (cache misses), for tests and stats

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
        with self._init_lock:
            if self._engine is None:
                from .engine import load_engine

                self._engine = load_engine(threads=self.config.torch_threads or None)
            return self._engine

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
        from .notes.cache import cache_key

        return cache_key(text, lang, voice.id, voice.version, self.engine_version, speed)

    def is_cached(self, text: str, lang: str, voice, speed: float = 1.0) -> bool:
        """Whether this sentence's audio is in the cache (no model call needed)."""
        return self._key(text, lang, voice, speed) in self.cache

    def synthesize_sentence(self, text: str, lang: str, voice, speed: float = 1.0) -> np.ndarray:
        """Audio for one sentence, from the cache when the same words were said before."""
        key = self._key(text, lang, voice, speed)
        hit = self.cache.get(key)
        if hit is not None:
            return hit[0] if isinstance(hit, tuple) else hit
        from .engine.g2p import to_phonemes

        phonemes = to_phonemes(text, lang)
        if not phonemes.strip():
            audio = np.zeros(0, dtype=np.float32)
        else:
            with self._model_lock:
                self.synth_calls += 1
                audio = self.engine.speak_phonemes(phonemes, voice, speed)
        self.cache.put(key, audio, SAMPLE_RATE)
        return audio

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
        split_first: bool = False,
    ) -> Iterator[SentenceAudio]:
        """Yield each sentence's audio as soon as it is ready.

        With ``split_first`` (streamed answers), an uncached first sentence comes in two chunks
        with the same ``index``: its first few words (``part`` 0, ``last`` False), then the rest
        (``part`` 1), so audio starts sooner. Buffered answers gain nothing from the cut and
        would only hear the seam, so it is off by default.
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
            parts = [(s.text, s.start, s.end)]
            if split_first and n == 0 and not self.is_cached(s.text, s.lang, v, speed):
                parts = split_head(s, text) or parts
            for p, (piece, start, end) in enumerate(parts):
                if p and cancelled and cancelled():
                    return
                audio = self.synthesize_sentence(piece, s.lang, v, speed)
                yield SentenceAudio(
                    s.index, piece, s.lang, start, end, audio, part=p, last=p == len(parts) - 1
                )

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
    of one sentence, and one timing per sentence (the parts of a split sentence merged)."""

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
                prev.index,
                f"{prev.text} {chunk.text}",
                prev.lang,
                prev.start,
                chunk.end,
                prev.t0,
                self.seconds,
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


def split_head(sentence: ScriptSentence, source: str) -> list[tuple[str, int, int]] | None:
    """The sentence as (head, rest) pieces with source offsets, or None when not worth cutting.

    The head is the first few words, cut at a clause mark, before a function word, or after
    ``HEAD_WORDS`` words; CJK text only at a clause mark near the start.
    """
    text = sentence.text
    cut = _cjk_cut(text) if sentence.lang in ("zh", "ja") else _word_cut(text)
    if cut is None:
        return None
    head, rest = text[:cut].strip(), text[cut:].strip()
    if not head or not rest:
        return None
    # Offsets: map the cut into the source span when the rest is a verbatim slice of it
    # (Markdown may have rewritten the text; then the head keeps the whole span).
    span = source[sentence.start : sentence.end]
    off = span.rfind(rest)
    mid = sentence.start + off if off > 0 else sentence.end
    return [(head, sentence.start, mid), (rest, mid, sentence.end)]


def _word_cut(text: str) -> int | None:
    words = list(_WORD_RE.finditer(text))
    if len(words) < HEAD_WORDS + TAIL_MIN_WORDS:
        return None
    limit = min(HEAD_MAX_WORDS, len(words) - TAIL_MIN_WORDS)
    for i in range(1, limit):  # a clause mark after the 2nd..6th word
        if words[i].group().endswith(_CLAUSE_END):
            return words[i].end()
    for i in range(HEAD_WORDS - 1, limit):  # before a function word: a phrase starts there
        if words[i].group().lower().strip("\"'“‘([") in _FUNCTION_WORDS:
            return words[i - 1].end()
    return words[min(HEAD_WORDS, limit) - 1].end()


def _cjk_cut(text: str) -> int | None:
    m = _CJK_CLAUSE_RE.search(text, 2, CJK_HEAD_MAX_CHARS + 1)
    if m is None or len(text) - m.end() < 4:
        return None
    return m.end()


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
