"""LoRA at inference: a voice's adapter changes the audio, identically on the fast and torch paths.

The adapter is real peft output: LoRA attached to the stock model (style projections, duration
projection and the non-dilated decoder convs), B initialised to small random values instead of
zeros so that it changes the sound, saved with ``save_adapter`` as training does.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

PHONEMES = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˈOvəɹ ðə lˈAzi dˈɔɡ."


@dataclass
class _Voice:
    """The two things the engine reads from a stored voice."""

    pack: np.ndarray
    lora: Path | None = None

    def style(self) -> np.ndarray:
        return self.pack

    def lora_dir(self) -> Path | None:
        return self.lora


def _log_mel(audio: np.ndarray) -> np.ndarray:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_parity import _log_mel as log_mel

    return log_mel(audio)


def _mel_distance(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.abs(_log_mel(a[:n]) - _log_mel(b[:n])).mean())


@pytest.fixture(scope="module")
def models(models_cache) -> Path:
    return models_cache


@pytest.fixture(scope="module")
def torch_engine(models):
    from ownvoice.engine.kokoro.runtime import KokoroEngine

    return KokoroEngine(threads=2, cache_dir=models).load()


@pytest.fixture(scope="module")
def fast_engine(models, torch_engine):
    from ownvoice.engine.kokoro.fast import FastKokoroEngine

    return FastKokoroEngine(threads=2, cache_dir=models, precision="fp32").load()  # parity: fp32 both


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, torch_engine) -> Path:
    import torch

    from ownvoice.engine.clone import lora

    torch.manual_seed(0)  # peft draws lora_A from the global generator
    peft_model = lora.attach(copy.deepcopy(torch_engine.model), convs=True)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
    return lora.save_adapter(peft_model, tmp_path_factory.mktemp("voice") / "lora")


@pytest.fixture(scope="module")
def voices():
    from ownvoice.engine.kokoro.runtime import stock_voices

    return stock_voices()


def _same_until_durations_differ(a, b) -> tuple[np.ndarray, np.ndarray, float]:
    """Both audios up to the first token whose frame count differs, and the share of equal tokens.

    fp32 runtimes differ in the last bits, which can flip a duration that sits at .5 frames.
    """
    same = a.durations == b.durations
    first = int(np.argmin(same)) if not same.all() else len(same)
    end = int(a.durations[:first].sum()) * a.hop
    return a.audio[:end], b.audio[:end], float(same.mean())


def test_lora_voice_on_the_fast_path_equals_the_merged_torch_model(fast_engine, torch_engine, adapter, voices):
    from ownvoice.engine import Engine
    from ownvoice.engine.clone.lora import load_merged

    pack = voices["jf_alpha"]
    fast = fast_engine.synthesize(PHONEMES, pack, adapter=adapter)
    merged = load_merged(torch_engine.model, adapter)
    ref = torch_engine.synthesize(PHONEMES, pack, model=merged)
    a, b, equal = _same_until_durations_differ(fast, ref)
    assert equal >= 0.95 and len(a) >= 0.5 * len(ref.audio)
    assert _mel_distance(a, b) <= 0.02  # fp32 both: measured ~0.002 (int8 vs torch is ~0.12)
    # and the facade passes the voice's adapter through
    assert np.array_equal(Engine(fast_engine).speak_phonemes(PHONEMES, _Voice(pack, adapter)), fast.audio)


def test_lora_voice_sounds_different_from_its_style_alone(fast_engine, adapter, voices):
    from ownvoice.engine import Engine

    engine = Engine(fast_engine)
    pack = voices["jf_alpha"]
    with_lora = engine.speak_phonemes(PHONEMES, _Voice(pack, adapter))
    style_only = engine.speak_phonemes(PHONEMES, _Voice(pack))
    other_voice = engine.speak_phonemes(PHONEMES, _Voice(voices["jm_kumo"]))
    assert np.isfinite(with_lora).all() and np.abs(with_lora).max() > 0.01
    changed = _mel_distance(with_lora, style_only)
    assert changed >= 0.1, changed  # far beyond the fp32 noise floor of ~0.002
    assert _mel_distance(other_voice, style_only) >= 0.1  # the yardstick: another voice


def test_torch_fallback_applies_the_same_adapter(torch_engine, fast_engine, adapter, voices):
    from ownvoice.engine import Engine

    voice = _Voice(voices["jf_alpha"], adapter)
    fallback = Engine(torch_engine).speak_phonemes(PHONEMES, voice)
    fast = Engine(fast_engine).speak_phonemes(PHONEMES, voice)
    assert abs(len(fallback) - len(fast)) <= 2 * 600  # at most a rounding flip or two
    assert _mel_distance(fallback, fast) <= 0.3  # misaligned after a flip, yet the same voice


def test_adapted_sessions_are_cached_per_adapter_and_bounded(fast_engine, adapter, tmp_path):
    import shutil

    from ownvoice.engine.kokoro import fast

    first = fast_engine._sessions(adapter)
    assert fast_engine._sessions(adapter) is first  # warm: no second merge or session build
    copies = []
    for i in range(fast.ADAPTED_SESSIONS + 1):  # other voices' adapters push the oldest out
        copies.append(shutil.copytree(adapter, tmp_path / f"v{i}" / "lora"))
        fast_engine._sessions(copies[-1])
    assert len(fast_engine._adapted) == fast.ADAPTED_SESSIONS
    fast_engine.clear_adapters()
    assert not fast_engine._adapted


def test_adapter_that_does_not_fit_the_model_is_bad_input(fast_engine, adapter, tmp_path):
    import json
    import shutil

    from ownvoice.errors import BadInput

    broken = shutil.copytree(adapter, tmp_path / "lora")
    (broken / "adapter_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(BadInput):
        fast_engine._sessions(broken)
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    cfg["use_dora"] = True
    dora = shutil.copytree(adapter, tmp_path / "dora")
    (dora / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(BadInput):
        fast_engine._sessions(dora)
