"""markdown-it's inline tokenizer, dispatching on the current character.

``ParserInline.tokenize`` tries every enabled inline rule (20 with ours) at every character that
stops plain text, and a rule that cannot start there still costs a Python call: a megabyte of
``#``, ``[a](`` or ``[^1]`` spent seconds in rules that return False on their first line. Here each
rule is tried only at the characters it can start at, in the ruler's order, and characters no rule
can start at are appended to the pending text in runs. The tokens are the same as markdown-it's:
every rule named in ``TRIGGERS`` returns False before touching the state when the character at
``state.pos`` is not one of its triggers; rules missing from the table are tried everywhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from markdown_it.parser_inline import ParserInline
from markdown_it.rules_inline import StateInline

_LOGGER = logging.getLogger(__name__)

# Rule name → the characters it can start at (checked against markdown-it-py 4.x,
# mdit-py-plugins 0.7 and obsidian.py). A rule whose trigger is not a text terminator would never
# run after the text rule anyway, so the table only needs to be right for terminators.
TRIGGERS: dict[str, str] = {
    "newline": "\n",
    "escape": "\\",
    "backticks": "`",
    "strikethrough": "~",
    "emphasis": "*_",
    "link": "[",
    "image": "!",
    "autolink": "<",
    "html_inline": "<",
    "entity": "&",
    "math_inline": "$",
    "footnote_inline": "^",
    "footnote_ref": "[",
    "ov_plain_brackets": "[!",
    "ov_comment": "%",
    "ov_wikilink": "[!",
    "ov_highlight": "=",
    "ov_tag": "#",
    "ov_block_id": "^",
}

Rule = Callable[[StateInline, bool], bool]


class _Plan:
    """The dispatch table for one set of enabled rules (rebuilt when the ruler changes)."""

    def __init__(
        self, rules: list[Rule], names: list[str], terminators: re.Pattern[str], extra: set[str]
    ) -> None:
        self.rules = rules  # the ruler's cached list: a new list means the rules changed
        self.terminators = terminators
        self.anywhere = tuple(rules[1:])  # for a terminator missing from the table (see tokenize)
        chars = {c for c in map(chr, range(128)) if terminators.fullmatch(c)}
        chars |= {c for c in extra if terminators.fullmatch(c)}
        self.table: dict[str, tuple[Rule, ...]] = {}
        for ch in chars:
            self.table[ch] = tuple(
                rule
                for rule, name in zip(rules[1:], names[1:], strict=True)
                if ch in TRIGGERS.get(name, ch)
            )
        dead = "".join(sorted(ch for ch, found in self.table.items() if not found))
        # Terminators no rule starts at ("]", "-", ":" …): appended as a run, like text.
        self.dead = re.compile(f"[{re.escape(dead)}]+") if dead else None


class DispatchingInline(ParserInline):
    """``ParserInline`` whose ``tokenize``/``skipToken`` try only the rules that can match here."""

    def __init__(self, base: ParserInline) -> None:
        super().__init__()
        self.ruler = base.ruler
        self.ruler2 = base.ruler2
        self.terminator_re = base.terminator_re
        self._extra_terminator_chars = set(getattr(base, "_extra_terminator_chars", ()))
        self._plan: _Plan | None = None

    def _current_plan(self) -> _Plan | None:
        rules = self.ruler.getRules("")
        plan = self._plan
        if plan is not None and plan.rules is rules and plan.terminators is self.terminator_re:
            return plan
        names = [r.name for r in self.ruler.__rules__ if r.enabled]
        if not names or names[0] != "text" or len(names) != len(rules):
            _LOGGER.debug("inline rules do not start with 'text': plain markdown-it tokenizer")
            self._plan = None
            return None
        self._plan = _Plan(rules, names, self.terminator_re, self._extra_terminator_chars)
        return self._plan

    def tokenize(self, state: StateInline) -> None:
        plan = self._current_plan()
        if plan is None:
            super().tokenize(state)
            return
        table, search, dead = plan.table, plan.terminators.search, plan.dead
        src, end = state.src, state.posMax
        max_nesting = state.md.options["maxNesting"]
        while state.pos < end:
            pos = state.pos
            if state.level >= max_nesting:  # markdown-it tries no rule at all here
                state.append_pending(src[pos])
                state.pos = pos + 1
                continue
            rules = table.get(src[pos])
            if rules is None:  # the text rule, inlined: up to the next terminator
                m = search(src, pos)
                nxt = m.start() if m else end
                if nxt > pos:
                    state.append_pending(src[pos:nxt])
                    state.pos = nxt
                    continue
                rules = plan.anywhere  # a terminator the table does not know: try them all
            elif not rules:
                m = dead.match(src, pos, end)  # type: ignore[union-attr]
                state.append_pending(m.group())  # type: ignore[union-attr]
                state.pos = m.end()  # type: ignore[union-attr]
                continue
            for rule in rules:
                if rule(state, False):
                    if state.pos <= pos:
                        raise RuntimeError("inline rule didn't increment state.pos")
                    break
            else:
                state.append_pending(src[pos])
                state.pos = pos + 1
        if state.pending:
            state.pushPending()

    def skipToken(self, state: StateInline) -> None:
        plan = self._current_plan()
        if plan is None:
            super().skipToken(state)
            return
        pos = state.pos
        cache = state.cache
        if pos in cache:
            state.pos = cache[pos]
            return
        ok = False
        if state.level < state.md.options["maxNesting"]:
            rules = plan.table.get(state.src[pos])
            if rules is None:  # the text rule (silent)
                m = plan.terminators.search(state.src, pos)
                nxt = m.start() if m else state.posMax
                if nxt > pos:
                    state.pos, ok = nxt, True
                else:
                    rules = plan.anywhere
            if not ok and rules is not None:
                for rule in rules:
                    state.level += 1
                    ok = rule(state, True)
                    state.level -= 1
                    if ok:
                        if state.pos <= pos:
                            raise RuntimeError("inline rule didn't increment state.pos")
                        break
        else:
            state.pos = state.posMax  # too deep: markdown-it skips to the end
        if not ok:
            state.pos += 1
        cache[pos] = state.pos
