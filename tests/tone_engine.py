"""A test double for the engine: a tone as long as its phoneme input, in three chunks when
streamed; it records one call per sentence synthesized (whole or streamed). Used where G2P,
cache and ``Speaker`` are real and only the model is not (the real model has its own tests)."""

from __future__ import annotations

import numpy as np


class ToneEngine:
    def __init__(self) -> None:
        self.calls: list[str] = []  # one per sentence synthesized (whole or streamed)
        self.chunks_made = 0

    def _tone(self, phonemes: str) -> np.ndarray:
        return np.linspace(-0.5, 0.5, len(phonemes) * 240, dtype=np.float32)

    def speak_phonemes(self, phonemes: str, voice, speed: float, interrupt=None) -> np.ndarray:
        if interrupt is not None:
            interrupt.check()
        self.calls.append(phonemes)
        return self._tone(phonemes)

    def stream_phonemes(self, phonemes: str, voice, speed: float):
        self.calls.append(phonemes)
        parts = np.array_split(self._tone(phonemes), 3)
        for n, part in enumerate(parts):
            self.chunks_made += 1
            yield part, n == len(parts) - 1
