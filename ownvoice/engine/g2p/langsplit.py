"""Language runs inside one sentence: Latin → en, kana (with its kanji) → ja, Han-only → zh/ja.

Digits, spaces, punctuation and symbols carry no language; they join the run they are glued to,
so "我今天用 Python 写代码" is zh + en + zh and "Python 3个" keeps "3" with the Chinese counter.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass

from ...errors import BadInput, TooLarge
from .normalize_ja import UNITS_JA
from .normalize_zh import UNITS_ZH

_LOGGER = logging.getLogger(__name__)

LANGS = ("en", "zh", "ja")
HINTS = ("auto", *LANGS)
MAX_CHARS = 10_000  # per call: G2P cost is linear, but one sentence this long is a caller bug

_LATIN, _KANA, _HAN, _OTHER = "latin", "kana", "han", "other"
# Shinjitai and kokuji that neither simplified nor traditional Chinese writes: Han-only text using
# them is Japanese ("東京駅" is ja, "东京站" is zh).
_JA_ONLY_KANJI = frozenset(
    "気楽薬駅験図売読続実様円対発広県沢変戦鉄関働込畑峠辻枠匂栃拠険単営帰転覚挙価両悪黒済経総"
    "歳隣従巻桜姫雑乗渋鶏"
)
# Unit abbreviations that, glued to a number inside CJK text, are read in that language ("5kg").
CJK_UNITS = frozenset(UNITS_ZH) | frozenset(UNITS_JA)
_OPENERS = frozenset("([{「『（【《〈“‘\"'«¿¡$€£¥￥#")
_CLOSERS = frozenset(")]}」』）】》〉”’»")
_NUMBERISH = frozenset("0123456789０１２３４５６７８９.,:/%％-+−")
_SPEAKABLE_SYMBOLS = frozenset("$€£¥￥&@#%％+=°")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a known hint, else raise BadInput listing the valid ones."""
    if lang not in HINTS:
        raise BadInput(f"unsupported language {lang!r}; valid: {', '.join(HINTS)}")
    return lang


def check_length(text: str) -> None:
    """Bound the work one call may do."""
    if len(text) > MAX_CHARS:
        raise TooLarge(
            f"text of {len(text)} characters is too long for one G2P call (limit {MAX_CHARS}); "
            "split it into sentences first"
        )


def script_of(ch: str) -> str | None:
    """The script class of one character, or None when it carries no language."""
    o = ord(ch)
    if o < 0x80:
        return _LATIN if ch.isalpha() else None
    if 0x3040 <= o <= 0x30FF and ch not in "・゠":
        return _KANA
    if 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F or 0x1B000 <= o <= 0x1B16F:
        return _KANA
    if (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
        or ch in "々〆〇"
    ):
        return _HAN
    if 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A:
        return _LATIN  # full-width Latin letters
    if ch.isalpha():
        name = unicodedata.name(ch, "")
        return _LATIN if name.startswith("LATIN") else _OTHER
    return None


def _has_speakable(text: str) -> bool:
    return any(ch.isdigit() or ch in _SPEAKABLE_SYMBOLS or script_of(ch) for ch in text)


@dataclass
class _Seg:
    start: int
    end: int
    script: str
    lang: str = ""


def _segments(text: str) -> list[_Seg]:
    """Maximal stretches of letters; kana and Han share one stretch (Japanese mixes them)."""
    segs: list[_Seg] = []
    for i, ch in enumerate(text):
        sc = script_of(ch)
        if sc is None:
            continue
        kind = "cjk" if sc in (_KANA, _HAN) else sc
        if segs and segs[-1].end == i and segs[-1].script.split("+")[0] == kind:
            seg = segs[-1]
            seg.end = i + 1
            if sc == _KANA and "kana" not in seg.script:
                seg.script += "+kana"
            continue
        segs.append(_Seg(i, i + 1, kind + ("+kana" if sc == _KANA else "")))
    return segs


def _after_number(text: str, s: _Seg) -> bool:
    """A unit abbreviation glued to a number: "5kg", "5 GB", "20°C"."""
    word = text[s.start : s.end]
    before = text[max(0, s.start - 3) : s.start]
    if word in ("C", "F"):
        return bool(re.search(r"\d\s?°\s?$", before))
    return word in CJK_UNITS and bool(re.search(r"\d\s?$", before))


def _assign(text: str, segs: list[_Seg], hint: str) -> None:
    sentence_has_kana = any("kana" in s.script for s in segs)
    ja_kanji = any(ch in _JA_ONLY_KANJI for ch in text)
    for s in segs:
        if s.script.startswith("cjk"):
            if "kana" in s.script:
                s.lang = "ja"
            elif hint in ("zh", "ja"):
                s.lang = hint
            else:
                s.lang = "ja" if sentence_has_kana or ja_kanji else "zh"
        elif s.script == _LATIN:
            s.lang = "en"
        else:  # Greek, Cyrillic, Hangul...: no G2P of its own; spoken (or dropped) by a neighbour
            s.lang = ""
    # "5kg" inside CJK text is read in that language, not switched to English.
    for i, s in enumerate(segs):
        if s.lang != "en" or not _after_number(text, s):
            continue
        prev = next((p.lang for p in reversed(segs[:i]) if p.lang in ("zh", "ja")), None)
        if prev is None and not any(p.lang == "en" for p in segs[:i]):
            prev = next((n.lang for n in segs[i + 1 :] if n.lang in ("zh", "ja")), None)
        if prev is not None and (i == 0 or segs[i - 1].lang != "en"):
            s.lang = prev
    # Letters of scripts without a G2P follow their neighbour, defaulting to the hint or English.
    fallback = hint if hint in LANGS else "en"
    for i, s in enumerate(segs):
        if not s.lang:
            near = [p.lang for p in reversed(segs[:i]) if p.lang] + [
                n.lang for n in segs[i + 1 :] if n.lang
            ]
            s.lang = near[0] if near else fallback


def _gap_split(gap: str, right_lang: str) -> int:
    """Index into ``gap`` (neutral text between two runs): before it → left run, after → right."""
    k = len(gap)
    while k > 0 and gap[k - 1] in _OPENERS:
        k -= 1
    if right_lang in ("zh", "ja"):
        j = k
        while j > 0 and gap[j - 1] in _NUMBERISH:
            j -= 1
        while j < k and not gap[j].isdigit():  # a numeral starts with a digit
            j += 1
        k = min(k, j)
    ws = max(gap.rfind(" ", 0, k + 1), gap.rfind("\u3000", 0, k + 1))
    if ws >= 0 and ws + 1 < len(gap):
        tail = gap[ws + 1 :]
        if any(c.isdigit() or c in _OPENERS for c in tail) and not any(c in _CLOSERS for c in tail):
            return min(k, ws + 1)
    return k


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (
        text[start].isspace() or unicodedata.category(text[start]) in ("Cc", "Cf")
    ):
        start += 1
    while end > start and (
        text[end - 1].isspace() or unicodedata.category(text[end - 1]) in ("Cc", "Cf")
    ):
        end -= 1
    return start, end


def split_runs(text: str, lang: str = "auto") -> list[tuple[int, int, str]]:
    """Split one sentence into (start, end, lang) runs; offsets are code points into ``text``."""
    check_lang(lang)
    check_length(text)
    if not text or not _has_speakable(text):
        return []
    segs = _segments(text)
    if not segs:  # digits and symbols only: read them in the hinted language
        start, end = _strip(text, 0, len(text))
        return [(start, end, lang if lang in LANGS else "en")] if end > start else []
    _assign(text, segs, lang)
    merged: list[_Seg] = []
    for s in segs:
        if merged and merged[-1].lang == s.lang:
            merged[-1].end = s.end
        else:
            merged.append(_Seg(s.start, s.end, s.script, s.lang))
    bounds = [0]
    for left, right in itertools.pairwise(merged):
        gap = text[left.end : right.start]
        bounds.append(left.end + _gap_split(gap, right.lang))
    bounds.append(len(text))
    runs: list[tuple[int, int, str]] = []
    for i, seg in enumerate(merged):
        start, end = _strip(text, bounds[i], bounds[i + 1])
        if end > start:
            runs.append((start, end, seg.lang))
    return runs


def detect_lang(text: str) -> str:
    """The dominant language of a text (en, zh or ja); English when it has no letters."""
    latin = kana = han = 0
    ja_kanji = False
    for ch in text[:MAX_CHARS]:
        sc = script_of(ch)
        if sc == _LATIN:
            latin += 1
        elif sc == _KANA:
            kana += 1
        elif sc == _HAN:
            han += 1
            ja_kanji = ja_kanji or ch in _JA_ONLY_KANJI
    cjk = kana + han
    if cjk == 0:
        return "en"
    # One CJK character carries about a syllable, roughly three Latin letters.
    if cjk * 3 < latin:
        return "en"
    return "ja" if kana or ja_kanji else "zh"
