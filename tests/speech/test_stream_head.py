"""Streamed speech says an uncached first sentence in two parts (its first words alone first).

The engine here is a test double that returns a tone as long as its phoneme input (the real
engine has its own tests); G2P, cache and Speaker are the real ones.
"""

from __future__ import annotations

import numpy as np

from ownvoice.config import load_config
from ownvoice.notes.cache import AudioCache
from ownvoice.speech import Speaker, SpeechBuilder

TEXT = "Quiet rivers carry the evening light toward the sea. It is late."


class ToneEngine:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def speak_phonemes(self, phonemes: str, voice, speed: float) -> np.ndarray:
        self.calls.append(phonemes)
        return np.full(len(phonemes) * 240, 0.1, np.float32)


def _speaker(tmp_path) -> tuple[Speaker, ToneEngine]:
    engine = ToneEngine()
    cache = AudioCache(tmp_path / "cache", 64 << 20)
    return Speaker(load_config(), engine=engine, cache=cache), engine


def test_uncached_first_sentence_streams_its_first_words_first_with_the_same_index(tmp_path):
    speaker, engine = _speaker(tmp_path)
    chunks = list(speaker.stream(TEXT, split_first=True))
    assert [(c.index, c.part, c.last) for c in chunks] == [
        (0, 0, False),
        (0, 1, True),
        (1, 0, True),
    ]
    head, rest, second = chunks
    assert head.text == "Quiet rivers carry" and rest.text.startswith("the evening light")
    assert (head.start, head.end, rest.start) == (0, TEXT.index("the evening"), head.end)
    assert TEXT[second.start : second.end] == "It is late."
    assert len(engine.calls) == 3

    # A replay is served from the cache: no model call at all.
    replay = list(speaker.stream(TEXT, split_first=True))
    assert len(engine.calls) == 3 and [c.text for c in replay] == [c.text for c in chunks]


def test_a_first_sentence_already_cached_whole_is_not_split(tmp_path):
    speaker, engine = _speaker(tmp_path)
    voice = speaker.resolve_voice("default", "en")
    first = "Quiet rivers carry the evening light toward the sea."
    speaker.synthesize_sentence(first, "en", voice)  # e.g. pre-rendered by the note watcher
    chunks = list(speaker.stream(TEXT, split_first=True))
    assert [(c.index, c.part) for c in chunks] == [(0, 0), (1, 0)] and chunks[0].text == first
    assert len(engine.calls) == 2


def test_buffered_speech_is_not_cut_and_joins_streamed_parts_into_one_timing(tmp_path):
    speaker, engine = _speaker(tmp_path)
    speaker.speak("Seven brave purple dragons slept soundly through winter nights.")
    assert len(engine.calls) == 1  # nothing to gain from a cut when all audio is sent at once
    list(speaker.stream(TEXT, split_first=True))  # the parts are cached now
    builder = SpeechBuilder()
    for chunk in speaker.stream(TEXT, split_first=True):
        builder.add(chunk)
    speech = builder.build()
    assert [s.index for s in speech.sentences] == [0, 1]
    first = speech.sentences[0]
    assert first.text == "Quiet rivers carry the evening light toward the sea."
    assert (first.start, first.t0) == (0, 0.0) and TEXT[first.start : first.end] == first.text
    assert 0 < first.t1 < speech.sentences[1].t0 < speech.duration


def test_markdown_script_sentences_carry_their_heading(tmp_path):
    speaker, _ = _speaker(tmp_path)
    script = speaker.script("Before.\n\n# Intro\n\nHello there. Bye now.\n", markdown=True)
    by_text = {s.text: s.heading for s in script}
    assert by_text["Before."] is None
    assert by_text["Hello there."] == "Intro" and by_text["Bye now."] == "Intro"
    assert all(s.heading is None for s in speaker.script("Plain text. Two sentences."))
