"""The starting style: the stock voice of the speaker's register that best explains the recordings.

Candidates are the stock voices whose sex (Kokoro's naming: ``jf_*`` female, ``jm_*`` male)
matches the recordings' median F0 (below 165 Hz: male). Among them we take the one with the lowest
training loss on a few training segments (decoder reconstruction on teacher-forced crops + the
predictor's duration/F0/energy loss) — one coherent voice, both style halves from it. The loss
alone is not enough: on a male LibriSpeech speaker it preferred a female voice's decoder half
(mel L1 6.32 vs 7.07), which then sounded less like him (resemblyzer 0.56 vs 0.70 before
training). The speaker encoder used for evaluation (resemblyzer) is never consulted.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from ...errors import Cancelled
from .dataset import MALE_F0_HZ
from .trainer import Trainer

_LOGGER = logging.getLogger(__name__)

MAX_SEGMENTS = 6  # training segments scored per stock voice (prosody is cheap)


def register_of(median_f0_hz: float) -> str | None:
    """"m" or "f" from the recordings' median F0 (None when nothing was voiced)."""
    if not median_f0_hz or median_f0_hz <= 0:
        return None
    return "m" if median_f0_hz < MALE_F0_HZ else "f"


def candidates(names: list[str], register: str | None) -> list[str]:
    """Stock voices of ``register`` (Kokoro names: ``<lang><f|m>_<name>``); all when none match."""
    same = [n for n in names if register and len(n) > 1 and n[1] == register]
    return sorted(same or names)


def choose_initial_style(trainer: Trainer) -> tuple[np.ndarray, dict[str, Any]]:
    """(style (256,), report): the best-scoring stock voice of the speaker's register."""
    from ..kokoro.runtime import select_style, stock_voices

    train = trainer.data.train
    examples = train[:: max(1, len(train) // MAX_SEGMENTS)][:MAX_SEGMENTS]
    n_tokens = int(np.median([len(e.tokens) - 2 for e in train]))
    voices = stock_voices()
    register = register_of(float(trainer.data.meta.get("median_f0_hz") or 0.0))
    names = candidates(list(voices), register)
    scores: dict[str, dict[str, float]] = {}
    styles: dict[str, np.ndarray] = {}
    for name in names:
        if trainer.cancel is not None and trainer.cancel():  # each voice costs seconds: stay stoppable
            raise Cancelled("training cancelled")
        style = select_style(voices[name], n_tokens)
        if len(names) > 1:
            with torch.no_grad():
                losses = trainer.evaluate(
                    examples, style=torch.from_numpy(style), crops=trainer.options.init_crops
                )
            scores[name] = {
                "decoder": round(losses.decoder, 4),
                "predictor": round(losses.predictor, 4),
            }
        styles[name] = style
    best = min(names, key=lambda n: sum(scores[n].values())) if scores else names[0]
    _LOGGER.info("initial style from %s (register %s)", best, register)
    return styles[best].astype(np.float32), {
        "voice": best,
        "register": register,
        "scores": scores,
        "row": n_tokens,
    }
