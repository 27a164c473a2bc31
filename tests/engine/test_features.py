"""Frame features on Kokoro's grid: log-mel, F0 of real voices, energy, speaker-normalized MFCC."""

from __future__ import annotations

import numpy as np
import pytest

from ownvoice.engine import features
from ownvoice.engine.preprocess.decode import decode
from ownvoice.errors import BadInput

FEMALE = [
    "en/ljspeech/LJ001-0004.wav",
    "en/librispeech-533/533-1066-0000.wav",
    "en/librispeech-3080/3080-5032-0000.wav",
]
MALE = [
    "en/librispeech-2033/2033-164914-0000.wav",
    "en/librispeech-3005/3005-163389-0000.wav",
    "en/librispeech-2609/2609-156975-0000.wav",
]


def _load(speech_dir, rel: str) -> np.ndarray:
    path = speech_dir / rel
    if not path.exists():
        pytest.skip(f"{rel} missing from the speech corpus")
    return decode(path, rates=(24000,)).at(24000)


def test_log_mel_has_kokoro_framing_and_normalization(speech_dir):
    x = _load(speech_dir, FEMALE[0])
    mel = features.log_mel(x)
    assert mel.shape == (80, len(x) // 300 + 1)
    assert np.isfinite(mel).all()
    # (log(1e-5 + power) + 4) / 4: digital silence sits at the floor, speech well above it.
    assert mel.min() >= (np.log(1e-5) + 4) / 4 - 1e-4
    assert np.percentile(mel, 99) > 1.0
    # Audio of F duration frames (600 samples each) has 2F + 1 centred mel frames.
    assert features.log_mel(np.zeros(600 * 50, dtype=np.float32)).shape[1] == 101


def test_mel_filterbank_equals_htk_filters_without_normalization():
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(
        sr=24000, n_fft=2048, n_mels=80, htk=True, norm=None, fmin=0, fmax=12000
    )
    np.testing.assert_allclose(features.mel_filterbank().numpy(), ref.T, atol=1e-6)


def test_f0_of_real_female_and_male_speakers_is_in_plausible_ranges(speech_dir):
    med = {}
    for sex, rels in (("female", FEMALE), ("male", MALE)):
        med[sex] = []
        for rel in rels:
            x = _load(speech_dir, rel)
            f0 = features.f0(x)
            assert f0.shape == (len(x) // 300 + 1,)
            voiced = f0[f0 > 0]
            assert 0.25 < len(voiced) / len(f0) < 0.95, rel
            # StoneMask may refine slightly past the search range.
            assert voiced.min() >= 50 and voiced.max() <= features.F0_CEIL * 1.1
            med[sex].append(float(np.median(voiced)))
    assert all(150 <= m <= 300 for m in med["female"]), med
    assert all(80 <= m <= 165 for m in med["male"]), med
    assert min(med["female"]) > max(med["male"])


def test_f0_ignores_mains_hum(speech_dir):
    """librispeech-2609 has a strong 60 Hz hum; without the high-pass DIO reports 60 Hz throughout."""
    x = _load(speech_dir, MALE[2])
    voiced = features.f0(x)
    assert np.median(voiced[voiced > 0]) > 90


def test_f0_is_zero_on_silence():
    assert not features.f0(np.zeros(24000, dtype=np.float32)).any()


def test_energy_follows_loudness_and_silence(speech_dir):
    x = _load(speech_dir, FEMALE[0])
    e = features.energy(x)
    assert e.shape == (len(x) // 300 + 1,)
    louder = features.energy(x * 4.0)
    speech = e > np.percentile(e, 50)
    # log |mel| scales with log(gain) where speech dominates the 1e-5 floor.
    assert np.median(louder[speech] - e[speech]) == pytest.approx(np.log(4.0), abs=0.05)
    assert features.energy(np.zeros(24000, dtype=np.float32)).max() < np.percentile(e, 10)


def test_mfcc_is_cmvn_normalized_and_ignores_gain(speech_dir):
    x = _load(speech_dir, FEMALE[0])
    m = features.mfcc(x)
    assert m.shape == (len(x) // 600 + 1, 24)  # c1-c12 + deltas at the 600-sample frame
    np.testing.assert_allclose(m.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(m.std(axis=0), 1, atol=1e-3)
    # A gain is a constant in log-mel, which CMVN removes (up to the 1e-5 floor in near-silence).
    e = features.energy(x, hop=600)
    loud = e > np.median(e)
    assert np.median(np.abs(features.mfcc(x * 0.25) - m)[loud]) < 0.05


def test_features_refuse_bad_audio():
    for bad in (
        np.zeros((2, 100), dtype=np.float32),
        np.zeros(0, dtype=np.float32),
        np.array([0.0, np.inf, 0.0]),
    ):
        with pytest.raises(BadInput):
            features.log_mel(bad)
    with pytest.raises(BadInput):
        features.f0(np.array([np.nan] * 1000))
