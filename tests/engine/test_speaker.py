"""Speaker embeddings (resemblyzer GE2E): same speaker closer than different speakers, safe loading."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from ownvoice.engine import speaker
from ownvoice.engine.preprocess.decode import decode
from ownvoice.errors import BadInput, MissingDependency

SPEAKERS = {
    "ljspeech": ["en/ljspeech/LJ001-0001.wav", "en/ljspeech/LJ001-0005.wav"],
    "librispeech-2033": [
        "en/librispeech-2033/2033-164914-0000.wav",
        "en/librispeech-2033/2033-164914-0001.wav",
    ],
    "librispeech-3080": [
        "en/librispeech-3080/3080-5032-0000.wav",
        "en/librispeech-3080/3080-5032-0001.wav",
    ],
    "librispeech-3005": [
        "en/librispeech-3005/3005-163389-0000.wav",
        "en/librispeech-3005/3005-163389-0001.wav",
    ],
}


@pytest.fixture(scope="module")
def encoder() -> speaker.SpeakerEncoder:
    return speaker.get_encoder()


@pytest.fixture(scope="module")
def clips(speech_dir) -> dict[str, list[np.ndarray]]:
    return {
        spk: [decode(speech_dir / rel, rates=(16000,)).at(16000) for rel in rels]
        for spk, rels in SPEAKERS.items()
    }


@pytest.mark.slow
def test_embeddings_are_256d_unit_vectors(encoder, clips):
    v = encoder.embed(clips["ljspeech"][0])
    assert v.shape == (256,) and v.dtype == np.float32
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    assert (v >= 0).all()  # GE2E ends in a ReLU


@pytest.mark.slow
def test_same_speaker_clips_are_more_similar_than_different_speakers(encoder, clips):
    vecs = {spk: [encoder.embed(c) for c in cs] for spk, cs in clips.items()}
    same = [speaker.similarity(*vs) for vs in vecs.values()]
    names = list(vecs)
    diff = [speaker.similarity(vecs[a][0], vecs[b][1]) for a in names for b in names if a != b]
    assert min(same) > max(diff), (same, diff)
    assert np.mean(same) > 0.8 and np.mean(diff) < 0.75
    # Each clip's nearest other clip is from its own speaker.
    flat = [(spk, v) for spk, vs in vecs.items() for v in vs]
    for i, (spk, v) in enumerate(flat):
        best = max((speaker.similarity(v, w), s) for j, (s, w) in enumerate(flat) if j != i)
        assert best[1] == spk


@pytest.mark.slow
def test_matches_resemblyzers_own_encoder(encoder, clips, monkeypatch):
    """Our rebuild gives resemblyzer's numbers (its import needs webrtcvad: stub that out)."""
    monkeypatch.setitem(sys.modules, "webrtcvad", types.ModuleType("webrtcvad"))
    for name in [m for m in sys.modules if m == "resemblyzer" or m.startswith("resemblyzer.")]:
        monkeypatch.delitem(sys.modules, name)
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume

    ref = VoiceEncoder("cpu", verbose=False)
    # A normal clip, and one shorter than resemblyzer's 1.6 s partial.
    for wav in (clips["librispeech-3080"][0], clips["ljspeech"][0][:4000]):
        expected = ref.embed_utterance(normalize_volume(wav, -30, increase_only=True))
        assert float(encoder.embed(wav) @ expected) > 0.9999


@pytest.mark.slow
def test_embed_many_and_the_tagged_embedding_round_trip(encoder, clips):
    many = encoder.embed_many(clips["librispeech-2033"])
    assert np.linalg.norm(many) == pytest.approx(1.0, abs=1e-5)
    tagged = encoder.embedding(clips["librispeech-2033"])
    np.testing.assert_allclose(tagged.vector, many, atol=1e-6)
    assert (tagged.encoder, tagged.dim) == (speaker.ENCODER_NAME, 256)
    back = speaker.SpeakerEmbedding.from_dict(tagged.to_dict())
    assert speaker.similarity(back, tagged) == pytest.approx(1.0, abs=1e-6)
    other = speaker.SpeakerEmbedding(tagged.vector, "ecapa-tdnn", 256)
    with pytest.raises(BadInput, match="cannot compare"):
        speaker.similarity(tagged, other)


def test_bad_audio_and_bad_vectors_are_refused(encoder):
    with pytest.raises(BadInput, match="too short"):
        encoder.embed(np.zeros(100, dtype=np.float32))
    with pytest.raises(BadInput, match="NaN"):
        encoder.embed(np.full(16000, np.nan, dtype=np.float32))
    with pytest.raises(BadInput):
        encoder.embed(np.zeros((2, 16000), dtype=np.float32))
    with pytest.raises(BadInput):
        encoder.embed_many([])
    with pytest.raises(BadInput, match="shape"):
        speaker.similarity(np.ones(256), np.ones(192))
    with pytest.raises(BadInput):
        speaker.SpeakerEmbedding.from_dict({"encoder": "x", "dim": 256, "vector": [0.0] * 10})


def test_weights_with_the_wrong_checksum_are_refused(monkeypatch):
    monkeypatch.setattr(speaker, "_WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(MissingDependency, match="sha256"):
        speaker.SpeakerEncoder()
