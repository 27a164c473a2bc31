"""Mandarin G2P: jieba words → pypinyin → misaki's pinyin-to-IPA with tone arrows (Kokoro v1.0).

Kokoro-82M v1.0 was trained on misaki's *legacy* Chinese output (IPA + ↓→↗↘ tones); the newer
bopomofo frontend targets v1.1 and its symbols are not in this model's vocab. misaki's own
legacy call raises on characters pypinyin cannot read, so the loop is redone here per syllable.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from typing import Any

from ...config import get_paths
from .normalize_zh import normalize_zh
from .vocab import to_vocab

_LOGGER = logging.getLogger(__name__)

_HAN_CHARS = "\u4e00-\u9fff\u3400-\u4dbf\u3007"
_SEGMENTS = re.compile(f"[{_HAN_CHARS}]+|[^{_HAN_CHARS}]+")
_IS_HAN = re.compile(f"[{_HAN_CHARS}]")
_SPACE_AFTER_PUNCT = re.compile(r"([,.!?;:])(?=[^\s,.!?;:”)])")
_STATE: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()
_CALL_LOCK = threading.Lock()  # jieba's tokenizer caches are shared module state


def _jieba() -> Any:
    """jieba with its prefix-dict cache under ownvoice's cache folder and its chatter silenced."""
    with _LOAD_LOCK:
        if "jieba" not in _STATE:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            cache = get_paths().cache / "jieba"
            try:
                cache.mkdir(parents=True, exist_ok=True)
                jieba.dt.tmp_dir = str(cache)
            except OSError as e:  # read-only home: jieba then just rebuilds in memory
                _LOGGER.debug("jieba cache dir %s unusable: %s", cache, e)
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                jieba.initialize()
            _STATE["jieba"] = jieba
        return _STATE["jieba"]


def load() -> None:
    """Warm up jieba and pypinyin (about 2 s the first time in a process)."""
    _jieba()
    from misaki.zh import ZHG2P  # noqa: F401  (imports pypinyin, cn2an)


def _word_ipa(word: str) -> str:
    from misaki.zh import ZHG2P
    from pypinyin import Style, lazy_pinyin

    out = []
    for py in lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True):
        try:
            out.append(ZHG2P.py2ipa(py))
        except (
            ValueError,
            KeyError,
            IndexError,
        ) as e:  # pypinyin had no reading: got the char back
            _LOGGER.debug("no pinyin reading for %r in %r (%s)", py, word, e)
    return "".join(out)


def g2p_zh(text: str) -> str:
    """Normalize Mandarin text and return Kokoro-vocab phonemes."""
    from misaki.zh import ZHG2P

    norm = normalize_zh(text)
    if not norm:
        return ""
    jieba = _jieba()
    norm = ZHG2P.map_punctuation(norm)
    parts: list[str] = []
    with _CALL_LOCK:
        for seg in _SEGMENTS.findall(norm):
            if _IS_HAN.match(seg):
                words = jieba.lcut(seg, cut_all=False, HMM=True)
                parts.append(" ".join(w for w in (_word_ipa(w) for w in words) if w))
            else:
                parts.append(seg)
    ps = "".join(parts).replace(chr(815), "")  # misaki drops the non-syllabic mark too
    ps = _SPACE_AFTER_PUNCT.sub(r"\1 ", ps)  # NFKC turned "，" into a bare ","
    return to_vocab(ps, norm)
