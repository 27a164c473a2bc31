"""The ``off|auto|on`` words that choose whether training denoises its recordings first.

One place for the setting ``train_denoise``, ``voice train --denoise`` and the upload form's
``denoise`` field; light (no torch), so the bridge can check a request before queueing it.
"""

from __future__ import annotations

from ...errors import BadInput

DENOISE_CHOICES = {"off": False, "auto": None, "on": True}  # word → TrainOptions.denoise


def denoise_choice(value: object, where: str = "setting 'train_denoise'") -> bool | None:
    """``TrainOptions.denoise`` for an ``off|auto|on`` word; anything else is the user's to fix."""
    word = str(value).strip().lower()
    if word not in DENOISE_CHOICES:
        raise BadInput(f"{where} must be one of {', '.join(DENOISE_CHOICES)}, got {value!r}")
    return DENOISE_CHOICES[word]
