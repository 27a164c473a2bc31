"""The configured parser: its shortcuts give markdown-it's own tokens, read hostile text fast."""

from __future__ import annotations

import random
import time

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_pieces import PIECES

from ownvoice.notes import build_script
from ownvoice.notes.block import line_markers
from ownvoice.notes.parser import make_parser


def _tokens(md, src: str) -> list[tuple]:
    out: list[tuple] = []

    def walk(tokens) -> None:
        for t in tokens:
            meta = tuple(sorted((k, v) for k, v in (t.meta or {}).items() if isinstance(v, int)))
            attrs = tuple(sorted((k, str(v)) for k, v in (t.attrs or {}).items()))
            out.append((t.type, t.content, t.markup, t.level, t.map, attrs, meta))
            walk(t.children or [])

    walk(md.parse(src))
    return out


def test_the_shortcuts_give_the_tokens_markdown_it_gives():
    fast, reference = make_parser(), make_parser(shortcuts=False)
    pieces = PIECES + list("[]!a b()^*`\n#$%=<>:\\") + ["[[", "![[", "]]", "[x](y)", "[r]: /u\n"]
    pieces += ["[r]", "[a](", "\r", "\0", "  \t", "\n   \n", "a\n===\n", "- [ ] x\n", "| a |"]
    rnd = random.Random(10)  # fixed: the same documents every run
    for _ in range(1500):
        src = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 40)))
        assert _tokens(fast, src) == _tokens(reference, src), repr(src)


def test_line_markers_are_the_ones_markdown_it_makes():
    md = MarkdownIt()
    rnd = random.Random(11)
    for _ in range(3000):
        src = "".join(
            rnd.choice([" ", "\t", "\n", "a", "-", "\x0b"]) for _ in range(rnd.randint(1, 16))
        )
        state = StateBlock(src, md, {}, [])
        expected = (state.bMarks, state.eMarks, state.tShift, state.sCount, state.bsCount)
        assert line_markers(src) == expected, repr(src)


def test_unclosed_brackets_and_wikilinks_are_read_as_text():
    script = build_script("See [this and [[that. Then [[Real note]] here!")
    assert [s.text for s in script] == ["See [this and [[that.", "Then Real note here!"]


def test_a_long_run_of_unclosed_embeds_is_read_in_well_under_a_second_per_100_kb():
    text = "![[" * 100_000  # 300 kB; took ~28 s before the shortcut
    t0 = time.perf_counter()
    build_script(text)
    assert time.perf_counter() - t0 < 5.0  # ~0.3 s; generous for a loaded CI machine
