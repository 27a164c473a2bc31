import numpy as np

from ownvoice.engine import split_phonemes
from ownvoice.speech import (
    SENTENCE_GAP,
    ScriptSentence,
    SentenceAudio,
    SpeechBuilder,
    split_head,
)


def test_short_phonemes_are_one_piece():
    assert split_phonemes("həlˈO wˈɜɹld.", 510) == ["həlˈO wˈɜɹld."]
    assert split_phonemes("   ", 510) == []


def test_long_phonemes_split_at_punctuation_then_spaces_never_dropped():
    words = ["wˈɜɹd"] * 300
    text = " ".join(words[:150]) + ". " + " ".join(words[150:])
    pieces = split_phonemes(text, 510)
    assert all(len(p) <= 510 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
    assert pieces[0].endswith(".") or len(pieces[0]) > 400


def test_one_enormous_word_is_cut_not_dropped():
    pieces = split_phonemes("a" * 1200, 510)
    assert [len(p) for p in pieces] == [510, 510, 180]


def test_first_sentence_head_is_its_first_words_cut_at_a_clause_mark():
    src = "When it starts, the daemon loads the model and warms the cache. Next sentence."
    first = src.index("Next")
    s = ScriptSentence(0, src[:first].strip(), "en", 0, first - 1)
    (head, h0, h1), (rest, r0, r1) = split_head(s, src)
    assert head == "When it starts," and rest.startswith("the daemon loads")
    assert (h0, h1, r1) == (0, r0, first - 1) and src[r0:].startswith("the daemon")


def test_first_sentence_head_is_cut_before_a_function_word_or_after_four_words():
    src = "Quiet rivers carry the evening light toward the sea."
    (head, _, mid), (rest, _, _) = split_head(ScriptSentence(0, src, "en", 0, len(src)), src)
    assert head == "Quiet rivers carry" and rest == "the evening light toward the sea."
    assert src[mid:] == rest
    src = "Seven brave purple dragons slept soundly through winter nights."
    (head, _, _), _ = split_head(ScriptSentence(0, src, "en", 0, len(src)), src)
    assert head == "Seven brave purple dragons"


def test_short_sentences_and_cjk_without_a_clause_mark_are_not_cut():
    src = "A short one here, really."
    assert split_head(ScriptSentence(0, src, "en", 0, len(src)), src) is None
    zh = "今天天气很好我们去公园散步吧"
    assert split_head(ScriptSentence(0, zh, "zh", 0, len(zh)), zh) is None
    zh = "今天天气很好，我们去公园散步吧。"
    (head, _, _), (rest, _, _) = split_head(ScriptSentence(0, zh, "zh", 0, len(zh)), zh)
    assert head == "今天天气很好，" and rest == "我们去公园散步吧。"


def test_parts_of_a_split_sentence_join_into_one_timing_without_a_gap():
    sr = 24000
    chunks = [
        SentenceAudio(0, "Quiet rivers carry", "en", 0, 19, np.ones(sr, np.float32), part=0, last=False),
        SentenceAudio(0, "the evening light.", "en", 19, 37, np.ones(sr, np.float32), part=1),
        SentenceAudio(1, "Next.", "en", 38, 43, np.ones(sr // 2, np.float32)),
    ]
    b = SpeechBuilder()
    for c in chunks:
        b.add(c)
    speech = b.build()
    first, second = speech.sentences
    assert (first.index, first.start, first.end, first.t0, first.t1) == (0, 0, 37, 0.0, 2.0)
    assert first.text == "Quiet rivers carry the evening light."
    assert second.index == 1 and abs(second.t0 - (2.0 + SENTENCE_GAP)) < 1e-6
    assert len(speech.samples) == 2 * sr + int(SENTENCE_GAP * sr) + sr // 2
