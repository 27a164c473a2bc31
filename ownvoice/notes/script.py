"""Markdown (or plain text) → the script: ordered sentences with language and source offsets.

``start``/``end`` are code point offsets into the *original* string (line endings included) covering
the source the sentence was read from, so an editor can highlight it. Sentences come in reading
order; their spans ascend, except footnotes, which are read after the note (heading "Footnotes").
"""

from __future__ import annotations

import bisect
import gc
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import BadInput, TooLarge
from .budget import plain_spans
from .markdown import TooDeep, markdown_units
from .parser import shared_parser
from .plain import line_units
from .rules import ReadingRules, coerce_rules
from .sentences import is_cjk, split_sentences
from .spoken import detect_lang
from .units import Seg, Unit

_LOGGER = logging.getLogger(__name__)

MAX_NOTE_CHARS = 10_000_000  # code points; beyond this a note is refused (TooLarge), not read

_TERMINAL = frozenset(".!?…。！？；;:｡．")
_CLOSERS = "\"'”’)]}»」』）】〕》〉›*_"
_UNSPEAKABLE_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff\ufffd"
_UNSPEAKABLE = re.compile(f"[{_UNSPEAKABLE_CHARS}]")
# Every whitespace character but the space (str.isspace(); tests/notes/test_script.py checks it)
OTHER_SPACES = "\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
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


# What _clean would change, but a leading space: most sentences have none and are said as they
# are (one character class first, so the regex engine skips ahead to those characters).
_DIRTY = re.compile(f"[{_UNSPEAKABLE_CHARS}{OTHER_SPACES}]| [\\s.,;:!?。，、；：！？]| \\Z")


def _clean(text: str) -> str:
    if not _DIRTY.search(text) and text[:1] != " ":
        return text
    text = _UNSPEAKABLE.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    return _SPACE_BEFORE_PUNCT.sub("", text)


def _read_unit(
    unit: Unit, rules: ReadingRules, removed: list[int], size: int, out: list[Sentence]
) -> None:
    """Append the sentences of one unit to ``out``, with offsets into the original source.

    ``removed``: normalized offsets of the line feeds whose CR was dropped (see _normalize);
    ``size``: the length of the original source.
    """
    segs = [s for s in unit.segs if s.text]
    if not segs:
        return
    # One verbatim piece (a plainly read chunk, most paragraphs): offsets map one to one (the
    # period added below maps to its end, as src_at would map it).
    whole = segs[0] if len(segs) == 1 and segs[0].verbatim else None
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
    bisect_right = bisect.bisect_right

    def src_at(k: int, is_end: bool) -> int:
        j = bisect_right(offsets, k) - 1
        s = segs[j]
        if s.verbatim:
            return s.start + (k - offsets[j]) + (1 if is_end else 0)
        return s.end if is_end else s.start

    spans = split_sentences(spoken, rules.max_sentence_chars)
    pause = float(rules.sentence_pause)
    last = len(spans) - 1
    heading = unit.heading
    whole_start, whole_end = (whole.start, whole.end) if whole is not None else (0, 0)
    for n, (a, b) in enumerate(spans):
        text = _clean(spoken[a:b])
        if not text or not (text[0].isalnum() or any(c.isalnum() for c in text)):
            continue
        if whole is not None:
            start, end = whole_start + a, min(whole_start + b, whole_end)
        else:
            start, end = src_at(a, False), src_at(b - 1, True)
            end = max(end, start)
        if removed:
            start += bisect.bisect_left(removed, start)
            end += bisect.bisect_left(removed, end)
        if end > size:
            start, end = min(start, size), size
        if n == last:
            pause = float(rules.heading_pause if unit.kind == "heading" else rules.block_pause)
        out.append(_sentence(len(out), text, detect_lang(text), start, end, heading, pause))


_new = object.__new__


def _sentence(
    index: int, text: str, lang: str, start: int, end: int, heading: str | None, pause: float
) -> Sentence:
    """``Sentence(...)`` without the frozen dataclass ``__init__``.

    That ``__init__`` sets each field through ``object.__setattr__`` (1.2 us a sentence; 0.3 us
    here), and a megabyte of short sentences makes 260 000 of them. The result is the same object:
    the fields live in its ``__dict__`` either way (tests/notes/test_script.py compares the two).
    """
    sentence = _new(Sentence)
    d = sentence.__dict__
    d["index"], d["text"], d["lang"], d["start"], d["end"] = index, text, lang, start, end
    d["heading"], d["pause_after"] = heading, pause
    return sentence


_GC_LOCK = threading.Lock()
_GC_PAUSES = 0
_GC_WAS_ENABLED = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a script is built.

    Parsing allocates a Token, a Seg and a Sentence per few characters and frees them by reference
    counting (next to none form cycles), yet every 700 allocations wake the collector, which then walks
    the ever larger young heap: a third of the time on a 1 MB note. Nested and concurrent builds
    share one pause; the collector's previous state comes back when the last one ends.
    """
    global _GC_PAUSES, _GC_WAS_ENABLED
    with _GC_LOCK:
        if _GC_PAUSES == 0:
            _GC_WAS_ENABLED = gc.isenabled()
            gc.disable()
        _GC_PAUSES += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES -= 1
            if _GC_PAUSES == 0 and _GC_WAS_ENABLED:
                gc.enable()


def build_script(
    source: str, rules: ReadingRules | Mapping[str, Any] | None = None
) -> list[Sentence]:
    """The sentences to speak for a Markdown note (or plain text), with code point source offsets.

    Two readings are deliberately degraded, to stay fast and never fail: a huge note whose Markdown
    would cost too much (budget.py) has its costliest chunks read plainly (plain.py), and a note
    nested too deeply for markdown-it is read line by line. Their words and offsets stay right.
    """
    if not isinstance(source, str):
        raise BadInput("note text must be a string")
    if len(source) > MAX_NOTE_CHARS:
        raise TooLarge(
            f"note is {len(source):,} characters; the limit is {MAX_NOTE_CHARS:,} (split the note)"
        )
    rules = coerce_rules(rules)
    with _gc_paused():
        return _build(source, rules)


def _build(source: str, rules: ReadingRules) -> list[Sentence]:
    text, removed = _normalize(source)
    try:
        units = markdown_units(text, rules, shared_parser(), plain_spans(text))
    except (RecursionError, TooDeep) as e:
        _LOGGER.warning("note too deeply nested for Markdown (%s); reading it as plain text", e)
        units = line_units(text)
    sentences: list[Sentence] = []
    for unit in units:
        _read_unit(unit, rules, removed, len(source), sentences)
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
