"""markdown-it's per-line work before and around its block rules, done in C where it can be.

Its ``normalize`` core rule replaces every line feed by itself (one regex substitution a line),
``StateBlock.__init__`` walks every line in Python to record where it starts and ends and how far
it is indented, and ``skipEmptyLines`` looks at empty lines one method call at a time: ~1.2 us a
line, so a megabyte of line breaks took a second before any rule ran. ``normalize`` here only
replaces what needs replacing; ``LineMarkedBlock`` builds the same five marker lists with
``str.split``, ``map`` and ``accumulate`` (only lines indented with a tab need Python) and skips
empty lines in a tight loop. The rules themselves are markdown-it's own.
"""

from __future__ import annotations

from itertools import accumulate
from operator import add, methodcaller, sub

from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_LSTRIP_INDENT = methodcaller("lstrip", " \t")  # markdown-it's indent: spaces and tabs only


def normalize(state: StateCore) -> None:
    """markdown-it's ``normalize`` core rule: CR LF and CR become LF, NUL becomes U+FFFD."""
    src = state.src
    if "\r" in src:
        src = src.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in src:
        src = src.replace("\0", "\ufffd")
    state.src = src


def line_bounds(src: str) -> tuple[list[str], list[int], list[int]]:
    """The lines of ``src`` (split at line breaks) and the offsets where each starts and ends."""
    lines = src.split("\n")
    lengths = list(map(len, lines))
    starts = list(accumulate(map((1).__add__, lengths), initial=0))
    starts.pop()  # the start of a line after the last
    return lines, starts, list(map(add, starts, lengths))


def line_markers(src: str) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """``bMarks, eMarks, tShift, sCount, bsCount`` exactly as ``StateBlock.__init__`` makes them."""
    lines, starts, ends = line_bounds(src)
    if not _LSTRIP_INDENT(lines[-1]):
        # Nothing after the last line break, or only blanks: no line there (as markdown-it).
        for column in (lines, starts, ends):
            column.pop()
    indents = list(map(sub, map(len, lines), map(len, map(_LSTRIP_INDENT, lines))))
    columns = indents.copy()
    if "\t" in src:
        for k, indent in enumerate(indents):
            if indent and "\t" in lines[k][:indent]:
                columns[k] = _column(lines[k][:indent])
    n = len(src)
    # markdown-it's fake last line, which spares its rules some bounds checks
    return starts + [n], ends + [n], indents + [0], columns + [0], [0] * (len(starts) + 1)


def _column(indent: str) -> int:
    """The width of an indent of spaces and tabs, tabs going to the next multiple of 4."""
    col = 0
    for ch in indent:
        col += 4 - col % 4 if ch == "\t" else 1
    return col


class _LineMarkedState(StateBlock):
    def __init__(self, src: str, md, env, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)  # every field but the line markers
        self.src = src
        self.bMarks, self.eMarks, self.tShift, self.sCount, self.bsCount = line_markers(src)
        self.lineMax = len(self.bMarks) - 1  # the last entry is markdown-it's fake line

    def skipEmptyLines(self, from_pos: int) -> int:
        """markdown-it's, without a method call and an exception handler per line."""
        begins, shifts, ends = self.bMarks, self.tShift, self.eMarks
        for line in range(from_pos, self.lineMax):
            if begins[line] + shifts[line] < ends[line]:
                return line
        return max(from_pos, self.lineMax)


class LineMarkedBlock(ParserBlock):
    """``ParserBlock`` whose state gets its line markers from ``line_markers``."""

    def __init__(self, base: ParserBlock) -> None:
        super().__init__()
        self.ruler = base.ruler

    def parse(self, src: str, md, env, outTokens: list[Token]) -> list[Token] | None:
        if not src:
            return None
        state = _LineMarkedState(src, md, env, outTokens)
        self.tokenize(state, state.line, state.lineMax)
        return state.tokens
