"""Find speech in a 16 kHz recording with silero-vad (weights ship in the silero-vad wheel)."""

from __future__ import annotations

import importlib.resources
import logging
import threading
from pathlib import Path

import numpy as np

from ...errors import MissingDependency
from .checksum import verify_file

_LOGGER = logging.getLogger(__name__)

VAD_RATE = 16000  # Hz
# silero-vad 6.2.3 package data (WEIGHTS.md §3). ONNX runs ~3x faster than the JIT here.
_ONNX = ("silero_vad.onnx", "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3")
_JIT = ("silero_vad.jit", "e1122837f4154c511485fe0b9c64455f7b929c96fbb8d79fbdb336383ebd3720")

_MODEL = None
_LOCK = threading.Lock()  # the model keeps recurrent state: one caller at a time


def _load():
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    try:
        from silero_vad import utils_vad
    except ImportError as e:
        raise MissingDependency(
            "voice training needs silero-vad: pip install silero-vad==6.2.3"
        ) from e
    data = importlib.resources.files("silero_vad.data")
    try:
        import onnxruntime  # noqa: F401

        name, sha = _ONNX
        path = verify_file(Path(str(data.joinpath(name))), sha, "silero-vad")
        _MODEL = utils_vad.OnnxWrapper(str(path), force_onnx_cpu=True)
    except ImportError:
        name, sha = _JIT
        path = verify_file(Path(str(data.joinpath(name))), sha, "silero-vad")
        _MODEL = utils_vad.init_jit_model(str(path))
    _LOGGER.info("loaded silero-vad (%s)", name)
    return _MODEL


def speech_regions(
    audio_16k: np.ndarray,
    threshold: float = 0.5,
    min_speech_ms: int = 250,
    min_silence_ms: int = 200,
    pad_ms: int = 80,
) -> list[tuple[int, int]]:
    """Speech regions as (start, end) sample indices at 16 kHz, in order, not overlapping."""
    import torch

    x = np.ascontiguousarray(audio_16k, dtype=np.float32)
    if len(x) < 512:  # shorter than one VAD window: nothing to judge
        return []
    with _LOCK:
        model = _load()
        stamps = _get_speech_timestamps(
            torch, model, x, threshold, min_speech_ms, min_silence_ms, pad_ms
        )
    regions: list[tuple[int, int]] = []
    for s in stamps:
        start, end = int(s["start"]), min(int(s["end"]), len(x))
        if regions and start <= regions[-1][1]:  # padding can make neighbours touch
            regions[-1] = (regions[-1][0], max(end, regions[-1][1]))
        elif end > start:
            regions.append((start, end))
    return regions


def _get_speech_timestamps(torch, model, x, threshold, min_speech_ms, min_silence_ms, pad_ms):
    from silero_vad import get_speech_timestamps

    with torch.inference_mode():
        return get_speech_timestamps(
            torch.from_numpy(x),
            model,
            threshold=threshold,
            sampling_rate=VAD_RATE,
            min_speech_duration_ms=min_speech_ms,
            min_silence_duration_ms=min_silence_ms,
            speech_pad_ms=pad_ms,
        )
