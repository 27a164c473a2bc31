"""The Markdown cost budget (budget.py) and the plain readings (plain.py) it falls back to."""

from __future__ import annotations

import re

from ownvoice.notes import build_script
from ownvoice.notes.budget import budget, estimate, plain_spans
from ownvoice.notes.plain import blank_markup, line_units

NORMAL = (
    "# Plans\n\nWe met on **Monday** and agreed on [[Roadmap|the roadmap]]. #work\n\n"
    "- [ ] write the draft\n- [x] book the room\n\n| who | what |\n|---|---|\n| Ann | slides |\n\n"
    "See [the docs](https://example.com) and `make test`.\n\n"
)
PROSE = (
    "The meeting ran long, so we moved the rest of the agenda to Thursday. Everyone agreed that "
    "the first draft should stay short, and that the examples matter more than the wording. "
    "After lunch we walked through the open questions one by one and wrote down who owns each.\n\n"
) * 3


def test_notes_of_normal_density_are_read_entirely_as_markdown():
    note = (NORMAL + PROSE) * 1000  # ~1 MB of an ordinary note
    assert estimate(note) <= budget(len(note))
    assert plain_spans(note) == []


def test_only_the_pathological_part_of_a_note_is_read_plainly():
    soup = "- [ ] x\n" * 40000  # a 320 kB task list: ~21 us a line for markdown-it
    note = NORMAL * 50 + soup + NORMAL * 50
    spans = plain_spans(note)
    assert spans, "a huge task list must exceed the budget"
    head, tail = len(NORMAL) * 50, len(NORMAL) * 50 + len(soup)
    assert all(head - 4096 <= a and b <= tail + 4096 for a, b in spans)
    script = build_script(note)
    said = [s.text for s in script]
    assert said[:2] == [s.text for s in build_script(NORMAL)][:2]  # the start keeps its Markdown
    assert "write the draft." in said or "write the draft" in said


def test_fenced_code_is_never_read_plainly_even_in_a_huge_note():
    note = "```\nsecret_token = 1\n```\n\n" + "*_" * 400000
    spans = plain_spans(note)
    assert spans and all(a >= note.index("```\n\n") for a, _ in spans)
    assert not any("secret_token" in s.text for s in build_script(note))


def test_blank_markup_keeps_length_and_line_breaks_and_drops_hidden_text():
    src = "# Title\n- [ ] **bold** [[link]] %%hidden%% <b>tag</b> &amp; http://a.b/c\n| a | b |"
    out = blank_markup(src)
    assert len(out) == len(src)
    assert all(out[m.start()] == "\n" for m in re.finditer("\n", src))
    words = out.split()
    assert "Title" in words and "bold" in words and "link" in words
    assert "hidden" not in out and "<b>" not in out and "amp" not in out and "http" not in out


def test_line_units_read_each_line_without_its_markers():
    src = "- one\n  - two\n> three\n1. four\n\n## five"
    units = line_units(src)
    assert [u.segs[0].text for u in units] == ["one", "two", "three", "four", "five"]
    for u in units:
        seg = u.segs[0]
        assert src[seg.start : seg.end] == seg.text
