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
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_pieces import PIECES

from ownvoice.notes import build_script, split_sentences

_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_WORD = re.compile(r"\w+")

_MARKDOWNISH = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.text(min_size=1, max_size=8),
    ),
    max_size=40,
).map("".join)


@_SETTINGS
@given(_MARKDOWNISH)
def test_any_text_gives_a_sane_script(text):
    script = build_script(text)
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
    script = build_script(text)
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
