"""Denoising training recordings with NSNet2, on real speech: noise goes, speech stays, and
``prepare_recordings`` cleans only the noisy files unless told otherwise."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from ownvoice.engine.preprocess import gate, prepare_recordings
from ownvoice.engine.preprocess.decode import decode
from ownvoice.engine.preprocess.denoise import denoise, denoise_pair
from ownvoice.engine.preprocess.vad import speech_regions

NOISY = "en/librispeech-2609/2609-156975-0004.wav"  # speech ~13 dB above a steady hiss
CLEAN = "en/librispeech-2033/2033-164914-0001.wav"  # ~58 dB
FULL_BAND = "en/ljspeech/LJ001-0001.wav"  # 22.05 kHz


def _levels(x16: np.ndarray, regions) -> gate.LevelStats:
    power = gate.frame_power(x16)
    return gate.level_stats(power, gate.frame_mask(len(power), regions))


def test_nsnet2_lowers_real_background_noise_and_keeps_the_speech(speech_dir):
    x = decode(speech_dir / NOISY, rates=(16000,)).at(16000)
    regions = speech_regions(x)  # judged on the recording as made, as preprocessing does
    before = _levels(x, regions)
    y = denoise(x, 16000)
    after = _levels(y, regions)
    assert len(y) == len(x) and y.dtype == np.float32 and np.isfinite(y).all()
    assert before.snr_db < 20
    assert after.noise_dbfs < before.noise_dbfs - 20, (before, after)
    assert abs(after.speech_dbfs - before.speech_dbfs) < 1.5, (before, after)


def test_nsnet2_at_48k_keeps_a_clean_full_band_recording_nearly_unchanged(speech_dir):
    dec = decode(speech_dir / FULL_BAND, rates=(24000, 16000))
    x24, x16 = dec.at(24000), dec.at(16000)
    c24, c16 = denoise_pair(x24, x16, dec.source_rate)
    assert (len(c24), len(c16)) == (len(x24), len(x16))
    # Speech keeps its level and most of its waveform; nothing is cut to 8 kHz.
    err = np.sum((c24 - x24) ** 2) / np.sum(x24**2)
    assert err < 0.1, err
    spec = lambda v: np.abs(np.fft.rfft(v))  # noqa: E731
    band = lambda s, lo, hi: s[int(lo / 12000 * (len(s) - 1)) : int(hi / 12000 * (len(s) - 1))].sum()  # noqa: E731
    s_in, s_out = spec(x24), spec(c24)
    assert band(s_out, 8500, 10500) > 0.5 * band(s_in, 8500, 10500)


def test_denoise_refuses_rates_it_has_no_model_for():
    with pytest.raises(ValueError, match="16000 or 48000"):
        denoise(np.zeros(100, np.float32), 24000)
    assert len(denoise(np.zeros(0, np.float32), 16000)) == 0


def test_prepare_denoises_only_noisy_files_by_default_and_obeys_on_and_off(speech_dir, tmp_path):
    paths = []
    for rel in (NOISY, CLEAN):
        p = tmp_path / rel.rsplit("/", 1)[1]
        shutil.copy(speech_dir / rel, p)
        paths.append(p)  # no transcripts for these clips: Whisper hears the cleaned audio
    auto = prepare_recordings(paths, "en")
    assert [r.denoised for r in auto.report] == [True, False]
    assert "(whisper, denoised)" in auto.summary()
    off = prepare_recordings(paths, "en", denoise=False)
    assert [r.denoised for r in off.report] == [False, False]
    assert [r.denoised for r in prepare_recordings(paths, "en", denoise=True).report] == [True, True]

    # The noisy file trains on cleaned audio at both rates: its quietest samples are much quieter.
    def floor(v: np.ndarray) -> float:
        return float(np.sort(np.abs(v))[: len(v) // 10].mean())

    cleaned, raw = auto.segments[0], off.segments[0]
    assert cleaned.source == raw.source == str(paths[0])
    assert floor(cleaned.audio_16k) < 0.3 * floor(raw.audio_16k)
    assert floor(cleaned.audio_24k) < 0.3 * floor(raw.audio_24k)
