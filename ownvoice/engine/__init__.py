"""The model runtime: a voice-aware facade over the Kokoro-82M torch model.

Inference runs the pretrained int8 ONNX under onnxruntime (``engine.onnx_engine``); G2P in ``engine.g2p``; the cloning pipeline
in ``engine.preprocess``, ``engine.align``, ``engine.clone``. This facade turns (phonemes, voice,
speed) into audio: it picks the voice's style, applies its LoRA adapter, and splits phoneme strings
longer than the model's context at word boundaries instead of truncating them.
"""

from __future__ import annotations

import logging
import re
import threading

import numpy as np

_LOGGER = logging.getLogger(__name__)

ENGINE_NAME = "kokoro-82m"
ENGINE_VERSION = "kokoro-82m-1.0/ov1"  # bump when output for the same input changes (cache key)
_BREAKS = re.compile(r"(?<=[.!?;:,—…])\s+|\s+")


def split_phonemes(phonemes: str, max_len: int) -> list[str]:
    """Split a phoneme string into pieces of at most ``max_len`` symbols, preferring punctuation."""
    phonemes = phonemes.strip()
    if len(phonemes) <= max_len:
        return [phonemes] if phonemes else []
    pieces: list[str] = []
    rest = phonemes
    while len(rest) > max_len:
        window = rest[: max_len + 1]
        cut = -1
        for pattern in (r"[.!?;:—…]\s", r",\s", r"\s"):
            found = [m.end() for m in re.finditer(pattern, window)]
            if found and found[-1] > max_len // 4:
                cut = found[-1]
                break
        if cut <= 0:
            cut = max_len  # one enormous "word": cut it rather than drop it
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return [p for p in pieces if p]


class Engine:
    """Speaks phonemes in a stored voice; holds the warm model and any LoRA'd copies."""

    def __init__(self, model) -> None:
        self.model = model
        self.sample_rate = model.sample_rate
        self._lock = threading.Lock()
        import inspect

        self._takes_adapter = "adapter" in inspect.signature(model.synthesize).parameters
        if not self._takes_adapter:
            _LOGGER.info("this runtime cannot apply LoRA adapters; voices speak with their fitted style")

    @property
    def max_tokens(self) -> int:
        return int(getattr(self.model, "max_tokens", 510))

    def speak_phonemes(self, phonemes: str, voice, speed: float = 1.0) -> np.ndarray:
        style = voice.style()
        adapter = voice.lora_dir() if hasattr(voice, "lora_dir") else None
        parts = []
        for piece in split_phonemes(phonemes, self.max_tokens):
            kwargs = {"adapter": adapter} if adapter is not None and self._takes_adapter else {}
            out = self.model.synthesize(piece, style, speed, **kwargs)
            parts.append(np.asarray(out.audio, dtype=np.float32))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts)


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def load_engine(threads: int | None = None) -> Engine:
    """The process-wide engine, loaded on first use and kept warm."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from .onnx_engine import OnnxKokoroEngine

            _ENGINE = Engine(OnnxKokoroEngine(threads=threads).load())
        return _ENGINE
