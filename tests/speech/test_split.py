from ownvoice.engine import split_phonemes
from ownvoice.speech import ScriptSentence, _split_first


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


def test_long_first_sentence_is_cut_at_a_clause_for_fast_first_audio():
    src = ("When the daemon starts in the morning, it loads the model and warms the cache, "
           "then it waits for requests. Next sentence.")
    first = src.index("Next")
    sents = [ScriptSentence(0, src[:first].strip(), "en", 0, first - 1), ScriptSentence(1, "Next sentence.", "en", first, len(src))]
    out = _split_first(sents, src)
    assert len(out) == 3
    assert out[0].text == "When the daemon starts in the morning,"
    assert out[1].text.startswith("it loads the model")
    assert [s.index for s in out] == [0, 1, 2]
    assert out[0].end == out[1].start and src[out[1].start:].startswith("it loads")
