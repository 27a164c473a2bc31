import numpy as np

from ownvoice.engine import split_phonemes
from ownvoice.speech import (
    SENTENCE_GAP,
    SentenceAudio,
    SpeechBuilder,
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


def test_chunks_of_a_streamed_sentence_join_into_one_timing_without_a_gap():
    sr = 24000
    chunks = [
        SentenceAudio(0, "Quiet rivers carry the evening light.", "en", 0, 37, np.ones(sr, np.float32),
                      part=0, last=False),
        SentenceAudio(0, "Quiet rivers carry the evening light.", "en", 0, 37, np.ones(sr // 2, np.float32),
                      part=1, last=False),
        SentenceAudio(0, "Quiet rivers carry the evening light.", "en", 0, 37, np.ones(sr // 2, np.float32),
                      part=2),
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
