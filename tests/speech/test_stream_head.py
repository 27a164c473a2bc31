"""Streamed speech says an uncached first sentence in the chunks the engine decodes it in.

The engine here is a test double that returns a tone as long as its phoneme input, in three
chunks when streamed (the real engine's chunking has its own tests in tests/engine); G2P, cache
and Speaker are the real ones.
"""

from __future__ import annotations

import numpy as np

from ownvoice.config import load_config
from ownvoice.notes.cache import AudioCache
from ownvoice.speech import Speaker, SpeechBuilder
from tone_engine import ToneEngine

TEXT = "Quiet rivers carry the evening light toward the sea. It is late."
FIRST = "Quiet rivers carry the evening light toward the sea."


def _speaker(tmp_path) -> tuple[Speaker, ToneEngine]:
    engine = ToneEngine()
    cache = AudioCache(tmp_path / "cache", 64 << 20)
    return Speaker(load_config(), engine=engine, cache=cache), engine


def test_uncached_first_sentence_streams_in_chunks_with_its_index_text_and_span(tmp_path):
    speaker, engine = _speaker(tmp_path)
    chunks = list(speaker.stream(TEXT, chunk_first=True))
    assert [(c.index, c.part, c.last) for c in chunks] == [(0, 0, False), (0, 1, False), (0, 2, True), (1, 0, True)]
    assert {(c.text, c.start, c.end) for c in chunks[:3]} == {(FIRST, 0, len(FIRST))}
    assert TEXT[chunks[3].start : chunks[3].end] == "It is late."
    assert len(engine.calls) == 2 and speaker.synth_calls == 2

    # The first sentence is cached whole: a replay makes no model call and is not chunked.
    voice = speaker.resolve_voice("default", "en")
    assert speaker.is_cached(FIRST, "en", voice)
    replay = list(speaker.stream(TEXT, chunk_first=True))
    assert len(engine.calls) == 2 and [(c.index, c.part) for c in replay] == [(0, 0), (1, 0)]
    np.testing.assert_array_equal(replay[0].samples, np.concatenate([c.samples for c in chunks[:3]]))


def test_a_stream_cancelled_mid_sentence_caches_nothing(tmp_path):
    speaker, engine = _speaker(tmp_path)
    seen = []
    stream = speaker.stream(TEXT, chunk_first=True, cancelled=lambda: len(seen) >= 1)
    for chunk in stream:
        seen.append(chunk)
    assert [c.part for c in seen] == [0]
    voice = speaker.resolve_voice("default", "en")
    assert not speaker.is_cached(FIRST, "en", voice)  # half a sentence is never served later
    assert engine.chunks_made == 1  # and no chunk was decoded after the cancel


def test_a_stream_the_client_stops_reading_releases_the_engine(tmp_path):
    speaker, engine = _speaker(tmp_path)
    stream = speaker.stream(TEXT, chunk_first=True)
    next(stream)
    stream.close()  # e.g. the HTTP client went away: the engine's generator is closed too
    assert engine.chunks_made == 1
    assert speaker._model_lock.acquire(blocking=False)
    speaker._model_lock.release()


def test_a_first_sentence_already_cached_whole_is_not_chunked(tmp_path):
    speaker, engine = _speaker(tmp_path)
    voice = speaker.resolve_voice("default", "en")
    speaker.synthesize_sentence(FIRST, "en", voice)  # e.g. pre-rendered by the note watcher
    chunks = list(speaker.stream(TEXT, chunk_first=True))
    assert [(c.index, c.part) for c in chunks] == [(0, 0), (1, 0)] and chunks[0].text == FIRST
    assert len(engine.calls) == 2 and engine.chunks_made == 0


def test_buffered_speech_is_not_chunked_and_streamed_chunks_join_into_one_timing(tmp_path):
    speaker, engine = _speaker(tmp_path)
    whole = speaker.speak(TEXT)
    assert engine.chunks_made == 0  # nothing to gain from chunks when all audio is sent at once
    other, _ = _speaker(tmp_path / "other")
    builder = SpeechBuilder()
    for chunk in other.stream(TEXT, chunk_first=True):
        builder.add(chunk)
    speech = builder.build()
    assert [s.index for s in speech.sentences] == [0, 1]
    first = speech.sentences[0]
    assert first.text == FIRST and (first.start, first.t0) == (0, 0.0)
    assert 0 < first.t1 < speech.sentences[1].t0 < speech.duration
    np.testing.assert_array_equal(speech.samples, whole.samples)
    assert [(s.t0, s.t1) for s in speech.sentences] == [(s.t0, s.t1) for s in whole.sentences]


def test_markdown_script_sentences_carry_their_heading(tmp_path):
    speaker, _ = _speaker(tmp_path)
    script = speaker.script("Before.\n\n# Intro\n\nHello there. Bye now.\n", markdown=True)
    by_text = {s.text: s.heading for s in script}
    assert by_text["Before."] is None
    assert by_text["Hello there."] == "Intro" and by_text["Bye now."] == "Intro"
    assert all(s.heading is None for s in speaker.script("Plain text. Two sentences."))
