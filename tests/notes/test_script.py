"""The script's structure: source offsets, headings, pauses, rules, degraded and bad input."""

from __future__ import annotations

import gc
import re

import pytest

from ownvoice.errors import BadInput, TooLarge
from ownvoice.notes import (
    ReadingRules,
    build_script,
    group_by_heading,
    split_sentences,
    utf16_offsets,
)
from ownvoice.notes import script as script_mod
from ownvoice.notes.script import Sentence, _gc_paused, _sentence
from ownvoice.notes.spoken import _fallback_detect_lang, verbalize_math


def spans(src, rules=None):
    return [src[s.start : s.end] for s in build_script(src, rules)]


def test_offsets_cover_the_source_of_each_sentence():
    src = "# Intro\n\nHello *world*. Second [link](http://x) here.\n"
    assert spans(src) == ["Intro", "Hello *world*.", "Second [link](http://x) here."]


def test_offsets_point_into_list_items_and_blockquotes():
    src = "- first item\n- second\n\n> quoted words\n"
    assert spans(src) == ["first item", "second", "quoted words"]


def test_offsets_are_code_points_with_astral_characters():
    src = "😀 emoji first. Then 你好。"
    assert spans(src) == ["😀 emoji first.", "Then 你好。"]
    sents = build_script(src)
    assert utf16_offsets(src, [sents[1].start, sents[1].end]) == [
        sents[1].start + 1,
        sents[1].end + 1,
    ]


def test_offsets_refer_to_the_original_text_with_crlf_line_endings():
    src = "# Title\r\n\r\nLine one\r\ncontinues. Next one.\r\n"
    assert spans(src) == ["Title", "Line one\r\ncontinues.", "Next one."]


def test_table_rows_point_at_their_cells():
    src = "| Name | Age |\n|---|---|\n| Alice | 30 |\n"
    (row,) = build_script(src)
    assert src[row.start : row.end] == "Alice | 30"


def test_code_block_sentence_covers_the_whole_fence():
    src = "```js\nlet a = 1;\n```\n"
    (s,) = build_script(src)
    assert (s.text, src[s.start : s.end]) == ("Code block.", "```js\nlet a = 1;\n```")


def test_sentences_carry_their_heading_and_group_by_it():
    src = "Preface.\n\n# One\n\nAy.\n\n## Two\n\nBee. Cee.\n"
    script = build_script(src)
    assert [s.heading for s in script] == [None, "One", "One", "Two", "Two", "Two"]
    groups = group_by_heading(script)
    assert [(h, [s.text for s in ss]) for h, ss in groups] == [
        (None, ["Preface."]),
        ("One", ["One.", "Ay."]),
        ("Two", ["Two.", "Bee.", "Cee."]),
    ]


def test_headings_pause_longer_than_paragraphs_and_sentences():
    rules = ReadingRules()
    script = build_script("# Head\n\nOne. Two.\n\nThree.", rules)
    assert [s.pause_after for s in script] == [
        rules.heading_pause,
        rules.sentence_pause,
        rules.block_pause,
        rules.block_pause,
    ]
    assert rules.heading_pause > rules.block_pause > rules.sentence_pause
    assert build_script("# Head", {"heading_pause": False})[0].pause_after == 0.0


def test_indices_are_consecutive():
    script = build_script("# A\n\nx. y.\n\n- z\n- w\n")
    assert [s.index for s in script] == list(range(len(script)))


def test_rules_from_a_dict_reject_unknown_keys_and_bad_values():
    assert ReadingRules.from_dict({"code_blocks": "skip"}).code_blocks == "skip"
    with pytest.raises(BadInput, match="valid rules"):
        ReadingRules.from_dict({"code_block": "skip"})
    with pytest.raises(BadInput, match="announce, read, skip"):
        ReadingRules(code_blocks="shout")
    with pytest.raises(BadInput):
        ReadingRules(max_sentence_chars=5)
    with pytest.raises(BadInput):
        build_script("x", {"math": 3})


def test_rules_follow_the_daemon_settings():
    from ownvoice.config import load_config

    cfg = load_config().with_values(code_blocks="skip", links="announce", math="verbalize")
    rules = ReadingRules.from_config(cfg)
    assert (rules.code_blocks, rules.links, rules.math) == ("skip", "announce", "verbalize")


def test_very_long_sentences_are_cut_under_the_limit():
    clause = "this clause goes on and on without stopping"
    src = ", ".join([clause] * 40) + "."
    script = build_script(src, {"max_sentence_chars": 120})
    assert len(script) > 1 and all(len(s.text) <= 120 for s in script)
    assert " ".join(s.text for s in script).count("clause") == 40
    assert all(s.text.endswith((",", ".")) for s in script)


def test_one_huge_word_is_cut_hard():
    script = build_script("x" * 700)
    assert [len(s.text) for s in script] == [300, 300, 101]  # the last piece gets its period


def test_deeply_nested_lists_degrade_to_plain_reading(caplog):
    src = "- " * 1000 + "deep text\n\nafter"
    assert [s.text for s in build_script(src)] == ["deep text.", "after."]
    assert "plain text" in caplog.text


def test_thousand_level_indented_list_keeps_every_item():
    src = "".join("  " * i + f"- item {i}\n" for i in range(1000))
    script = build_script(src)
    assert [s.text for s in script[:2]] == ["item 0.", "item 1."] and len(script) == 1000
    assert src[script[999].start : script[999].end] == "item 999"


def test_recursion_error_in_the_parser_degrades_to_plain_text(monkeypatch):
    def boom(*a, **k):
        raise RecursionError("deep")

    monkeypatch.setattr(script_mod, "markdown_units", boom)
    assert [s.text for s in build_script("# T\n\n- a\n- b")] == ["T.", "a.", "b."]


def test_over_long_note_text_is_refused(monkeypatch):
    monkeypatch.setattr(script_mod, "MAX_NOTE_CHARS", 1000)
    with pytest.raises(TooLarge, match="limit"):
        build_script("a" * 1001)


def test_non_string_input_is_bad_input():
    with pytest.raises(BadInput):
        build_script(b"bytes")  # type: ignore[arg-type]


def test_the_quick_cleaning_check_knows_every_whitespace_character():
    other = re.compile(f"[{script_mod.OTHER_SPACES}]")
    wrong = [
        hex(o)
        for o in range(0x110000)
        if bool(other.match(chr(o))) != (chr(o).isspace() and o != 32)
    ]
    assert wrong == []


def test_control_characters_and_nul_are_not_spoken():
    script = build_script("Hello\x00 wor\x07ld\u200b. Bye\ufeff.")
    assert [s.text for s in script] == ["Hello world.", "Bye."]


def test_empty_and_punctuation_only_notes_have_no_sentences():
    assert build_script("") == []
    assert build_script("---\n\n***\n\n. , !") == []


def test_split_sentences_on_plain_text_returns_trimmed_code_point_spans():
    text = "  Dr. Who arrived.\n\nNext para 你好。再见！  "
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == ["Dr. Who arrived.", "Next para 你好。", "再见！"]


def test_split_sentences_lowercase_continuation_and_closers():
    text = 'Apples, pears, etc. are fruit. She asked "why?" and left. (It ended.) Fine.'
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Apples, pears, etc. are fruit.",
        'She asked "why?" and left.',
        "(It ended.)",
        "Fine.",
    ]


def test_split_sentences_respects_max_chars():
    text = "word " * 200
    out = split_sentences(text, max_chars=50)
    assert all(b - a <= 50 for a, b in out)
    assert " ".join(text[a:b] for a, b in out).split() == text.split()


def test_language_fallback_uses_unicode_scripts():
    assert _fallback_detect_lang("Hello there") == "en"
    assert _fallback_detect_lang("今日はいい天気") == "ja"
    assert _fallback_detect_lang("今天天气很好") == "zh"
    assert _fallback_detect_lang("I use 中文 rarely in long English sentences") == "en"


def test_math_verbalizer_reads_simple_latex_and_gives_up_politely():
    assert verbalize_math("x^2 + 1 = y") == "x squared plus 1 equals y"
    assert verbalize_math("\\frac{1}{2}") == "1 over 2"
    assert verbalize_math("a_{i} \\times \\beta") == "a sub i times beta"
    assert verbalize_math("") == "formula"
    assert verbalize_math("x" * 1000) == "formula"


def test_fast_sentence_constructor_builds_the_same_sentence():
    fast = _sentence(3, "Hello.", "en", 4, 10, "Intro", 0.4)
    slow = Sentence(3, "Hello.", "en", 4, 10, "Intro", 0.4)
    assert fast == slow and hash(fast) == hash(slow) and fast.to_dict() == slow.to_dict()
    with pytest.raises(AttributeError):
        fast.text = "changed"  # still frozen


def test_garbage_collection_is_paused_while_building_and_restored_after():
    assert gc.isenabled()
    with _gc_paused():
        with _gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()
