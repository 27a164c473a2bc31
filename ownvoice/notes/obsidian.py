"""markdown-it rules for Obsidian syntax: wikilinks, embeds, tags, comments, highlights, block ids.

Every token these rules push carries ``meta["ov_start"]``/``meta["ov_end"]``: offsets into the inline
content it came from, so the script builder can map spoken words back to the source exactly.
Callouts (``> [!note] Title``) need no rule: they are blockquotes, recognised by the script builder.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

_WIKILINK = re.compile(r"!?\[\[([^\[\]\n]+?)\]\]")
_TAG = re.compile(r"#([\w/-]+)")
_BLOCK_ID = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*(?=\n|$)")
_TAG_BEFORE = frozenset(" \t\n([{\"'")


def split_wikilink(inner: str) -> tuple[str, str, str]:
    """``"folder/Note.md#Heading|Alias"`` → ``("Note", "Heading", "Alias")`` (empty parts are '')."""
    parts = re.split(r"\\?\|", inner, maxsplit=1)
    target = parts[0].strip().rstrip("\\")
    alias = parts[1].strip() if len(parts) > 1 else ""
    note, _, heading = target.partition("#")
    note = note.strip().rsplit("/", 1)[-1]
    note = note.removesuffix(".md")
    heading = heading.strip()
    if heading.startswith("^"):
        heading = ""  # block references (#^abc) have no readable name
    heading = heading.replace("#", ", ")  # nested headings: Note#A#B
    return note, heading, alias


def _push(state: StateInline, kind: str, start: int, end: int, **meta: str) -> None:
    token = state.push(kind, "", 0)
    token.meta.update(meta, ov_start=start, ov_end=end)
    token.content = state.src[start:end]


def _wikilink(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    src = state.src
    ch = src[pos]
    if ch == "!":
        if not src.startswith("![[", pos):
            return False
    elif ch != "[" or not src.startswith("[[", pos):
        return False
    m = _WIKILINK.match(src, pos, state.posMax)
    if not m:
        return False
    if not silent:
        note, heading, alias = split_wikilink(m.group(1))
        kind = "ov_embed" if ch == "!" else "ov_wikilink"
        _push(state, kind, pos, m.end(), note=note, heading=heading, alias=alias)
    state.pos = m.end()
    return True


def _tag(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    src = state.src
    if src[pos] != "#" or (pos > 0 and src[pos - 1] not in _TAG_BEFORE):
        return False
    m = _TAG.match(src, pos, state.posMax)
    if not m or not any(c.isalpha() for c in m.group(1)):
        return False  # "#1" is a number, not a tag (Obsidian agrees)
    if not silent:
        _push(state, "ov_tag", pos, m.end(), name=m.group(1))
    state.pos = m.end()
    return True


def _comment_inline(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if not state.src.startswith("%%", pos):
        return False
    end = state.src.find("%%", pos + 2, state.posMax)
    if end < 0:
        return False
    if not silent:
        _push(state, "ov_comment", pos, end + 2)
    state.pos = end + 2
    return True


def _highlight(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    src = state.src
    if not src.startswith("==", pos) or pos + 2 >= state.posMax or src[pos + 2] in " \t\n=":
        return False
    end = src.find("==", pos + 3, state.posMax)
    if end < 0 or src[end - 1] in " \t\n":
        return False
    if not silent:
        old_max = state.posMax
        _push(state, "ov_mark_open", pos, pos + 2)
        state.pos = pos + 2
        state.posMax = end
        state.md.inline.tokenize(state)
        state.posMax = old_max
        _push(state, "ov_mark_close", end, end + 2)
    state.pos = end + 2
    return True


def _block_id(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    src = state.src
    if src[pos] != "^" or (pos > 0 and src[pos - 1] not in " \t\n"):
        return False
    m = _BLOCK_ID.match(src, pos, state.posMax)
    if not m:
        return False
    if not silent:
        _push(state, "ov_blockid", pos, m.end(), id=m.group(1))
    state.pos = m.end()
    return True


def _comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """``%%`` opening a line and not closed on it: a comment up to the line holding ``%%``."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[pos : state.eMarks[start_line]]
    if not line.startswith("%%") or "%%" in line[2:]:
        return False
    if silent:
        return True
    nxt = start_line + 1
    while nxt < end_line:
        p = state.bMarks[nxt] + state.tShift[nxt]
        nxt += 1
        if "%%" in state.src[p : state.eMarks[nxt - 1]]:
            break
    # Unclosed: Obsidian hides the rest of the note; so do we.
    state.line = nxt
    token = state.push("ov_comment_block", "", 0)
    token.block = True
    token.map = [start_line, nxt]
    return True


def obsidian_plugin(md: MarkdownIt) -> None:
    """Install the Obsidian rules on ``md``."""
    md.block.ruler.before(
        "table",
        "ov_comment_block",
        _comment_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    # After "text" (which stops at each of these characters) and before links/images/footnotes.
    md.inline.ruler.after("text", "ov_block_id", _block_id)
    md.inline.ruler.after("text", "ov_tag", _tag)
    md.inline.ruler.after("text", "ov_highlight", _highlight)
    md.inline.ruler.after("text", "ov_wikilink", _wikilink)
    md.inline.ruler.after("text", "ov_comment", _comment_inline)
