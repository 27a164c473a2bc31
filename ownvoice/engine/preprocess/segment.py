"""Turn VAD speech regions into training segments of 1.5-12 s, cut in pauses.

Regions separated by short pauses are joined into phrases; phrases longer than the maximum are cut
at the quietest point (or, when word timings are known, at the quietest gap between words), with a
mild preference for balanced halves; leftovers shorter than the minimum join a close neighbour.
"""

from __future__ import annotations

import numpy as np

from .gate import FRAME

RATE = 16000  # Hz: regions, cuts and segments are sample indices at this rate
MIN_S = 1.5  # s
MAX_S = 12.0  # s
MAX_GAP_S = 0.8  # s: a longer pause ends a phrase
_BALANCE_DB = 6.0  # dB penalty for a cut at a phrase's edge versus its middle


def plan_segments(
    regions: list[tuple[int, int]],
    power: np.ndarray,
    cuts: list[int] | None = None,
    min_s: float = MIN_S,
    max_s: float = MAX_S,
    max_gap_s: float = MAX_GAP_S,
) -> list[tuple[int, int]]:
    """Segments as (start, end) samples at 16 kHz from speech ``regions`` and 20 ms frame ``power``."""
    if max_s < 2 * min_s:
        raise ValueError(f"max_s ({max_s}) must be at least twice min_s ({min_s})")
    phrases = _join(regions, int(max_gap_s * RATE))
    smooth = _smooth_db(power)
    cut_arr = np.asarray(sorted(cuts), dtype=np.int64) if cuts else None
    pieces: list[tuple[int, int]] = []
    for s, e in phrases:
        pieces.extend(_split(s, e, smooth, cut_arr, int(min_s * RATE), int(max_s * RATE)))
    return _absorb_short(pieces, int(min_s * RATE), int(max_s * RATE), int(2 * max_gap_s * RATE))


def _join(regions: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(regions):
        if out and s - out[-1][1] <= max_gap:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def _smooth_db(power: np.ndarray) -> np.ndarray:
    """Frame energy in dB, smoothed over 100 ms so a cut lands in a pause, not a stop closure."""
    if len(power) == 0:
        return np.zeros(0)
    k = np.ones(5) / 5
    return 10 * np.log10(np.convolve(power, k, mode="same") + 1e-12)


def _split(
    s: int, e: int, smooth: np.ndarray, cuts: np.ndarray | None, min_len: int, max_len: int
) -> list[tuple[int, int]]:
    stack, done = [(s, e)], []
    while stack:
        a, b = stack.pop()
        if b - a <= max_len:
            done.append((a, b))
            continue
        lo, hi = a + min_len, b - min_len  # both halves keep at least min_len
        cut = _best_cut(a, b, lo, hi, smooth, cuts)
        stack.append((cut, b))
        stack.append((a, cut))
    return sorted(done)


def _best_cut(a: int, b: int, lo: int, hi: int, smooth: np.ndarray, cuts: np.ndarray | None) -> int:
    if cuts is not None:
        cand = cuts[(cuts >= lo) & (cuts <= hi)]
    else:
        cand = np.zeros(0, dtype=np.int64)
    if len(cand) == 0:  # no word gap in range: any frame boundary will do
        cand = np.arange(-(-lo // FRAME), hi // FRAME + 1, dtype=np.int64) * FRAME
    if len(cand) == 0:
        return (a + b) // 2
    frames = np.clip(cand // FRAME, 0, max(len(smooth) - 1, 0))
    energy = smooth[frames] if len(smooth) else np.zeros(len(cand))
    mid, half = (a + b) / 2, max((b - a) / 2, 1)
    score = energy + _BALANCE_DB * np.abs(cand - mid) / half
    return int(cand[int(np.argmin(score))])


def _absorb_short(
    pieces: list[tuple[int, int]], min_len: int, max_len: int, max_gap: int
) -> list[tuple[int, int]]:
    """Join pieces shorter than ``min_len`` to the nearer neighbour when the result still fits."""
    out = list(pieces)
    i = 0
    while i < len(out):
        s, e = out[i]
        if e - s >= min_len:
            i += 1
            continue
        best = None
        for j in (i - 1, i + 1):
            if 0 <= j < len(out):
                gap = out[j][0] - e if j > i else s - out[j][1]
                span = max(e, out[j][1]) - min(s, out[j][0])
                if gap <= max_gap and span <= max_len and (best is None or gap < best[1]):
                    best = (j, gap)
        if best is None:
            i += 1  # stays short; the gate reports it
            continue
        j = best[0]
        out[min(i, j)] = (min(s, out[j][0]), max(e, out[j][1]))
        del out[max(i, j)]
        i = max(min(i, j) - 1, 0)
    return out
