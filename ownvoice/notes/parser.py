"""The configured markdown-it parser: CommonMark + tables, strikethrough, front matter, footnotes,
dollar math and the Obsidian rules, with inline rules wrapped to record source spans, and the
shortcuts that read hostile notes fast without changing a token."""

from __future__ import annotations

from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from .block import LineMarkedBlock, normalize
from .inline import DispatchingInline
from .obsidian import obsidian_plugin

MAX_NESTING = 40  # deeper notes are read as plain text (markdown-it would silently drop content)

_SPANNED_RULES = (
    "link",
    "image",
    "autolink",
    "backticks",
    "math_inline",
    "footnote_ref",
    "footnote_inline",
    "html_inline",
    "entity",
    "escape",
    "newline",
)


def _spanned(fn: Callable) -> Callable:
    """Wrap an inline rule so its first and last tokens record the content span they came from."""

    def rule(state, silent: bool) -> bool:
        if silent:  # look-ahead (link labels) pushes no tokens: skip the bookkeeping
            return fn(state, silent)
        start, n0, pending = state.pos, len(state.tokens), bool(state.pending)
        ok = fn(state, silent)
        if ok and not silent and len(state.tokens) > n0:
            first = n0 + 1 if pending and state.tokens[n0].type == "text" else n0
            if first < len(state.tokens):
                state.tokens[first].meta.setdefault("ov_start", start)
                state.tokens[first].meta["ov_span_end"] = state.pos
                state.tokens[-1].meta["ov_end"] = state.pos
        return ok

    return rule


# Every inline rule that can start at '[' or '!' (link, image, wikilink, embed, footnote) needs a
# ']' further on; without one they are plain text, whatever follows.
_OPENERS = frozenset("[!")


def _last_before_end(state: StateInline, char: str) -> int:
    """Index of the last ``char`` before ``state.posMax`` (-1: none), found once per inline run."""
    memo: dict[tuple[str, int], int] | None = getattr(state, "_ov_last", None)
    if memo is None:
        memo = state._ov_last = {}  # type: ignore[attr-defined]
    key = (char, state.posMax)
    last = memo.get(key)
    if last is None:
        last = memo[key] = state.src.rfind(char, 0, state.posMax)
    return last


def _plain_brackets(state: StateInline, silent: bool) -> bool:
    """Read a run of '[' / '!' with no ']' after it as text, in one step.

    Otherwise markdown-it tries every rule at each such character and scans a link label from
    each '[' (~60 us per bracket: a megabyte of unclosed '[', '[[' or '![[' took a minute).
    The text is the same as markdown-it's own fallback produces, so normal notes read alike.
    """
    pos, src = state.pos, state.src
    if src[pos] not in _OPENERS or _last_before_end(state, "]") > pos:
        return False
    end = pos + 1
    while end < state.posMax and src[end] in _OPENERS:
        end += 1
    if not silent:
        state.pending += src[pos:end]
    state.pos = end
    return True


def _may_link(state: StateInline) -> bool:
    """Whether a link/image can start here: it needs a ')' further on or a reference definition.

    A link is ``[text](target)`` or a reference (``[text]``, ``[text][ref]``), and references
    exist only where the note defines one. Without either, markdown-it still parses the label and
    the target at each '[' (``[a](`` repeated: 8 s per MB) before giving up; we give up first.
    """
    return "references" in state.env or _last_before_end(state, ")") > state.pos


def _tried_where_a_link_may_start(fn: Callable) -> Callable:
    """The link or image rule, tried only where ``_may_link`` allows (same tokens, less work)."""

    def rule(state: StateInline, silent: bool) -> bool:
        return _may_link(state) and fn(state, silent)

    return rule


def make_parser(shortcuts: bool = True) -> MarkdownIt:
    """CommonMark + tables, strikethrough, front matter, footnotes, dollar math, Obsidian rules.

    ``shortcuts`` make the same tokens with less work: a run of unclosed brackets is text in one
    step, link rules are skipped where no link can start, each inline rule is tried only where it
    can start (inline.py), and line breaks are normalized and marked in C (block.py). Without them
    this is markdown-it's own parser, which the tests compare the shortcuts with.
    """
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(footnote_plugin).use(dollarmath_plugin, allow_digits=False)
    md.use(obsidian_plugin)
    md.disable("text_join")  # keep escapes/entities apart: their source form differs from the text
    ruler = md.inline.ruler
    for name in _SPANNED_RULES:
        idx = ruler.__find__(name)
        if idx >= 0:
            ruler.at(name, _spanned(ruler.__rules__[idx].fn))
    if shortcuts:
        ruler.after("text", "ov_plain_brackets", _plain_brackets)
        for name in ("link", "image"):
            ruler.at(name, _tried_where_a_link_may_start(ruler.__rules__[ruler.__find__(name)].fn))
        md.inline = DispatchingInline(md.inline)
        md.block = LineMarkedBlock(md.block)
        md.core.ruler.at("normalize", normalize)
    return md


_PARSER: MarkdownIt | None = None


def shared_parser() -> MarkdownIt:
    """One configured parser per process (parsing is re-entrant; building it costs ~10 ms)."""
    global _PARSER
    if _PARSER is None:
        _PARSER = make_parser()
    return _PARSER
