"""Property tests: the script builder never raises and its offsets always make sense.

What is asserted, precisely:
* any text (Markdown or not): no exception; every sentence is non-empty, at most
  ``max_sentence_chars`` long, has ``0 <= start <= end <= len(text)``; indices are 0..n-1; start
  offsets never go backwards (except footnotes, which are read at the end).
* plain prose (no Markdown syntax): every word of a sentence occurs in ``text[start:end]`` (line
  breaks removed: wrapped Chinese/Japanese lines join without a space), and the
  word characters of all sentences, in order, are exactly those of the source (nothing dropped,
  nothing invented).
* ``split_sentences`` on any text: spans are ordered, disjoint, trimmed, at most ``max_chars``, and
  only whitespace lies outside them.
* the same for notes whose budget (budget.py) is cut to anything from nothing to everything, so
  that some or all of their chunks are read plainly (plain.py) between Markdown ones.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_pieces import PIECES

from ownvoice.notes import budget as budget_mod
from ownvoice.notes import build_script, split_sentences
from ownvoice.notes import script as script_mod

_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_WORD = re.compile(r"\w+")

_MARKDOWNISH = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(min_size=1, max_size=8),
    ),
    max_size=40,
).map("".join)


# µs a character the budget allows: 0 reads every chunk plainly, 40 none
_PER_CHAR_US = st.floats(0.0, 40.0)


@contextmanager
def _budget(per_char_us: float):
    """Notes of a few dozen characters cut into chunks and read plainly beyond the budget."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(budget_mod, "BASE_US", 0.0)
        mp.setattr(budget_mod, "PER_CHAR_US", per_char_us)
        mp.setattr(budget_mod, "MIN_CHUNK", 8)
        yield


@_SETTINGS
@given(_MARKDOWNISH)
def test_any_text_gives_a_sane_script(text):
    _assert_sane(build_script(text), text)


@_SETTINGS
@given(_MARKDOWNISH, _PER_CHAR_US)
def test_any_text_read_partly_plainly_gives_a_sane_script(text, per_char_us):
    with _budget(per_char_us):
        script = build_script(text)
    _assert_sane(script, text)


def test_a_note_over_its_budget_is_read_plainly_and_under_it_as_markdown():
    note = "# Title\n\nSome **bold** words.\n\n- [ ] a task\n"
    with _budget(0.0):
        assert budget_mod.plain_spans(note)
        # one plain unit: only its last sentence gets the period a block gets (plain.py)
        assert [s.text for s in build_script(note)] == ["Title", "Some bold words.", "a task."]
    with _budget(40.0):
        assert budget_mod.plain_spans(note) == []
        assert [s.text for s in build_script(note)][-1] == "To do: a task."


def _assert_sane(script, text: str) -> None:
    assert [s.index for s in script] == list(range(len(script)))
    last_start = 0
    for s in script:
        assert s.text and s.text == s.text.strip() and len(s.text) <= 300
        assert 0 <= s.start <= s.end <= len(text)
        assert s.lang in ("en", "zh", "ja")
        if s.heading != "Footnotes":
            assert s.start >= last_start
            last_start = s.start


_LATIN_WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12
)
_CJK_WORD = st.text(alphabet="我你他的是了今天很好日本語です。", min_size=1, max_size=12)
_PUNCT = st.sampled_from(["", "", "", ",", ".", "!", "?", ";", ":", "...", "…", "。", "！"])
_SPACE = st.sampled_from([" ", " ", " ", "\n", "\n\n"])


@st.composite
def _prose(draw):
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 60))):
        parts.append(draw(st.one_of(_LATIN_WORD, _CJK_WORD)) + draw(_PUNCT))
        parts.append(draw(_SPACE))
    return "".join(parts)


@_SETTINGS
@given(_prose())
def test_plain_prose_words_come_from_their_source_span(text):
    _assert_words_from_spans(build_script(text), text)


@_SETTINGS
@given(_prose(), _PER_CHAR_US)
def test_prose_read_partly_plainly_keeps_its_words_in_their_spans(text, per_char_us):
    with _budget(per_char_us):
        script = build_script(text)
    _assert_words_from_spans(script, text)


def _assert_words_from_spans(script, text: str) -> None:
    for s in script:
        span = text[s.start : s.end].replace("\n", "")  # CJK lines wrap without a space
        for word in _WORD.findall(s.text):
            assert word in span, (word, span)
    spoken = "".join(_WORD.findall(" ".join(s.text for s in script)))
    assert spoken == "".join(_WORD.findall(text))


@_SETTINGS
@given(st.text(max_size=400), st.integers(8, 120))
def test_split_sentences_spans_partition_the_non_space_text(text, max_chars):
    spans = split_sentences(text, max_chars)
    pos = 0
    for a, b in spans:
        assert pos <= a < b <= len(text)
        assert b - a <= max_chars
        assert not text[a].isspace() and not text[b - 1].isspace()
        assert text[pos:a].strip() == ""
        pos = b
    assert text[pos:].strip() == ""


_CLEAN_ALPHABET = st.sampled_from(list(" \t\n\r\x00\x7f\u200b\u3000\xa0.,;:!?。ab[(_"))


@_SETTINGS
@given(st.text(_CLEAN_ALPHABET, max_size=24) | st.text(max_size=24))
def test_sentences_said_as_they_are_are_the_ones_cleaning_would_not_change(text):
    fast = script_mod._clean(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(script_mod, "_DIRTY", re.compile(""))  # every text takes the full cleaning
        assert fast == script_mod._clean(text)
