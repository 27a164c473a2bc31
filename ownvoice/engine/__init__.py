"""The model runtime: a voice-aware facade over Kokoro-82M.

Inference runs our fp32 model exported to ONNX under onnxruntime (``kokoro.fast``), with each
voice's LoRA adapter applied; the torch model (``kokoro.runtime``) is the fallback and the
training path; the published int8 ONNX (``onnx_engine``) is only the speed/quality reference.
G2P in ``engine.g2p``; the cloning pipeline in ``engine.preprocess``, ``engine.align``,
``engine.clone``. This facade turns (phonemes, voice, speed) into audio: it picks the voice's
style, applies its LoRA adapter, and splits phoneme strings longer than the model's context at
word boundaries instead of truncating them.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from typing import Literal

import numpy as np

from .interrupt import Interrupt

# OpenMP workers that spin while waiting steal the cores other processes (or our second thread)
# need: on a loaded 2-core machine torch's LSTMs ran 90x slower. Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_LOGGER = logging.getLogger(__name__)

ENGINE_NAME = "kokoro-82m"
ENGINE_VERSION = "kokoro-82m-1.0/ov3"  # bump when output for the same input changes (cache key)
Backend = Literal["auto", "fast", "torch"]
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
    """Speaks phonemes in a stored voice; holds the warm model and any LoRA'd copies.

    ``model`` is a runtime with ``synthesize(phonemes, style, speed, ...)``: ``FastKokoroEngine``
    (takes ``adapter=``) or the torch ``KokoroEngine`` (takes ``model=``, the merged copy).
    """

    def __init__(self, model) -> None:
        import inspect

        self.model = model
        self.sample_rate = model.sample_rate
        params = inspect.signature(model.synthesize).parameters
        self._takes_adapter = "adapter" in params
        self._takes_model = "model" in params
        self._takes_interrupt = "interrupt" in params
        if not (self._takes_adapter or self._takes_model):
            _LOGGER.warning("%s cannot apply LoRA adapters; voices speak with their fitted style",
                            getattr(model, "name", type(model).__name__))

    @property
    def name(self) -> str:
        return str(getattr(self.model, "name", type(self.model).__name__))

    @property
    def max_tokens(self) -> int:
        return int(getattr(self.model, "max_tokens", 510))

    def _kwargs(self, voice) -> dict:
        adapter = voice.lora_dir() if hasattr(voice, "lora_dir") else None
        if adapter is None:
            return {}
        if self._takes_adapter:
            return {"adapter": adapter}
        if self._takes_model:
            from .clone.lora import apply_adapter

            return {"model": apply_adapter(self.model.model, adapter)}
        return {}

    def speak_phonemes(self, phonemes: str, voice, speed: float = 1.0,
                       interrupt: Interrupt | None = None) -> np.ndarray:
        """Audio for a phoneme string of any length in ``voice`` (style + LoRA adapter).
        ``interrupt`` lets another thread stop it (``Cancelled``; see ``engine.interrupt``)."""
        style = voice.style()
        kwargs = self._kwargs(voice)
        if interrupt is not None and self._takes_interrupt:
            kwargs["interrupt"] = interrupt
        parts = []
        for piece in split_phonemes(phonemes, self.max_tokens):
            if interrupt is not None:
                interrupt.check()
            # G2P only emits vocabulary symbols; a stray one is dropped (logged), not fatal
            out = self.model.synthesize(piece, style, speed, unknown="skip", **kwargs)
            parts.append(np.asarray(out.audio, dtype=np.float32))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts)

    def stream_phonemes(self, phonemes: str, voice, speed: float = 1.0) -> Iterator[tuple[np.ndarray, bool]]:
        """``speak_phonemes`` in pieces, as (audio, last) with ``last`` on the final one (at least
        one comes). A runtime that can (``FastKokoroEngine.stream``) decodes the first piece in
        growing chunks, the first as soon as possible; otherwise each piece comes whole. The
        pieces join into audio as long as ``speak_phonemes`` gives."""
        style = voice.style()
        kwargs = self._kwargs(voice)
        pieces = split_phonemes(phonemes, self.max_tokens)
        if not pieces:
            yield np.zeros(0, dtype=np.float32), True
            return
        for n, piece in enumerate(pieces):
            final = n == len(pieces) - 1
            if n == 0 and hasattr(self.model, "stream"):
                chunks = self.model.stream(piece, style, speed, unknown="skip", **kwargs)
                audio, last = next(chunks, (np.zeros(0, dtype=np.float32), True))
                while not last:
                    yield np.asarray(audio, dtype=np.float32), False
                    audio, last = next(chunks)
            else:
                audio = self.model.synthesize(piece, style, speed, unknown="skip", **kwargs).audio
            yield np.asarray(audio, dtype=np.float32), final


_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def make_engine(backend: Backend = "auto", threads: int | None = None, cache_dir=None) -> Engine:
    """A new engine: ``fast`` (fp32 ONNX, exported once per machine), ``torch``, or ``auto``.

    ``auto`` is ``fast`` and falls back to the torch model when the export or onnxruntime fails;
    both apply LoRA adapters and give the same audio (checked by the parity tests).
    """
    if backend not in ("auto", "fast", "torch"):
        from ..errors import BadInput

        raise BadInput(f"unknown engine backend {backend!r}; choose auto, fast or torch")
    if backend in ("auto", "fast"):
        from .kokoro.fast import FastKokoroEngine

        try:
            return Engine(FastKokoroEngine(threads=threads, cache_dir=cache_dir).load())
        except Exception as e:  # any export/runtime failure: the torch path still speaks
            if backend == "fast":
                raise
            _LOGGER.error("fast engine unavailable (%s: %s); using the torch model", type(e).__name__, e)
    from .kokoro.runtime import KokoroEngine

    return Engine(KokoroEngine(threads=threads or min(2, os.cpu_count() or 1), cache_dir=cache_dir).load())


def load_engine(threads: int | None = None, backend: Backend = "auto") -> Engine:
    """The process-wide engine, loaded on first use and kept warm."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = make_engine(backend, threads)
        return _ENGINE
