"""Text → Kokoro-82M phonemes for English, Mandarin and Japanese, one language run at a time.

    from ownvoice.engine.g2p import to_phonemes, phonemize
    to_phonemes("我今天用 Python 写代码")   # zh + en + zh, one phoneme string for the model
    phonemize("It costs $42.50.")           # [PhonemeRun(text, lang, phonemes, start, end)]

Each run is normalized (numbers, dates, units...) and converted by its language's backend; the
output only contains symbols of the model's vocab. Weird input (emoji, control characters, only
punctuation) gives no runs rather than an error; only an unknown ``lang`` or an over-long text
raise ``BadInput``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from .langsplit import LANGS, MAX_CHARS, check_lang, detect_lang, split_runs
from .vocab import vocab

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "LANGS",
    "MAX_CHARS",
    "PhonemeRun",
    "detect_lang",
    "phonemize",
    "split_runs",
    "to_phonemes",
    "vocab",
    "warm_up",
]


@dataclass(frozen=True)
class PhonemeRun:
    """One language run of a sentence and its phonemes."""

    text: str
    """Original text of the run."""
    lang: str
    """Language of the run: en, zh or ja."""
    phonemes: str
    """Kokoro-vocab phonemes."""
    start: int
    """Code point offset of the run in the input sentence."""
    end: int


def _backend(lang: str) -> Callable[[str], str]:
    if lang == "en":
        from .en import g2p_en

        return g2p_en
    if lang == "zh":
        from .zh import g2p_zh

        return g2p_zh
    from .ja import g2p_ja

    return g2p_ja


def phonemize(text: str, lang: str = "auto") -> list[PhonemeRun]:
    """Split ``text`` into language runs, normalize each and convert it to phonemes."""
    check_lang(lang)
    runs: list[PhonemeRun] = []
    for start, end, run_lang in split_runs(text, lang):
        piece = text[start:end]
        phonemes = _backend(run_lang)(piece)
        if not phonemes.strip(' ;:,.!?—…"()“”'):
            _LOGGER.debug("no phonemes for %s run %r", run_lang, piece[:80])
            continue
        runs.append(PhonemeRun(piece, run_lang, phonemes, start, end))
    return runs


def to_phonemes(text: str, lang: str = "auto") -> str:
    """The phoneme string the model reads: all runs joined with a space ("" for nothing to say)."""
    return " ".join(run.phonemes for run in phonemize(text, lang))


def warm_up(langs: tuple[str, ...] = LANGS) -> None:
    """Load the G2P backends now (several seconds) instead of on the first sentence."""
    for lang in langs:
        check_lang(lang)
        if lang == "en":
            from .en import load
        elif lang == "zh":
            from .zh import load
        else:
            from .ja import load
        load()
