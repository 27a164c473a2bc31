"""Monotonic alignment search: exact on synthetic scores, and on real Kokoro speech with known durations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ownvoice.engine import align
from ownvoice.errors import BadInput, TooLarge


def _block_scores(durations: list[int], noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """log_p that is 0 where a frame belongs to its token and -5 elsewhere (plus optional noise)."""
    n = sum(durations)
    owner = np.repeat(np.arange(len(durations)), durations)
    lp = np.full((len(durations), n), -5.0)
    lp[owner, np.arange(n)] = 0.0
    if noise:
        lp += np.random.default_rng(seed).normal(0, noise, lp.shape)
    return lp


def _brute_force_best(lp: np.ndarray) -> float:
    """Best monotonic path score by enumerating every way to cut the frames into tokens."""
    n_tok, n_frm = lp.shape
    best = -np.inf
    for cuts in itertools.combinations(range(1, n_frm), n_tok - 1):
        bounds = (0, *cuts, n_frm)
        best = max(best, sum(lp[t, bounds[t] : bounds[t + 1]].sum() for t in range(n_tok)))
    return best


def _path_score(lp: np.ndarray, durations: np.ndarray) -> float:
    owner = np.repeat(np.arange(len(durations)), durations)
    return float(lp[owner, np.arange(lp.shape[1])].sum())


def test_mas_recovers_durations_exactly_on_a_clear_diagonal():
    durations = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    assert align.mas(_block_scores(durations)).tolist() == durations


def test_mas_recovers_durations_under_moderate_noise():
    durations = [12, 2, 1, 3, 2, 4, 1, 1, 2, 6, 3, 2, 20, 7, 1]
    got = align.mas(_block_scores(durations, noise=0.8, seed=3))
    assert got.tolist() == durations


def test_mas_path_is_optimal_monotonic_and_sums_to_frames():
    rng = np.random.default_rng(7)
    for n_tok, n_frm in [(1, 5), (3, 3), (3, 8), (4, 9), (5, 11)]:
        lp = rng.normal(size=(n_tok, n_frm))
        durations = align.mas(lp)
        assert durations.sum() == n_frm
        assert durations.min() >= 1
        assert len(durations) == n_tok
        assert _path_score(lp, durations) == pytest.approx(_brute_force_best(lp))


def test_mas_gives_one_frame_each_when_frames_equal_tokens():
    lp = np.random.default_rng(1).normal(size=(6, 6))
    assert align.mas(lp).tolist() == [1] * 6


def test_mas_refuses_impossible_or_broken_input():
    with pytest.raises(BadInput, match="cannot hold"):
        align.mas(np.zeros((5, 4)))
    with pytest.raises(BadInput, match="NaN"):
        align.mas(np.array([[0.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(BadInput):
        align.mas(np.zeros((0, 4)))
    with pytest.raises(BadInput):
        align.mas(np.zeros(4))
    with pytest.raises(TooLarge):
        align.mas(np.zeros((1000, align.MAX_CELLS // 1000 + 1), dtype=np.float32))


def test_mas_tolerates_minus_infinity_scores():
    lp = _block_scores([2, 3, 2])
    lp[lp < 0] = -np.inf  # only the true path is allowed
    assert align.mas(lp).tolist() == [2, 3, 2]


# --- real speech: Kokoro renderings with known per-token durations ---------------------------

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "These days a chicken leg is a rare dish.",
]


@pytest.fixture(scope="module")
def engine_and_voices(models_cache):
    """The torch Kokoro engine and its stock voices (weights converted once per test session)."""
    from ownvoice.engine.kokoro.runtime import KokoroEngine, stock_voices

    return KokoroEngine(threads=2, cache_dir=models_cache).load(), stock_voices()


@pytest.mark.slow
def test_align_recording_recovers_kokoro_phoneme_boundaries(engine_and_voices):
    from ownvoice.engine.g2p import to_phonemes

    engine, voices = engine_and_voices
    names = sorted(voices)
    assert len(names) >= 2, "need two different stock voices"
    # The "recording" and the reference differ in voice, sex and speed, so the test is not trivial.
    rec_name = "jf_alpha" if "jf_alpha" in names else names[0]
    ref_name = "jm_kumo" if "jm_kumo" in names else names[-1]
    hits = total = 0
    for text in SENTENCES:
        phonemes = to_phonemes(text, "en")
        rec = engine.synthesize(phonemes, voices[rec_name], 1.0)
        truth = np.asarray(rec.durations, dtype=np.int64)
        assert len(rec.audio) == truth.sum() * 600  # the model's own framing: 600 samples per frame
        result = align.align_recording(
            phonemes, np.asarray(rec.audio), engine, voices[ref_name], speed=1.15
        )
        assert result.durations.sum() == result.n_frames == truth.sum()
        assert result.durations.min() >= 1 and len(result.durations) == len(truth)
        err = np.abs(result.boundaries - np.cumsum(truth)[:-1])
        hits += int((err <= 2).sum())
        total += len(err)
    assert hits / total >= 0.90, f"only {hits}/{total} boundaries within +-2 frames"
