"""Streamed decoding's planning and joining (``kokoro.chunks``), without the model weights.

The real engine's streamed audio is checked against the whole-sentence decode in
test_engine_fast.py; here: the harmonic source continues its phase across a crop, the cuts land
where they should, and crops of one signal stitch back into exactly that signal.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ownvoice.engine.kokoro import chunks
from ownvoice.engine.kokoro.model import KokoroConfig, SineSource

HOP = 600  # samples per duration frame (two F0 frames of 300)


def _f0(n: int) -> np.ndarray:
    t = np.arange(n)
    return (163 + 60 * np.sin(t / 17.0) + 25 * np.sin(t / 5.0)).astype(np.float32)


@pytest.mark.parametrize("frame", [1, 37, 200])
def test_start_phase_lets_a_crop_of_the_source_continue_the_whole_curve(frame):
    c = KokoroConfig()
    torch.manual_seed(0)
    source = SineSource(c)
    f0 = _f0(400)

    def excite(curve, phase0=None):
        with torch.no_grad():
            return source(torch.from_numpy(curve)[None], phase0)[0].numpy()

    whole = excite(f0)
    phase0 = chunks.start_phase(f0, frame, c.harmonics, c.sample_rate, c.f0_hop)
    crop = excite(f0[frame:], torch.from_numpy(phase0))
    hop = c.f0_hop
    # the first half frame is interpolated against a clamped edge; everything after is the same
    np.testing.assert_allclose(crop[hop:], whole[frame * hop + hop :], atol=2e-5)
    cold = excite(f0[frame:])  # without the phase: different
    assert np.abs(cold[hop:] - whole[frame * hop + hop :]).max() > 0.05


def test_first_cut_lands_in_its_window_at_the_quietest_frame_and_short_sentences_are_whole():
    lo, hi = chunks.FIRST_FRAMES
    frames = 200
    energy = np.ones(2 * frames)
    quiet = (lo + hi) // 2
    energy[2 * quiet - 2 : 2 * quiet + 2] = 0.0
    assert chunks.first_cut(energy, frames) == quiet
    assert chunks.first_cut(np.ones(2 * frames), frames) in range(lo, hi + 1)
    short = hi + chunks.MIN_CHUNK - 1
    assert chunks.first_cut(np.ones(2 * short), short) is None


def test_next_cut_respects_the_budget_and_never_leaves_a_tiny_rest():
    frames, energy = 300, np.random.default_rng(0).random(600)
    for done in (20, 80, 150):
        for budget in (10, 40, 100):
            cut = chunks.next_cut(energy, done, frames, budget)
            if cut is None:
                assert done + budget >= frames - chunks.MIN_CHUNK
                continue
            assert done + chunks.MIN_CHUNK // 2 <= cut <= done + max(budget, chunks.MIN_CHUNK)
            assert frames - cut >= chunks.MIN_CHUNK
    assert chunks.next_cut(energy, 200, frames, 1000) is None  # the rest fits: decode it all


def test_next_cut_on_a_machine_too_slow_to_keep_ahead_still_makes_real_chunks():
    """A negative budget (a loaded machine: nothing buffered covers the next chunk) once gave a
    cut past the sentence's end and an empty crop; every done position must give a valid cut."""
    frames, energy = 150, np.random.default_rng(1).random(300)
    for budget in (-500, -1, 0, 5):
        for done in range(0, frames):
            cut = chunks.next_cut(energy, done, frames, budget)
            if cut is not None:
                assert done + chunks.MIN_CHUNK // 2 <= cut <= frames - chunks.MIN_CHUNK, (done, cut)


def test_budget_grows_with_the_buffered_audio_and_with_speed():
    slow, fast = 0.02, 0.005  # seconds per decoded frame
    assert chunks.budget(1.0, slow) < chunks.budget(2.0, slow)
    assert chunks.budget(1.0, slow) < chunks.budget(1.0, fast)
    assert chunks.budget(0.0, slow) < 0  # nothing buffered: the next cut is as short as allowed
    assert chunks.budget(1.0, 0.0) > 10**6


def test_crop_adds_context_inside_the_sentence_only():
    assert chunks.crop(0, 20, 100) == (0, 0, 20, 20 + chunks.HEAD_CONTEXT)
    assert chunks.crop(20, 60, 100) == (20 - chunks.CONTEXT, 20, 60, 60 + chunks.CONTEXT)
    assert chunks.crop(60, 100, 100) == (60 - chunks.CONTEXT, 60, 100, 100)


@pytest.mark.parametrize("budgets", [[30, 30, 30], [5, 200], [60, 24, 80, 24]])
def test_crops_of_one_signal_stitch_back_into_exactly_that_signal(budgets):
    frames = 180
    signal = np.random.default_rng(1).standard_normal(frames * HOP).astype(np.float32)
    energy = np.random.default_rng(2).random(2 * frames)
    stitch = chunks.Stitcher(HOP)
    out, done, cut = [], 0, chunks.first_cut(energy, frames)
    plan = iter(budgets)
    while True:
        span = chunks.crop(done, frames if cut is None else cut, frames)
        lo, _, _, hi = span
        out.append(stitch.add(span, signal[lo * HOP : hi * HOP], last=cut is None))
        if cut is None:
            break
        done, cut = cut, chunks.next_cut(energy, cut, frames, next(plan, 10**6))
    assert len(out) >= 2
    joined = np.concatenate(out)
    assert len(joined) == frames * HOP
    np.testing.assert_allclose(joined, signal, atol=1e-5)
