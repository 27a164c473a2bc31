"""Streamed decoding: one sentence's decoder run in growing chunks, so its audio starts sooner.

The text side (durations, F0, energy) is computed once for the whole sentence, so the prosody is
the sentence's own; only the decoder runs on crops of the aligned features. A crop reaches
``CONTEXT`` frames past each edge (``HEAD_CONTEXT`` past the first one's end, to start sooner),
which are decoded and dropped; it starts the harmonic source at the phase the whole sentence
has there (``start_phase``); and neighbours are cross-faded over ``CROSSFADE`` samples at a cut
where the predicted energy is lowest. The first cut comes after ``FIRST_FRAMES`` (first audio
after ~0.3 s of work on 2 cores); each later chunk is as long as the audio already sent can
cover while it is decoded (``next_cut``), so playback that starts at once never runs dry.

Measured on 12 sentences, 2 cores (``bench/stream.py``): first audio after 0.31 s (1.40 s decoded
whole); DNSMOS 3.330 streamed vs 3.394 whole, and 3.339 for the old way (the first four words
synthesized as their own utterance, which adds a pause and resets the prosody). The loss comes
from the mid-sentence crops (the first cut alone costs ~0.01): the decoder's instance norms see a
shorter span; wider context helps little (0.03 at 24 frames) and costs compute.

Pure numpy; the runtime (``kokoro.fast``) runs the crops.
"""

from __future__ import annotations

import numpy as np

FIRST_FRAMES = (16, 22)  # the first cut lands in this window (duration frames of 25 ms)
HEAD_CONTEXT = 4  # frames decoded past the first chunk's end
CONTEXT = 6  # frames decoded past every other edge (crops' instance norms need the span)
CROSSFADE = 480  # samples (20 ms) of overlap at a cut
MIN_CHUNK = 24  # frames: a shorter rest is decoded with the chunk before it
SAFETY = 0.85  # plan a chunk to be ready when 85 % of the buffered audio has played


def first_cut(energy: np.ndarray, frames: int) -> int | None:
    """Where the first chunk ends, or None when the sentence is too short to be worth cutting."""
    lo, hi = FIRST_FRAMES
    if frames < hi + MIN_CHUNK:
        return None
    return quietest(energy, lo, hi)


def next_cut(energy: np.ndarray, done: int, frames: int, budget: int) -> int | None:
    """Where the chunk starting at frame ``done`` ends, at most ``budget`` frames on (None: the
    whole rest, when it fits the budget or a cut would leave less than ``MIN_CHUNK``)."""
    if done + budget >= frames - MIN_CHUNK:
        return None
    budget = max(budget, MIN_CHUNK)  # a slow machine gets short chunks, never empty ones
    lo = done + max(MIN_CHUNK // 2, budget // 2)
    hi = min(done + budget, frames - MIN_CHUNK)
    return None if lo > hi else quietest(energy, lo, hi)


def budget(buffered_s: float, seconds_per_frame: float) -> int:
    """Frames the next chunk may hold: decodable (with its context) before ``SAFETY`` of the
    ``buffered_s`` seconds of audio not yet played are gone, at the measured decoding speed."""
    if seconds_per_frame <= 0:
        return 1 << 30
    return int(SAFETY * buffered_s / seconds_per_frame) - 2 * CONTEXT


def quietest(energy: np.ndarray, lo: int, hi: int) -> int:
    """The frame in [lo, hi] around which the energy curve (2 values per frame) is lowest."""
    e = np.asarray(energy, dtype=np.float64).reshape(-1)
    last = max(1, len(e) // 2 - 1)
    lo = min(max(1, lo), last)
    hi = min(max(lo, hi), last)
    scores = [e[2 * c - 2 : 2 * c + 2].mean() for c in range(lo, hi + 1)]
    return lo + int(np.argmin(scores))


def crop(a: int, b: int, frames: int) -> tuple[int, int, int, int]:
    """(lo, a, b, hi): the chunk covering frames [a, b) is decoded over [lo, hi)."""
    after = HEAD_CONTEXT if a == 0 else CONTEXT
    return max(0, a - CONTEXT), a, b, min(frames, b + after)


def start_phase(f0: np.ndarray, frame: int, harmonics: int, sample_rate: int, hop: int) -> np.ndarray:
    """[1, harmonics] float64 cycles: the harmonic source's phase before F0 frame ``frame``.

    The sum the source integrates (``SineSource``: each harmonic's advance per frame, wrapped to
    a cycle, times the hop) over the frames before the crop.
    """
    f0 = np.asarray(f0, dtype=np.float64).reshape(-1)[:frame]
    rad = f0[None, :] * np.arange(1, harmonics + 1, dtype=np.float64)[:, None] / sample_rate
    rad -= np.floor(rad)
    total = rad.sum(axis=1) * hop
    return (total - np.floor(total))[None, :]


class Stitcher:
    """Joins decoded crops into one signal, handing out each part as soon as it is final.

    The parts handed out add up to exactly ``frames * hop`` samples.
    """

    def __init__(self, hop: int) -> None:
        self.hop = hop
        self._tail = np.zeros(0, np.float32)  # the previous chunk's fade-out, awaiting the next

    def add(self, span: tuple[int, int, int, int], audio: np.ndarray, last: bool) -> np.ndarray:
        """The final samples this crop completes (all the rest when ``last``)."""
        lo, a, b, _hi = span
        h, x = self.hop, CROSSFADE // 2
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        end = (b - lo) * h + (0 if last else x)
        if a > 0:  # fade in over the previous chunk's fade-out
            seg = audio[(a - lo) * h - x : end].copy()
            ramp = np.linspace(0.0, 1.0, 2 * x, dtype=np.float32)
            seg[: 2 * x] = seg[: 2 * x] * ramp + self._tail * ramp[::-1]
        else:
            seg = audio[:end]
        if last:
            self._tail = np.zeros(0, np.float32)
            return seg
        self._tail = seg[len(seg) - 2 * x :].copy()
        return seg[: len(seg) - 2 * x]
