"""Plain readings, for text markdown-it should not or cannot read.

``plain_chunk``: a part of a huge note that would cost too much as Markdown (budget.py). It is read
as written with its markup blanked out: every character keeps its offset (markup becomes spaces,
a block marker at a line start becomes a line break, so list items, headings and table rows end a
sentence), so the words of each sentence still come from its span. All of it is done by
``str.translate`` and regular expressions, which run in C: the point is to read a megabyte of list
items, table cells or emphasis soup in a fraction of a second. It is not Markdown: links, tags and
headings read as their words; task boxes, comments (``%% %%``, ``<!-- -->``), HTML tags, entities
and URLs are silent; and the chunk is one unit, so only its last sentence gets the period and the
pause of a block (a heading or list item inside it ends without one).

``line_units``: a whole note markdown-it cannot handle (nested too deeply), each line minus its
list, quote and heading markers.
"""

from __future__ import annotations

import re

from .spoken import URL_RE
from .units import Seg, Unit

# Hidden from plain reading (an unclosed comment hides the rest of the chunk, as Obsidian would).
_HIDDEN = re.compile(
    r"%%.*?(?:%%|\Z)|<!--.*?(?:-->|\Z)|<[A-Za-z/!?][^<>]*>|&#?[A-Za-z0-9]{1,32};|" + URL_RE.pattern,
    re.DOTALL | re.IGNORECASE,
)
_NOT_NEWLINE = re.compile(r"[^\n]")
# A block marker at a line start (up to 3 spaces or a tab in) becomes line breaks, which with the
# line's own make a blank line - a sentence end for split_sentences. The marker character comes
# first in the pattern, so the regex engine only stops at those.
_AFTER_LINE_START = r"(?:(?<=\n.)|(?<=\n .)|(?<=\n  .)|(?<=\n   .)|(?<=\n\t.))"
_MARKER = re.compile(
    r"[-+*#|]" + _AFTER_LINE_START + r"(?:(?<=[-+*])(?=[ \t])|(?<=#)(?=#{0,5}[ \t\n])|(?<=\|))"
)
_ORDERED = re.compile(r"^( {0,3}|\t)(\d{1,9}[.)])(?=[ \t])", re.MULTILINE)
# "---", "| :-- | --- |" once pipes are blanked: rules, setext underlines, table delimiter rows
_RULE_LINE = re.compile(r"(?<=\n)[ \t]*[-:][ \t:-]*(?=\n)")
_TASK_BOX = re.compile(r"\[[ xX/-]\](?=[ \t])")
_BANG = re.compile(r"!(?=\[)|(?<=\[)!")  # "![[embed", "![image", "[!callout"
_MARKUP = str.maketrans(dict.fromkeys("*_~=`#|[]()^$\\<>", " "))


def _blank(m: re.Match[str]) -> str:
    return _NOT_NEWLINE.sub(" ", m.group())


def _ordered_breaks(m: re.Match[str]) -> str:
    return m.group(1) + "\n" * len(m.group(2))


def blank_markup(text: str) -> str:
    """``text`` with its Markdown/Obsidian markup blanked, same length, same line breaks."""
    text = "\n" + text  # every line, the first too, starts after a line break
    text = _HIDDEN.sub(_blank, text)
    text = _ORDERED.sub(_ordered_breaks, text)
    text = _MARKER.sub("\n", text)
    text = _TASK_BOX.sub("   ", text)
    text = _BANG.sub(" ", text)
    text = text.translate(_MARKUP) + "\n"
    return _RULE_LINE.sub(_blank, text)[1:-1]


def plain_chunk(src: str, start: int, end: int) -> list[Unit]:
    """The units of ``src[start:end]`` read plainly: one, its sentences split as usual."""
    text = blank_markup(src[start:end])
    if not text.strip():
        return []
    # Verbatim: offsets map character by character (the blanked markup is only silent).
    return [Unit([Seg(text, start, end, True)], "block")]


_LINE_MARKERS = re.compile(
    r"^[ \t>]*(?:[-*+][ \t]+|\d{1,9}[.)][ \t]+|#{1,6}[ \t]+)*(?:\[.\][ \t]+)?"
)


def line_units(src: str) -> list[Unit]:
    """Degraded reading for notes markdown-it cannot handle: each line minus list/quote markers."""
    units: list[Unit] = []
    pos = 0
    for line in src.split("\n"):
        m = _LINE_MARKERS.match(line)
        body = line[m.end() :] if m else line
        start = pos + (len(line) - len(body))
        if body.strip():
            units.append(Unit([Seg(body, start, start + len(body), True)], "block"))
        pos += len(line) + 1
    return units
