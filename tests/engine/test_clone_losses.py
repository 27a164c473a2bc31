"""Cloning losses on small tensors: zero when equal, positive otherwise, and masks that mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ownvoice.engine.clone import losses


def _speechlike(seconds: float = 0.5, f0: float = 140.0, seed: int = 0) -> torch.Tensor:
    """A harmonic signal with a moving formant-ish envelope plus noise (not a claim to be speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(24000 * seconds)) / 24000
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12)) * (
        0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    )
    x = 0.1 * x + 0.003 * rng.standard_normal(len(t))
    return torch.tensor(x, dtype=torch.float32)


def test_stft_loss_is_zero_for_identical_signals_and_positive_otherwise():
    a, b = _speechlike(), _speechlike(f0=180.0, seed=1)
    assert float(losses.stft_loss(a, a)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.stft_loss(a, b)) > 0.1
    assert float(losses.stft_loss(a, 0.5 * a)) > 0.1  # level matters too


def test_stft_loss_grows_with_the_difference():
    a, b = _speechlike(), _speechlike(f0=180.0, seed=1)
    near = float(losses.stft_loss(0.9 * a + 0.1 * b, a))
    far = float(losses.stft_loss(0.3 * a + 0.7 * b, a))
    assert 0 < near < far


def test_mel_loss_zero_for_identical_and_differentiable():
    a = _speechlike()
    b = _speechlike(f0=200.0, seed=2).requires_grad_(True)
    assert float(losses.mel_loss(a, a)) == pytest.approx(0.0, abs=1e-6)
    loss = losses.mel_loss(b, a)
    loss.backward()
    assert loss.item() > 0 and b.grad is not None and torch.isfinite(b.grad).all()


def test_reconstruction_losses_refuse_mismatched_lengths():
    with pytest.raises(ValueError):
        losses.stft_loss(_speechlike(0.5), _speechlike(0.4))


def test_duration_loss_is_small_for_matching_bins_and_large_otherwise():
    target = torch.tensor([3, 5, 1, 2])
    bins = torch.arange(50)
    perfect = torch.where(
        bins[None, :] < target[:, None], 20.0, -20.0
    )  # sigmoid ≈ 1 on the first d bins
    wrong = torch.where(bins[None, :] < (target[:, None] + 4), 20.0, -20.0)
    good = float(losses.duration_loss(perfect, target))
    bad = float(losses.duration_loss(wrong, target))
    assert good < 1e-3
    assert bad > 3.9  # 4 frames too long on every token (the L1 part alone)


def test_duration_loss_mask_excludes_tokens():
    target = torch.tensor([30, 5, 1, 30])
    bins = torch.arange(50)
    logits = torch.where(bins[None, :] < torch.tensor([2, 5, 1, 2])[:, None], 20.0, -20.0)
    mask = torch.tensor(
        [False, True, True, False]
    )  # the boundary tokens are off by 28 frames: ignored
    assert float(losses.duration_loss(logits, target, mask)) < 1e-3
    assert float(losses.duration_loss(logits, target)) > 10


def test_f0_loss_ignores_unvoiced_frames():
    real = torch.tensor([0.0, 0.0, 120.0, 130.0, 0.0, 125.0])
    pred = torch.tensor([11.0, 500.0, 120.0, 130.0, 3.0, 125.0])  # wild only where real is unvoiced
    assert float(losses.f0_loss(pred, real)) == pytest.approx(0.0, abs=1e-6)
    off = pred.clone()
    off[2:4] = torch.tensor([240.0, 260.0])  # an octave up on two voiced frames
    assert float(losses.f0_loss(off, real)) == pytest.approx(2 * np.log(2) / 3, rel=1e-4)


def test_f0_loss_all_unvoiced_is_zero_not_nan():
    assert float(losses.f0_loss(torch.tensor([100.0, 200.0]), torch.zeros(2))) == 0.0


def test_energy_loss_and_curve():
    a = _speechlike()
    n = losses.energy_curve(a)
    assert n.shape == (len(a) // 300 + 1,)
    louder = losses.energy_curve(2 * a)
    # N is log ‖mel power‖: twice the amplitude is 4x the power, +log 4 where the signal dominates the floor
    assert float((louder - n).median()) == pytest.approx(np.log(4), abs=0.05)
    assert float(losses.energy_loss(n, n)) == 0.0
    assert float(losses.energy_loss(louder, n)) > 1.0
