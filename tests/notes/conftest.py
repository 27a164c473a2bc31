"""Test doubles for the notes tests: a deterministic, non-silent, call-counting synthesizer.

It lives here, in tests only: no product code path can reach it.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest


class CountingSynth:
    """``synthesize(text, lang)``: a distinct tone burst per text (length grows with the text)."""

    def __init__(self, sample_rate: int = 24000) -> None:
        self.sample_rate = sample_rate
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, text: str, lang: str) -> np.ndarray:
        with self._lock:
            self.calls.append((text, lang))
        seed = int.from_bytes(hashlib.sha256(f"{lang}:{text}".encode()).digest()[:4], "little")
        n = int(self.sample_rate * (0.05 + 0.004 * len(text)))
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        freq = 120.0 + seed % 300
        return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.calls)


@pytest.fixture
def synth() -> CountingSynth:
    return CountingSynth()
