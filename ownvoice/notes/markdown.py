"""Markdown tokens → speakable units (text pieces with their source offsets), by the reading rules.

markdown-it gives line maps for blocks but no offsets inside a line, so each inline token is
located in its block's content (our inline rules record exact spans; text is found by a forward
search) and a per-line map turns content offsets into source code point offsets. A piece of spoken
text is either *verbatim* (copied from the source: offsets per character) or *derived* ("Code
block.", a wikilink's alias, "formula"), which maps to the whole span it replaces.
"""

from __future__ import annotations

import bisect
import html
import logging
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .block import line_bounds
from .parser import MAX_NESTING
from .plain import plain_chunk
from .rules import ReadingRules
from .sentences import is_cjk
from .spoken import URL_RE, speak_url, verbalize_math
from .units import Seg, Unit

_LOGGER = logging.getLogger(__name__)

_TASK = re.compile(r"\[(.)\](?:[ \t]+|$)")
_TASK_LABELS = {
    " ": "To do: ",
    "x": "Done: ",
    "X": "Done: ",
    "-": "Cancelled: ",
    "/": "In progress: ",
}
_CALLOUT = re.compile(r"\[!([\w-]+)\][+-]?[ \t]*")
_HTML_SKIP = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style)\b.*?(?:</\1\s*>|$)|<[A-Za-z/!?][^>]*>",
    re.DOTALL | re.IGNORECASE,
)
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".avif")


def _may_have_url(text: str) -> bool:
    """False when URL_RE cannot match (it needs '://' or 'www.'): 6x cheaper than running it."""
    return "://" in text or "ww." in text or "WW." in text or "wW." in text or "Ww." in text


class _ContentMap:
    """Maps offsets in a block's inline content to source offsets, line by line."""

    def __init__(
        self,
        walker: _Walker,
        content: str,
        first_line: int | None,
        base: int = -1,
        fixed: tuple[int, int] | None = None,
    ) -> None:
        self.fixed = fixed
        self.cstarts: list[int] = []
        self.sstarts: list[int] = []
        if fixed is not None:
            return
        if base >= 0:  # single-line content at a known position (table cells)
            self.cstarts, self.sstarts = [0], [base]
            return
        c = 0
        last = len(walker.line_starts) - 1
        for j, cl in enumerate(content.split("\n")):
            ln = min((first_line or 0) + j, last)
            ls, le = walker.line_starts[ln], walker.line_ends[ln]
            sline = walker.src[ls:le]
            if sline.endswith(cl):
                pos = len(sline) - len(cl)
            else:
                pos = sline.rfind(cl)
                if pos < 0:
                    pos = len(sline) - len(sline.lstrip())
            self.cstarts.append(c)
            self.sstarts.append(ls + pos)
            c += len(cl) + 1

    def span(self, a: int, b: int) -> tuple[int, int]:
        if self.fixed is not None:
            return self.fixed
        return self._at(a), max(self._at(a), self._at(b))

    def _at(self, c: int) -> int:
        j = max(0, bisect.bisect_right(self.cstarts, c) - 1)
        return self.sstarts[j] + (c - self.cstarts[j])


class _Walker:
    """Walks the token stream once, producing units; keeps heading/callout/footnote context."""

    def __init__(self, src: str, rules: ReadingRules) -> None:
        self.src = src
        self.rules = rules
        self.units: list[Unit] = []
        self.footnotes_at: int | None = None  # index of the first footnote unit
        self.heading: str | None = None
        self.footnote_refs: dict[int, tuple[int, int]] = {}
        _, self.line_starts, self.line_ends = line_bounds(src)  # in C: notes may have 1M lines

    # ---- helpers -------------------------------------------------------------------------
    def _block_span(self, lines: list[int] | None) -> tuple[int, int]:
        if not lines:
            return len(self.src), len(self.src)
        last = len(self.line_starts) - 1
        l0, l1 = min(lines[0], last), min(max(lines[1] - 1, lines[0]), last)
        return self.line_starts[l0], self.line_ends[l1]

    def _emit(self, segs: list[Seg], kind: str = "block") -> None:
        if any(s.text.strip() for s in segs):
            self.units.append(Unit(segs, kind, self.heading))

    def _text(self, text: str, a: int, cmap: _ContentMap, out: list[Seg]) -> None:
        """Add source text ``text`` found at content offset ``a``, reading bare URLs by the rules."""
        if not _may_have_url(text):
            self._verbatim(text, a, cmap, out)
            return
        pos = 0
        for m in URL_RE.finditer(text):
            if m.start() > pos:
                self._verbatim(text[pos : m.start()], a + pos, cmap, out)
            s, e = cmap.span(a + m.start(), a + m.end())
            out.append(Seg(speak_url(m.group(), self.rules.urls), s, e, False))
            pos = m.end()
        if pos < len(text):
            self._verbatim(text[pos:], a + pos, cmap, out)

    def _verbatim(self, text: str, a: int, cmap: _ContentMap, out: list[Seg]) -> None:
        s, e = cmap.span(a, a + len(text))
        ok = cmap.fixed is None and self.src[s : s + len(text)] == text
        out.append(Seg(text, s, s + len(text) if ok else e, ok))

    # ---- inline ----------------------------------------------------------------------------
    def _inline(self, tok: Token, cmap: _ContentMap, skip_to: int = 0) -> list[Seg]:
        content, rules = tok.content, self.rules
        out: list[Seg] = []
        cur = 0
        skip_until: int | None = None  # level of an autolink whose children are already read
        for t in tok.children or []:
            typ, meta = t.type, t.meta
            s0, s1 = meta.get("ov_start"), meta.get("ov_end", meta.get("ov_span_end"))
            if skip_until is not None:
                if typ == "link_close" and t.level == skip_until:
                    skip_until = None
                    cur = max(cur, s1 if s1 is not None else cur)
                continue
            if typ == "text":
                if not t.content:
                    continue
                idx = content.find(t.content, cur) if cmap.fixed is None else -1
                if idx < 0:
                    sp = cmap.span(cur, cur)
                    out.append(Seg(t.content, sp[0], sp[1], False))
                    continue
                end = idx + len(t.content)
                if end > skip_to:
                    a = max(idx, skip_to)
                    self._text(content[a:end], a, cmap, out)
                cur = end
                continue
            if s0 is None or s1 is None:
                s0 = s1 = cur  # tokens without recorded spans (emphasis, marks' inner) move nothing
            if s0 < skip_to:
                cur = max(cur, s1)
                continue
            span = cmap.span(s0, s1)
            said = self._inline_token(t)
            cjk_wrap = typ == "softbreak" and 0 < s0 and s1 < len(content)
            if cjk_wrap and is_cjk(content[s0 - 1]) and is_cjk(content[s1]):
                said = ""  # Chinese/Japanese lines wrap without a word break
            if said is not None:
                out.append(
                    Seg(said, span[0], span[1], False, brk=typ in ("softbreak", "hardbreak"))
                )
            if typ == "link_open":
                href = t.attrs.get("href", "")
                if t.markup == "autolink" and not str(href).startswith("mailto:"):
                    out.append(Seg(speak_url(str(href), rules.urls), *span, False))
                    skip_until = t.level
                    cur = max(cur, meta.get("ov_span_end", s1))
                    continue
                cur = max(cur, s0 + 1)
                continue
            if typ == "footnote_ref":
                self.footnote_refs[meta.get("id", -1)] = span
            cur = max(cur, s1)
        return out

    def _inline_token(self, t: Token) -> str | None:
        """What one non-text inline token says (None: nothing)."""
        typ, meta, rules = t.type, t.meta, self.rules
        if typ in ("softbreak", "hardbreak"):
            return " "
        if typ == "text_special":
            return t.content
        if typ == "code_inline":
            return t.content
        if typ.startswith("math_inline"):
            return " formula " if rules.math == "formula" else f" {verbalize_math(t.content)} "
        if typ == "html_inline":
            return " " if re.match(r"<br\b", t.content, re.IGNORECASE) else None
        if typ == "link_open" and t.markup != "autolink" and rules.links == "announce":
            return "link to "
        if typ == "image":
            if rules.embeds != "announce":
                return None
            return f" image: {t.content} " if t.content.strip() else " image "
        if typ == "ov_wikilink":
            name = meta["alias"] or ", ".join(p for p in (meta["note"], meta["heading"]) if p)
            return f"link to {name}" if rules.links == "announce" else name
        if typ == "ov_embed":
            if rules.embeds != "announce":
                return None
            note = meta["note"]
            if note.lower().endswith(_IMAGE_EXT):
                return f" embedded image {note.rsplit('.', 1)[0]} "
            return f" embedded note {meta['alias'] or note} "
        if typ == "ov_tag":
            if rules.tags == "skip":
                return None
            return re.sub(r"[/_-]+", " ", meta["name"]).strip()
        return None  # emphasis, marks, comments, block ids, footnote refs/anchors: silent

    # ---- blocks ----------------------------------------------------------------------------
    def walk(self, tokens: list[Token]) -> list[Unit]:
        rules = self.rules
        i, n = 0, len(tokens)
        callout = task = False
        footnote_id: int | None = None
        while i < n:
            t = tokens[i]
            typ = t.type
            if typ == "paragraph_open" and i + 1 < n and tokens[i + 1].type == "inline":
                self._paragraph(tokens[i + 1], callout, task, footnote_id)
                footnote_id = None
                callout = task = False
                i += 3
                continue
            callout = typ == "blockquote_open"
            task = typ == "list_item_open"
            if typ == "heading_open" and i + 1 < n:
                inline = tokens[i + 1]
                segs = self._inline(
                    inline, _ContentMap(self, inline.content, (inline.map or t.map or [0])[0])
                )
                title = re.sub(r"\s+", " ", "".join(s.text for s in segs)).strip()
                if title:
                    self.heading = title
                    self._emit(segs, "heading")
                i += 3
                continue
            if typ in ("fence", "code_block"):
                self._code(t)
            elif typ.startswith("math_block"):
                s, e = self._block_span(t.map)
                said = "Formula." if rules.math == "formula" else verbalize_math(t.content)
                self._emit([Seg(said, s, e, False)])
            elif typ == "html_block":
                self._html(t)
            elif typ == "table_open":
                i = self._table(tokens, i)
            elif typ == "footnote_block_open":
                self.footnotes_at = len(self.units)
                if rules.footnotes == "skip":
                    while i < n and tokens[i].type != "footnote_block_close":
                        i += 1
                else:
                    self.heading = "Footnotes"
            elif typ == "footnote_open":
                footnote_id = t.meta.get("id", 0)
            i += 1
        return self.units

    def _paragraph(self, inline: Token, callout: bool, task: bool, footnote_id: int | None) -> None:
        content = inline.content
        if inline.map is None:  # inline footnote bodies: no map; point at their reference
            cmap = _ContentMap(
                self, content, None, fixed=self.footnote_refs.get(footnote_id or 0, (0, 0))
            )
        else:
            cmap = _ContentMap(self, content, inline.map[0])
        prefix: list[Seg] = []
        if footnote_id is not None:
            s, e = cmap.span(0, 0)
            prefix.append(Seg(f"Footnote {footnote_id + 1}: ", s, e, False))
        skip_to = 0
        if task and (m := _TASK.match(content)):
            skip_to = m.end()
            label = _TASK_LABELS.get(m.group(1), "")
            if label and self.rules.tasks:
                prefix.append(Seg(label, *cmap.span(0, 3), False))
        if callout and (m := _CALLOUT.match(content)):
            segs = self._inline(inline, cmap, m.end())
            cut = next((k for k, s in enumerate(segs) if s.brk), len(segs))
            title, body = segs[:cut], segs[cut + 1 :]
            if not any(s.text.strip() for s in title):
                kind = m.group(1).replace("-", " ").capitalize()
                title = [Seg(kind, *cmap.span(0, m.end()), False)]
            self._emit(prefix + title)
            self._emit(body)
            return
        self._emit(prefix + self._inline(inline, cmap, skip_to))

    def _code(self, t: Token) -> None:
        mode = self.rules.code_blocks
        if mode == "skip":
            return
        s, e = self._block_span(t.map)
        if mode == "announce" or not t.map:
            self._emit([Seg("Code block.", s, e, False)])
            return
        first = t.map[0] + (1 if t.type == "fence" else 0)
        lines = t.content.split("\n")
        for j, line in enumerate(lines):
            if line.strip() and first + j < len(self.line_starts):
                segs: list[Seg] = []
                self._verbatim(line, 0, _ContentMap(self, line, first + j), segs)
                self._emit(segs)

    def _html(self, t: Token) -> None:
        s, e = self._block_span(t.map)
        block = self.src[s:e]
        if t.content and not block.strip():
            block, s = t.content, -1  # no map: we can only say it, not point at it
        segs: list[Seg] = []
        pos = 0
        for m in list(_HTML_SKIP.finditer(block)) + [None]:
            stop = m.start() if m else len(block)
            piece = block[pos:stop]
            if piece.strip():
                text = html.unescape(piece)
                if s >= 0 and text == piece:
                    segs.append(Seg(piece, s + pos, s + stop, True))
                else:
                    segs.append(Seg(text, max(s, 0) + pos, max(s, 0) + stop, False))
                segs.append(Seg(" ", max(s, 0) + stop, max(s, 0) + stop, False))
            if m:
                pos = m.end()
        self._emit(segs)

    def _table(self, tokens: list[Token], i: int) -> int:
        """Read a table row by row, each cell as "Header: value"; returns the index of table_close."""
        rows: list[list[list[Seg]]] = []
        header: list[str] = []
        header_cells: list[list[Seg]] = []
        line_text, cursor, row_line = "", 0, 0
        n = len(tokens)
        while i < n and tokens[i].type != "table_close":
            t = tokens[i]
            if t.type == "tr_open":
                row_line = (t.map or [0])[0]
                row_line = min(row_line, len(self.line_starts) - 1)
                line_text = self.src[self.line_starts[row_line] : self.line_ends[row_line]]
                cursor = 0
                rows.append([])
            elif t.type == "inline" and rows:
                idx = line_text.find(t.content, cursor) if t.content else -1
                if idx < 0:
                    idx = cursor
                base = self.line_starts[row_line] + idx
                cursor = idx + len(t.content)
                segs = self._inline(t, _ContentMap(self, t.content, None, base=base))
                rows[-1].append(segs)
            elif t.type == "thead_close" and rows:
                header_cells = rows[0]
                header = [re.sub(r"\s+", " ", "".join(s.text for s in c)).strip() for c in rows[0]]
                rows = []
            i += 1
        if not rows and header:  # a table with only a header row: read it as a row
            header, rows = [], [header_cells]
        for row in rows:
            out: list[Seg] = []
            for k, cell in enumerate(row):
                text = "".join(s.text for s in cell).strip()
                if not text:
                    continue
                if out:
                    out.append(Seg(", ", cell[0].start, cell[0].start, False))
                name = header[k] if k < len(header) else ""
                if name:
                    out.append(Seg(f"{name.rstrip(':')}: ", cell[0].start, cell[0].start, False))
                out.extend(cell)
            self._emit(out)
        return i


def markdown_units(
    src: str, rules: ReadingRules, parser: MarkdownIt, plain: list[tuple[int, int]] | None = None
) -> list[Unit]:
    """Parse ``src`` and return its speakable units; raises RecursionError/TooDeep to degrade.

    ``plain``: spans of whole lines (budget.py) read plainly instead. markdown-it parses ``src``
    with each of them cut down to its line breaks, so every line keeps its number and the walker
    still finds each block's text in ``src``; their units are merged back in source order.
    """
    parse_src = _without(src, plain) if plain else src
    tokens = parser.parse(parse_src)
    if any(t.level >= MAX_NESTING - 1 for t in tokens):
        raise TooDeep(f"nesting deeper than {MAX_NESTING} levels")
    walker = _Walker(src, rules)
    units = walker.walk(tokens)
    if not plain:
        return units
    return _merge(units, walker.footnotes_at, [(a, plain_chunk(src, a, b)) for a, b in plain])


def _without(src: str, spans: list[tuple[int, int]]) -> str:
    """``src`` with each span cut down to its line breaks."""
    parts: list[str] = []
    pos = 0
    for a, b in spans:
        parts.append(src[pos:a])
        parts.append("\n" * src.count("\n", a, b))
        pos = b
    parts.append(src[pos:])
    return "".join(parts)


def _merge(
    units: list[Unit], footnotes_at: int | None, plain: list[tuple[int, list[Unit]]]
) -> list[Unit]:
    """Markdown units with the plain chunks' units put back where they were (footnotes last)."""
    body_end = len(units) if footnotes_at is None else footnotes_at
    out: list[Unit] = []
    k = 0
    for unit in units[:body_end]:
        first = unit.segs[0].start
        while k < len(plain) and plain[k][0] <= first:
            out.extend(_under(plain[k][1], out))
            k += 1
        out.append(unit)
    for _, chunk in plain[k:]:
        out.extend(_under(chunk, out))
    out.extend(units[body_end:])
    return out


def _under(chunk: list[Unit], before: list[Unit]) -> list[Unit]:
    """The chunk's units, under the heading of the unit before them."""
    heading = before[-1].heading if before else None
    for unit in chunk:
        unit.heading = heading
    return chunk


class TooDeep(Exception):
    """markdown-it stopped nesting (and would drop text): read the note as plain text instead."""
