"""The starting style: per half, the stock voice that already explains the recordings best.

Kokoro's style has two independent halves: ``[:128]`` conditions the decoder (timbre),
``[128:]`` the prosody predictor. For each of the stock voices we measure, on training segments,
the decoder's reconstruction loss (teacher-forced crops) and the predictor's duration/F0/energy
loss, and take each half from the voice that scores best on it. The criterion is the training
loss itself: the speaker encoder used for evaluation (resemblyzer) is never consulted.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from .trainer import STYLE_SPLIT, Trainer

_LOGGER = logging.getLogger(__name__)

MAX_SEGMENTS = 6  # training segments scored per stock voice (prosody is cheap)


def choose_initial_style(trainer: Trainer) -> tuple[np.ndarray, dict[str, Any]]:
    """(style (256,), report) assembled from the best-scoring stock voice of each half."""
    from ..kokoro.runtime import select_style, stock_voices

    train = trainer.data.train
    examples = train[:: max(1, len(train) // MAX_SEGMENTS)][:MAX_SEGMENTS]
    n_tokens = int(np.median([len(e.tokens) - 2 for e in train]))
    scores: dict[str, dict[str, float]] = {}
    styles: dict[str, np.ndarray] = {}
    for name, pack in sorted(stock_voices().items()):
        style = select_style(pack, n_tokens)
        with torch.no_grad():
            losses = trainer.evaluate(
                examples, style=torch.from_numpy(style), crops=trainer.opt_.init_crops
            )
        styles[name] = style
        scores[name] = {
            "decoder": round(losses.decoder, 4),
            "predictor": round(losses.predictor, 4),
        }
    dec = min(scores, key=lambda n: scores[n]["decoder"])
    pros = min(scores, key=lambda n: scores[n]["predictor"])
    init = np.concatenate([styles[dec][:STYLE_SPLIT], styles[pros][STYLE_SPLIT:]]).astype(
        np.float32
    )
    _LOGGER.info("initial style: decoder half from %s, prosody half from %s", dec, pros)
    return init, {"decoder_from": dec, "predictor_from": pros, "scores": scores, "row": n_tokens}
