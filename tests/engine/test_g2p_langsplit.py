"""Language runs inside a sentence and dominant-language detection (no G2P backend needed)."""

from __future__ import annotations

import pytest

from ownvoice.engine.g2p import detect_lang, split_runs
from ownvoice.errors import BadInput, TooLarge


def _runs(text: str, lang: str = "auto") -> list[tuple[str, str]]:
    return [(text[s:e], lg) for s, e, lg in split_runs(text, lang)]


def test_mandarin_sentence_with_an_english_word_is_three_runs() -> None:
    assert split_runs("我今天用 Python 写代码") == [(0, 4, "zh"), (5, 11, "en"), (12, 15, "zh")]


def test_japanese_sentence_with_an_english_word_is_three_runs() -> None:
    assert _runs("今日はPythonで書きます。") == [
        ("今日は", "ja"),
        ("Python", "en"),
        ("で書きます。", "ja"),
    ]


def test_pure_english_is_one_run_with_its_punctuation() -> None:
    text = "Hello world, I read the book yesterday."
    assert split_runs(text) == [(0, len(text), "en")]


def test_pure_kana_is_japanese() -> None:
    assert _runs("こんにちは、カタカナ") == [("こんにちは、カタカナ", "ja")]


def test_han_only_defaults_to_mandarin_and_follows_the_hint() -> None:
    assert _runs("中文汉字") == [("中文汉字", "zh")]
    assert _runs("東京大学", "ja") == [("東京大学", "ja")]
    assert _runs("東京大学", "zh") == [("東京大学", "zh")]


def test_han_in_a_sentence_with_kana_is_japanese() -> None:
    assert _runs("東京 と 大阪") == [("東京 と 大阪", "ja")]


def test_japanese_only_kanji_mark_han_text_as_japanese() -> None:
    assert _runs("東京駅") == [("東京駅", "ja")]
    assert _runs("东京站") == [("东京站", "zh")]


def test_hint_does_not_override_unambiguous_scripts() -> None:
    assert _runs("Hello 世界", "ja") == [("Hello", "en"), ("世界", "ja")]
    assert _runs("ひらがな", "zh") == [("ひらがな", "ja")]


def test_numbers_join_the_run_they_are_glued_to() -> None:
    assert _runs("I bought 3个苹果") == [("I bought", "en"), ("3个苹果", "zh")]
    assert _runs("用 Python 3.11 写代码") == [("用", "zh"), ("Python 3.11", "en"), ("写代码", "zh")]
    assert _runs("价格: 42.50元") == [("价格: 42.50元", "zh")]


def test_units_after_numbers_stay_in_cjk_runs() -> None:
    assert _runs("我买了5kg苹果") == [("我买了5kg苹果", "zh")]
    assert _runs("気温は-5°Cです") == [("気温は-5°Cです", "ja")]


def test_quotes_follow_the_words_they_enclose() -> None:
    assert _runs("他说“hello”然后走了。") == [
        ("他说", "zh"),
        ("“hello”", "en"),
        ("然后走了。", "zh"),
    ]


def test_run_offsets_point_into_the_input() -> None:
    text = "  Mixed 文字 and かな text.  "
    for start, end, _ in split_runs(text):
        assert text[start:end] == text[start:end].strip()
        assert 0 <= start < end <= len(text)


@pytest.mark.parametrize("text", ["", "   ", "!!!", "...", "🎉🎉", "\x00\x07\x1b", "\u200b\u200d"])
def test_nothing_speakable_gives_no_runs(text: str) -> None:
    assert split_runs(text) == []


def test_digits_alone_use_the_hint() -> None:
    assert split_runs("123") == [(0, 3, "en")]
    assert split_runs("123", "zh") == [(0, 3, "zh")]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The quick brown fox.", "en"),
        ("我今天用 Python 写代码", "zh"),
        ("今日はPythonで書きます。", "ja"),
        ("这是一个很长的中文句子，只有一个词 OK。", "zh"),
        ("I really love eating 寿司 on Fridays.", "en"),
        ("12345", "en"),
        ("東京駅", "ja"),
    ],
)
def test_detect_lang_finds_the_dominant_language(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_unknown_language_is_bad_input_listing_valid_ones() -> None:
    with pytest.raises(BadInput, match="en, zh, ja"):
        split_runs("hello", "fr")


def test_over_long_text_is_refused_with_a_clear_error() -> None:
    with pytest.raises(TooLarge, match="10000"):
        split_runs("a" * 10_001)
