"""Sentence splitting on plain text (English, Chinese, Japanese), returning code point spans.

Used on the spoken text built from Markdown and directly by the speech pipeline on plain text.
Rules: ``. ! ? …`` end a sentence before whitespace (or before CJK text), CJK ``。！？；`` end one
wherever they are, a blank line always ends one. A period does not end a sentence after a known
abbreviation (``Dr.``, ``e.g.``, ``vs.``…), after a single capital initial (``J. R. R. Tolkien``), or
when the next word starts in lower case (``etc. and``, ``... then``); decimals (``3.14``) never
split because no space follows the point. Sentences longer than ``max_chars`` are cut at the last
comma/semicolon/colon (else the last space, else hard) so the TTS never gets more than it can say
at once.
"""

from __future__ import annotations

import logging
import re

_LOGGER = logging.getLogger(__name__)

MAX_SENTENCE_CHARS = 300  # code points; Kokoro's 510-phoneme context holds ~300 English characters

# Terminal runs with the closing quotes/brackets after them (group 1: the run): ASCII/ellipsis
# ones need a following space (or CJK); CJK ones always end. Or a blank line (no group).
_CLOSERS = "\"'”’)]}»」』）】〕》〉›"
_CANDIDATE = re.compile(r"([.!?…。！？；｡．]+)[" + re.escape(_CLOSERS) + r"]*|\n[ \t\r\f\v]*\n")
_CJK_TERMINALS = frozenset("。！？；｡．")
_OPENERS = "\"'“‘([{«「『（【〔《〈‹*_"
_OPENER_SET = frozenset(_OPENERS)
_SOFT_BREAKS = frozenset(",;:，、；：—–")
_SPACES = re.compile(r"\s*").match

# Abbreviations after which a period never ends a sentence, whatever follows (lower case, no dot).
_NEVER_END = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "mx",
        "dr",
        "prof",
        "sr",
        "st",
        "mt",
        "vs",
        "v",
        "e.g",
        "i.e",
        "cf",
        "viz",
        "fig",
        "figs",
        "approx",
        "ca",
        "vol",
        "vols",
        "no",
        "nos",
        "pp",
        "p",
        "ch",
        "sec",
        "eq",
        "eqs",
        "ref",
        "refs",
        "dept",
        "gen",
        "gov",
        "lt",
        "col",
        "capt",
        "sgt",
        "rev",
        "hon",
        "fr",
        "br",
        "ave",
        "blvd",
        "rd",
        "ft",
        "al",
    ]
)


def is_cjk(ch: str) -> bool:
    """True for Han ideographs, kana, Hangul and CJK/full-width punctuation."""
    o = ord(ch)
    return (
        0x3000 <= o <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x3FFFF
    )


def _next_visible(text: str, j: int) -> str:
    """The first non-space character at or after ``j`` ('' at the end)."""
    n = len(text)
    while j < n and text[j].isspace():
        j += 1
    while j < n and text[j] in _OPENERS:
        j += 1
    return text[j] if j < n else ""


def _word_before(text: str, i: int) -> str:
    """The last run of up to 24 non-space characters before ``i`` ('' after a space).

    A period right after a line break counts the word before the break ("Dr\n." keeps "Dr"),
    as the regex ``(\\S{1,24})$`` this replaced did (``$`` also matches before a final newline).
    """
    window = text[max(0, i - 24) : i]
    window = window.removesuffix("\n")
    if not window or window[-1].isspace():
        return ""
    return window.rsplit(None, 1)[-1]


def _ends_here(text: str, i: int, run: str, j: int) -> bool:
    """Whether the terminal ``run`` at ``text[i:]`` (closers end at ``j``) ends a sentence."""
    if not _CJK_TERMINALS.isdisjoint(run):
        return True
    n = len(text)
    if j >= n:
        return True
    c = text[j]
    if not c.isspace():
        # "3.14", "example.com", "Hello.World" go on; "好!我" (CJK right after) ends.
        return is_cjk(c)
    # The usual case, one space then a word, without the general scan.
    nxt = text[j + 1] if j + 1 < n else ""
    if not nxt or nxt.isspace() or nxt in _OPENER_SET:
        nxt = _next_visible(text, j)
        if not nxt:
            return True
    if nxt.islower():
        # "etc. and", "e.g. apples", "... then", 'said "why?" and' read on.
        return False
    if run == ".":
        word = _word_before(text, i).lstrip(_OPENERS)
        if word.lower() in _NEVER_END:
            return False
        if len(word) == 1 and word.isalpha() and word.isupper() and word != "I":
            return False  # an initial: "J. R. R. Tolkien"
    return True


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into pieces of at most ``max_chars`` at soft breaks or spaces."""
    out: list[tuple[int, int]] = []
    s = start
    floor = max(1, max_chars // 3)  # don't leave tiny pieces: look only in the last 2/3 of a window
    while end - s > max_chars:
        window_end = s + max_chars
        cut = -1
        for k in range(window_end - 1, s + floor - 1, -1):
            c = text[k]
            if c in _SOFT_BREAKS and (k + 1 >= end or text[k + 1].isspace() or is_cjk(c)):
                cut = k + 1
                break
        if cut < 0:
            for k in range(window_end, s + floor - 1, -1):
                if text[k].isspace():
                    cut = k
                    break
        if cut < 0:
            cut = window_end  # one huge "word" (URL, CJK run without punctuation): hard cut
        out.extend(_trim(text, s, cut))
        s = cut
    out.extend(_trim(text, s, end))
    return out


def _trim(text: str, start: int, end: int) -> list[tuple[int, int]]:
    start = _SPACES(text, start, end).end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Code point spans ``(start, end)`` of the sentences of ``text``, whitespace trimmed, in order."""
    if not isinstance(text, str):
        raise TypeError("split_sentences needs a str")
    if max_chars < 8:
        raise ValueError("max_chars must be at least 8")
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _CANDIDATE.finditer(text):
        run = m.group(1)
        if run is None:  # a blank line: the next sentence starts after it
            end, after = m.start(), m.end()
        else:
            end = after = m.end()
            if not _ends_here(text, m.start(), run, end):
                continue
        if end <= start:
            continue
        first = start + 1 if text[start] == " " else start  # the space after the last one
        if first < end and text[first].isspace():  # more: after a blank line, a line break
            first = _SPACES(text, first, end).end()
        if first < end and end - first <= max_chars and not text[end - 1].isspace():
            spans.append((first, end))  # trimmed and short enough: the usual case
        else:
            for s, e in _trim(text, start, end):
                spans.extend(_cut_long(text, s, e, max_chars) if e - s > max_chars else [(s, e)])
        start = after
    for s, e in _trim(text, start, n):
        spans.extend(_cut_long(text, s, e, max_chars) if e - s > max_chars else [(s, e)])
    return spans
