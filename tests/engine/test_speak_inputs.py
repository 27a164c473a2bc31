"""Bad and unusual input through the public API: a clear ``ownvoice.errors`` error or sensible speech.

Empty, whitespace-only, punctuation/emoji-only and over-long text, an unknown voice or language
and an out-of-range speed are refused without loading the model; control characters, mixed
Mandarin/English, Mandarin and Japanese speak with the real model (slow) and give speech of a
plausible length; 200 000 characters stream their first sentence without holding the whole text's
audio in memory.
"""

from __future__ import annotations

import numpy as np
import pytest

from ownvoice.errors import BadInput, NotFound, OwnvoiceError, TooLarge


@pytest.fixture()
def speaker(tmp_path_factory, monkeypatch):
    """A ``Speaker`` in this test's fresh home that shares the session's models cache."""
    from ownvoice.speech import Speaker

    return Speaker()


class _NoEngine:
    """Fails the test if the speaker reaches for the model."""

    def __getattr__(self, name):
        raise AssertionError(f"the engine was used ({name}) for input that has nothing to say")


@pytest.fixture()
def no_engine_speaker(monkeypatch):
    from ownvoice.speech import Speaker

    return Speaker(engine=_NoEngine())


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n", "\u3000\u00a0"])
def test_empty_or_whitespace_text_is_bad_input(no_engine_speaker, text):
    with pytest.raises(BadInput, match="nothing to say"):
        no_engine_speaker.speak(text)


@pytest.mark.parametrize("text", ["?!...", "— … ; :", "🎉🎉🎉", "👍 🙂 ✨!!", "()[]{}<>"])
def test_only_punctuation_or_emoji_is_bad_input_without_reaching_the_model(no_engine_speaker, text):
    with pytest.raises(BadInput, match="nothing to say"):
        no_engine_speaker.speak(text)


def test_text_over_the_limit_is_too_large_before_any_work(no_engine_speaker):
    limit = int(no_engine_speaker.config.max_text_chars)
    with pytest.raises(TooLarge) as err:
        no_engine_speaker.speak("a" * (limit + 1))
    assert err.value.status == 413 and str(limit) in str(err.value)


def test_unknown_voice_is_not_found(no_engine_speaker):
    with pytest.raises(NotFound):
        no_engine_speaker.speak("Hello there.", voice="no-such-voice")


@pytest.mark.parametrize("lang", ["fr", "english", "", "EN"])
def test_unsupported_language_is_bad_input_naming_the_choices(no_engine_speaker, lang):
    with pytest.raises(BadInput, match="en"):
        no_engine_speaker.speak("Bonjour.", lang=lang)


@pytest.mark.parametrize("speed", [0, -1, 3.5, float("nan"), "fast"])
def test_speed_out_of_range_is_bad_input(no_engine_speaker, speed):
    with pytest.raises(BadInput):
        no_engine_speaker.speak("Hello there.", speed=speed)


def test_non_string_text_is_bad_input(no_engine_speaker):
    with pytest.raises(BadInput):
        no_engine_speaker.speak(b"bytes are not text")  # type: ignore[arg-type]


def _plausible(speech, text: str, min_cps: float = 2.0, max_cps: float = 30.0) -> None:
    assert np.isfinite(speech.samples).all() and np.abs(speech.samples).max() > 0.01
    chars = len("".join(text.split()))
    assert chars / max_cps <= speech.duration <= chars / min_cps, (text, speech.duration)


@pytest.mark.slow
def test_control_characters_are_ignored_and_the_words_spoken(speaker):
    text = "Hello\x00 there,\x07 how\x1b[31m are\u200b you?\x7f"
    speech = speaker.speak(text)
    clean = speaker.speak("Hello there, how are you?")
    assert abs(speech.duration - clean.duration) <= 0.6 * clean.duration
    _plausible(speech, "Hello there how are you")


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, lang",
    [
        ("我今天用 Python 写代码", "auto"),
        ("今天天气很好，我们去公园散步吧。", "zh"),
        ("こんにちは、今日は良い天気ですね。", "ja"),
    ],
)
def test_mandarin_japanese_and_mixed_text_give_speech_of_plausible_length(speaker, text, lang):
    speech = speaker.speak(text, lang=lang)
    # Mandarin and Japanese run at roughly 3-9 characters per second
    _plausible(speech, text, min_cps=1.5, max_cps=12.0)
    assert speech.sentences[0].lang in ("zh", "ja", "en")


@pytest.mark.slow
def test_200000_characters_stream_the_first_sentence_in_bounded_memory(speaker):
    import tracemalloc

    unit = "The quick brown fox jumps over the lazy dog. "
    text = (unit * (200_000 // len(unit) + 1))[:200_000]
    assert len(text) == int(speaker.config.max_text_chars)
    tracemalloc.start()
    try:
        chunks = speaker.stream(text)
        first = next(chunks)
        second = next(chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    chunks.close()
    assert first.samples.size > 0 and second.start >= first.end
    # the script of 4 400 sentences is a few MB; the audio of all of them would be ~1 GB
    assert peak < 150 << 20, peak


def test_every_refusal_is_an_ownvoice_error_with_an_http_status(no_engine_speaker):
    for call in (
        lambda: no_engine_speaker.speak(""),
        lambda: no_engine_speaker.speak("x", lang="fr"),
        lambda: no_engine_speaker.speak("x", voice="nope"),
    ):
        with pytest.raises(OwnvoiceError) as err:
            call()
        assert 400 <= err.value.status < 500
