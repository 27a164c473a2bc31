"""How much of a note markdown-it may read: the costliest blocks of a huge note are read plainly.

markdown-it-py is linear, but its cost per character depends on the shape of the text: ~0.2 us
for prose, 15-45 us per line of a list, quote or heading, 6-9 us per emphasis delimiter or table
cell, ~27 us per link or autolink (markdown-it-py 4.3 with our rules and walker, on a 2-core
x86 VM). A megabyte of one bad shape took 5-16 s (tests/hardening/md_timer.py). So before parsing,
a note gets an estimate of that cost from counts made in C (``str.count``, ``findall``). A note
within ``BASE_US + PER_CHAR_US`` per character is read exactly as always: any note under ~0.25 s,
and one of normal density whatever its size (the 1 and 4 MB bench notes are estimated at
0.69 us/char); denser ordinary text up to a size (the median Markdown file on this machine, at
0.8 us/char, up to 2.5 MB; Node.js's changelogs, at 0.96, up to 1 MB). Over it, the note is cut
into chunks at blank lines and the chunks with the highest estimate per character are read
plainly (plain.py) until the rest fits, so only the pathological part of a note loses its
Markdown: a deliberate, degraded reading (its words and offsets stay right; its markup is
silent). Fenced code, math blocks, ``%%`` comment blocks and front matter are never cut or read
plainly: markdown-it reads them cheaply, and plain reading would speak what they hide.

The weights are least-squares fits of measured times (one shape at a time); the estimate only
has to tell normal from pathological and bound the time, so being 30 % off is fine.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

_LOGGER = logging.getLogger(__name__)

BASE_US = 250_000.0  # any note may cost this much, whatever its density
PER_CHAR_US = 0.7  # ... plus this per character (normal notes: 0.2-1.0)
MIN_CHUNK = 4096  # characters: blocks are grouped into chunks at least this long
_MAX_US_PER_CHAR = 30.0  # no text is estimated above this: shorter notes need no estimate
_FIXED_US_PER_LINE = 1.0  # fenced code, math, comments, front matter

# µs per occurrence of a character markdown-it's inline rules start at
_CHAR_US = {
    "|": 9.0,  # table cells
    "*": 6.0,
    "_": 6.0,
    "~": 3.0,
    "=": 2.5,
    "[": 3.0,
    "<": 9.0,
    "&": 7.0,
    "#": 0.3,
    "`": 4.0,
    "$": 4.0,
    "\\": 1.0,
    "%": 1.5,
    "^": 3.5,
}
# µs per match, counted from the line break before (the first line of a chunk is not counted)
_LINE_US = (
    (re.compile(r"\n[ \t]*(?=\n)"), 0.3 - 15.0),  # blank lines: a line costs 15 us, these 0.3
    (re.compile(r"\n[ \t>]*(?:[-+*]|\d{1,9}[.)])(?=[ \t\n])"), 21.0),  # list items
    (re.compile(r"\n[ \t]*>"), 3.0),  # block quote lines
)
_LINE_BASE_US = 15.0
_CHAR_BASE_US = 0.2
# µs per construct markdown-it builds tokens for (on top of its characters)
_CONSTRUCT_US = (
    (re.compile(r"#[\w/-]*[^\W\d_]"), 8.5),  # tags
    (re.compile(r"\]\([^()\n]*\)"), 28.0),  # inline links and images (no "(" inside: linear)
    (re.compile(r"\[\[[^\[\]\n]+\]\]"), 9.0),  # wikilinks and embeds
    (re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\x00-\x20]*>"), 26.0),  # autolinks
)

# Blocks markdown-it reads cheaply and plain reading must not speak, by their opening line: a code
# fence, or "$$" / "%%" not closed on the same line ("$$x$$" and "%%x%%" are inline)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^`\n]*$|^[ \t]*(\$\$|%%)(?![^\n]*?\2)", re.MULTILINE)
_FRONT_MATTER = re.compile(r"---[ \t]*\n(?:.*\n)*?(?:---|\.\.\.)[ \t]*(?:\n|$)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class Chunk(NamedTuple):
    start: int
    end: int
    cost: float  # estimated µs
    fixed: bool  # never read plainly


def estimate(src: str, start: int = 0, end: int | None = None) -> float:
    """Estimated µs markdown-it and the walker spend on ``src[start:end]`` (Markdown text)."""
    end = len(src) if end is None else end
    cost = _CHAR_BASE_US * (end - start) + _LINE_BASE_US * (src.count("\n", start, end) + 1)
    for ch, us in _CHAR_US.items():
        cost += us * src.count(ch, start, end)
    for pattern, us in _LINE_US + _CONSTRUCT_US:
        cost += us * len(pattern.findall(src, start, end))
    return cost


def budget(size: int) -> float:
    """µs of Markdown reading a note of ``size`` characters may cost."""
    return BASE_US + PER_CHAR_US * size


def plain_spans(src: str) -> list[tuple[int, int]]:
    """Spans ``[start, end)`` of whole lines of ``src`` to read plainly, in order ([]: none)."""
    n = len(src)
    allowed = budget(n)
    if n * _MAX_US_PER_CHAR <= allowed:
        return []
    total = estimate(src)
    if total <= allowed:
        return []
    chunks = _chunks(src)
    total = sum(c.cost for c in chunks)
    plain: list[tuple[int, int]] = []
    for c in sorted(
        (c for c in chunks if not c.fixed), key=lambda c: c.cost / (c.end - c.start), reverse=True
    ):
        if total <= allowed:
            break
        total -= c.cost
        plain.append((c.start, c.end))
    plain.sort()
    log = _LOGGER.info if plain else _LOGGER.debug
    log(
        "note of %d characters is estimated at %.1f s of Markdown parsing (budget %.1f s): "
        "reading %d of its %d chunks (%d characters) as plain text",
        n,
        sum(c.cost for c in chunks) / 1e6,
        allowed / 1e6,
        len(plain),
        len(chunks),
        sum(b - a for a, b in plain),
    )
    return plain


def _chunks(src: str) -> list[Chunk]:
    """``src`` cut into chunks of whole lines: fixed blocks, and text cut at blank lines."""
    chunks: list[Chunk] = []
    pos = 0
    if src.startswith("---"):
        m = _FRONT_MATTER.match(src)
        if m:
            pos = m.end()
            chunks.append(Chunk(0, pos, _fixed_cost(src, 0, pos), True))
    while pos < len(src):
        m = _FENCE.search(src, pos)
        start = m.start() if m else len(src)
        _text_chunks(src, pos, start, chunks)
        if not m:
            break
        end = _fixed_end(src, m)
        if end < 0:  # "$$" that never closes, or "$$" / "%%" on the last line: text
            line_end = src.find("\n", m.end())
            end = len(src) if line_end < 0 else line_end + 1
            chunks.append(Chunk(start, end, estimate(src, start, end), False))
        else:
            chunks.append(Chunk(start, end, _fixed_cost(src, start, end), True))
        pos = end
    return _merge_small(chunks)


def _fixed_end(src: str, m: re.Match[str]) -> int:
    """End (after its closing line) of the fixed block opening at ``m``; -1: not one."""
    line_end = src.find("\n", m.end())
    if line_end < 0:
        return len(src) if m.group(1) else -1
    if m.group(1):  # a fence: up to a closing run at least as long, or the end of the note
        closing = re.compile(
            rf"^[ \t]*{re.escape(m.group(1)[0])}{{{len(m.group(1))},}}[ \t]*$", re.MULTILINE
        )
        c = closing.search(src, line_end + 1)
        if c is None:
            return len(src)
        close = c.end()
    else:
        marker = m.group(2)
        close = src.find(marker, line_end + 1)
        if close < 0:
            # Obsidian hides everything after an unclosed "%%" block; "$$" without an end is text
            return len(src) if marker == "%%" else -1
    stop = src.find("\n", close)
    return len(src) if stop < 0 else stop + 1


def _fixed_cost(src: str, start: int, end: int) -> float:
    return _FIXED_US_PER_LINE * (src.count("\n", start, end) + 1)


def _text_chunks(src: str, start: int, end: int, out: list[Chunk]) -> None:
    """Cut ``src[start:end]`` at blank lines into chunks of at least MIN_CHUNK characters."""
    while start < end:
        m = _BLANK_LINE.search(src, min(start + MIN_CHUNK, end), end)
        cut = m.start() + 1 if m else end
        out.append(Chunk(start, cut, estimate(src, start, cut), False))
        start = cut


def _merge_small(chunks: list[Chunk]) -> list[Chunk]:
    """Join neighbouring non-fixed chunks shorter than MIN_CHUNK (text between fences)."""
    out: list[Chunk] = []
    for c in chunks:
        if out and not c.fixed and not out[-1].fixed and c.end - c.start < MIN_CHUNK:
            last = out.pop()
            c = Chunk(last.start, c.end, last.cost + c.cost, False)
        out.append(c)
    return out
