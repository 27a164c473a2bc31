"""Markdown (or plain text) → the script: ordered sentences with language and source offsets.

``start``/``end`` are code point offsets into the *original* string (line endings included) covering
the source the sentence was read from, so an editor can highlight it. Sentences come in reading
order; their spans ascend, except footnotes, which are read after the note (heading "Footnotes").
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import BadInput, TooLarge
from .markdown import Seg, TooDeep, Unit, markdown_units, plain_units
from .parser import shared_parser
from .rules import ReadingRules, coerce_rules
from .sentences import is_cjk, split_sentences
from .spoken import detect_lang

_LOGGER = logging.getLogger(__name__)

MAX_NOTE_CHARS = 10_000_000  # code points; beyond this a note is refused (TooLarge), not read

_TERMINAL = frozenset(".!?…。！？；;:｡．")
_CLOSERS = "\"'”’)]}»」』）】〕》〉›*_"
_UNSPEAKABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff\ufffd]")
# "word ." → "word."; not before punctuation that starts a token: "and ![[x", "see .env"
_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[.,;:!?。，、；：！？](?![\w\[\(]))")


@dataclass(frozen=True)
class Sentence:
    """One spoken sentence: what is said, in which language, and where it came from."""

    index: int
    text: str
    lang: str
    start: int
    end: int
    heading: str | None = None
    pause_after: float = 0.0  # seconds of silence after it (longer after headings and blocks)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _normalize(source: str) -> tuple[str, list[int]]:
    """CRLF/CR → LF and NUL → U+FFFD (as markdown-it would), remembering removed CRs for offsets."""
    removed: list[int] = []
    if "\r" in source:
        parts = source.split("\r\n")
        pos = 0
        for part in parts[:-1]:
            pos += len(part)
            removed.append(pos)  # normalized offset of the LF that followed a removed CR
            pos += 1
        source = "\n".join(parts).replace("\r", "\n")
    if "\0" in source:
        source = source.replace("\0", "\ufffd")
    return source, removed


def _is_terminated(text: str) -> bool:
    text = text.rstrip().rstrip(_CLOSERS)
    return bool(text) and text[-1] in _TERMINAL


def _clean(text: str) -> str:
    text = _UNSPEAKABLE.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    return _SPACE_BEFORE_PUNCT.sub("", text)


def _unit_sentences(unit: Unit, rules: ReadingRules) -> list[tuple[str, int, int, float]]:
    """Split one unit into (text, start, end, pause) in normalized-source offsets."""
    segs = [s for s in unit.segs if s.text]
    if not segs:
        return []
    spoken = "".join(s.text for s in segs)
    tail = spoken.rstrip()
    if tail and not _is_terminated(tail):
        last = segs[-1]
        segs.append(Seg("。" if is_cjk(tail[-1]) else ".", last.end, last.end, False))
        spoken += segs[-1].text
    offsets: list[int] = []
    pos = 0
    for s in segs:
        offsets.append(pos)
        pos += len(s.text)

    def src_at(k: int, is_end: bool) -> int:
        j = bisect.bisect_right(offsets, k) - 1
        s = segs[j]
        if s.verbatim:
            return s.start + (k - offsets[j]) + (1 if is_end else 0)
        return s.end if is_end else s.start

    out: list[tuple[str, int, int, float]] = []
    spans = split_sentences(spoken, rules.max_sentence_chars)
    for n, (a, b) in enumerate(spans):
        text = _clean(spoken[a:b])
        if not any(c.isalnum() for c in text):
            continue
        start, end = src_at(a, False), src_at(b - 1, True)
        if n == len(spans) - 1:
            pause = rules.heading_pause if unit.kind == "heading" else rules.block_pause
        else:
            pause = rules.sentence_pause
        out.append((text, start, max(start, end), float(pause)))
    return out


def build_script(
    source: str, rules: ReadingRules | Mapping[str, Any] | None = None
) -> list[Sentence]:
    """The sentences to speak for a Markdown note (or plain text), with code point source offsets."""
    if not isinstance(source, str):
        raise BadInput("note text must be a string")
    if len(source) > MAX_NOTE_CHARS:
        raise TooLarge(
            f"note is {len(source):,} characters; the limit is {MAX_NOTE_CHARS:,} (split the note)"
        )
    rules = coerce_rules(rules)
    text, removed = _normalize(source)
    try:
        units = markdown_units(text, rules, shared_parser())
    except (RecursionError, TooDeep) as e:
        _LOGGER.warning("note too deeply nested for Markdown (%s); reading it as plain text", e)
        units = plain_units(text)
    size = len(source)
    sentences: list[Sentence] = []
    for unit in units:
        for said, start, end, pause in _unit_sentences(unit, rules):
            if removed:
                start += bisect.bisect_left(removed, start)
                end += bisect.bisect_left(removed, end)
            start, end = min(start, size), min(end, size)
            sentences.append(
                Sentence(len(sentences), said, detect_lang(said), start, end, unit.heading, pause)
            )
    return sentences


def group_by_heading(script: Iterable[Sentence]) -> list[tuple[str | None, list[Sentence]]]:
    """Consecutive sentences grouped under the heading they belong to (None before the first)."""
    groups: list[tuple[str | None, list[Sentence]]] = []
    for s in script:
        if not groups or groups[-1][0] != s.heading:
            groups.append((s.heading, []))
        groups[-1][1].append(s)
    return groups


def utf16_offsets(text: str, offsets: Iterable[int]) -> list[int]:
    """Code point offsets → UTF-16 code unit offsets (what JavaScript and CodeMirror use)."""
    offsets = list(offsets)
    wanted = sorted(set(offsets))
    result: dict[int, int] = {}
    units = 0
    prev = 0
    for off in wanted:
        off = max(0, min(off, len(text)))
        units += sum(2 if ord(c) > 0xFFFF else 1 for c in text[prev:off])
        prev = off
        result[off] = units
    return [result[max(0, min(o, len(text)))] for o in offsets]
