"""The real trainer behind the job queue: ``train_voice`` with the daemon's settings.

Kept apart from the queue (``jobs``) so the queue can be tested with any trainer and this module
is the one place the daemon calls the cloning pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine.clone.denoise_words import denoise_choice
from ..errors import BadInput
from .jobs import Progress, Trainer, TrainRequest


def max_steps(config) -> int:
    """The ``train_max_steps`` setting as a step cap (0 = none); a bad value is the user's to fix."""
    value = config.train_max_steps
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value < 0
        or value != int(value)
    ):
        raise BadInput(f"setting 'train_max_steps' must be a whole number >= 0, got {value!r}")
    return int(value)


def train_denoise(req: TrainRequest, config) -> bool | None:
    """``TrainOptions.denoise`` for a job: its own ``denoise`` word, else the setting's."""
    if req.denoise is not None:
        return denoise_choice(req.denoise, "'denoise'")
    return denoise_choice(config.train_denoise)


def clone_trainer(get_store: Callable[[], Any], config) -> Trainer:
    """The real trainer: ``ownvoice.engine.clone.train_voice`` (the one place that calls it)."""

    def train(req: TrainRequest, progress: Progress, cancel: Callable[[], bool]) -> dict:
        try:
            from ..engine.clone import train_voice
            from ..engine.clone.trainer import TrainOptions
        except ImportError as e:
            from ..errors import MissingDependency

            raise MissingDependency(f"voice training is not available in this build ({e})") from e
        kwargs: dict[str, Any] = {
            "config": config,
            "progress": progress,
            "cancel": cancel,
            "workdir": req.workdir,
            "lora": req.lora,
            "options": TrainOptions(denoise=train_denoise(req, config)),
        }
        if req.max_minutes is not None:
            kwargs["max_minutes"] = req.max_minutes
        steps = max_steps(config)
        if steps:
            kwargs["steps"] = steps
        voice = train_voice(
            get_store(), req.name, req.files, lang=req.lang, consent=req.consent, **kwargs
        )
        training = voice.meta.get("training") or {}
        return {
            "voice_id": voice.id,
            "voice": voice.summary(),
            "rejected": training.get("rejected") or training.get("rejected_files") or {},
        }

    return train
