"""``train_voice``: recordings → a stored voice (style + LoRA), resumable, cancellable, on a budget.

Stages: consent and input checks → own copy of the frozen Kokoro model (never the engine's
shared one, never its lock) → ``prepare_recordings`` → cached, aligned examples → initial style
from the stock voices → training with early stopping and checkpoints → ``VoiceStore.create``.
The work folder (default ``<data>/training/<key of the inputs>``) holds the cache and
checkpoints, so calling ``train_voice`` again after a crash or SIGKILL continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...config import Config, load_config
from ...errors import BadInput, Busy, Cancelled
from ...voice_store import schema
from . import lora as lora_mod
from .dataset import MAX_SPEECH_S, build_dataset, inputs_key, load_cached
from .style_init import choose_initial_style
from .trainer import Trainer, TrainOptions

_LOGGER = logging.getLogger(__name__)

LANGS = ("en", "zh", "ja")
FINALIZE_RESERVE_S = 15.0  # s kept from the budget for saving the adapter and the voice
MAX_MINUTES = 24 * 60.0
STALE_DAYS = 7  # abandoned work folders older than this are removed when a new run starts
RECIPE = "style+lora"

Progress = Callable[[dict], None]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (
        peak / (1 << 20) if sys.platform == "darwin" else peak / 1024
    )  # bytes on macOS, KiB elsewhere


def load_model() -> torch.nn.Module:
    """A private fp32 ``KokoroModel`` (frozen, eval mode) from the verified cached weights."""
    from .. import weights
    from ..kokoro.model import KokoroModel

    return KokoroModel.from_state_dict(weights.load_state_dict())


def _check_args(
    name: str,
    paths: Sequence[Path | str],
    lang: str,
    consent: str | None,
    config: Config,
    max_minutes: float | None,
    steps: int | None,
) -> tuple[str, list[Path], str, float]:
    statement = (consent or "").strip() or str(config.consent or "").strip()
    if not statement:
        raise BadInput(
            'training a voice needs a consent statement from the speaker (--consent "..." or the '
            "'consent' setting), e.g. \"I am the speaker in these recordings and agree to this clone.\""
        )
    name = schema.clean_name(name)
    if lang not in LANGS:
        raise BadInput(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = [Path(p) for p in paths]
    if not files:
        raise BadInput("no recordings given")
    minutes = float(config.train_max_minutes if max_minutes is None else max_minutes)
    if not (math.isfinite(minutes) and 0 < minutes <= MAX_MINUTES):
        raise BadInput(f"max_minutes must be between 0 and {MAX_MINUTES:.0f}, got {max_minutes!r}")
    if steps is not None and (not isinstance(steps, int) or steps < 0):
        raise BadInput(f"steps must be a non-negative integer, got {steps!r}")
    return name, files, statement, minutes


def _clean_stale(root: Path, keep: Path) -> None:
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_DAYS * 86400
    for d in root.iterdir():
        try:
            if d.is_dir() and d != keep and d.stat().st_mtime < cutoff:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def train_voice(
    store,
    name: str,
    paths: Sequence[Path | str],
    lang: str = "en",
    consent: str | None = None,
    *,
    lora: bool = True,
    max_minutes: float | None = None,
    config: Config | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    workdir: Path | None = None,
    steps: int | None = None,
    options: TrainOptions | None = None,
):
    """Clone a voice from ``paths`` and store it in ``store``; returns the new ``Voice``.

    ``consent`` (or the config's standing ``consent``) is required. ``max_minutes`` (default:
    config ``train_max_minutes``) bounds this call's wall time. ``progress`` receives dicts
    ``{step, total, loss, val_loss, eta_s, phase, message}``; ``cancel()`` returning True stops
    the run with ``Cancelled``. ``steps`` caps the training steps (tests). Calling again with the
    same inputs (or the same ``workdir``) after a crash resumes from the last checkpoint.
    """
    t_start = time.monotonic()
    config = config or load_config()
    name, files, statement, minutes = _check_args(
        name, paths, lang, consent, config, max_minutes, steps
    )
    opts = dataclasses.replace(options or TrainOptions(), lora=bool(lora))
    deadline = t_start + minutes * 60.0 - min(FINALIZE_RESERVE_S, minutes * 6.0)
    key, digests = inputs_key(
        files,
        lang,
        extra=f"{name}|lora={opts.lora}|convs={opts.lora_convs}|r={opts.rank}|dn={opts.denoise}",
    )
    own_folder = workdir is None
    folder = Path(workdir) if workdir is not None else config.paths.data / "training" / key
    folder.mkdir(parents=True, exist_ok=True)
    if own_folder:
        _clean_stale(folder.parent, folder)

    def emit(phase: str, message: str, **kw: Any) -> None:
        if progress:
            info = {
                "step": 0,
                "total": 0,
                "loss": None,
                "val_loss": None,
                "phase": phase,
                "message": message,
            }
            info["eta_s"] = max(0.0, deadline - time.monotonic() + FINALIZE_RESERVE_S)
            info.update(kw)
            progress(info)

    def cancelled() -> bool:
        return bool(cancel is not None and cancel())

    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise Busy(
            "a training run on these recordings is already in progress", retry_after=30.0
        ) from None
    threads_before = torch.get_num_threads()
    torch.set_num_threads(int(config.torch_threads) or min(2, os.cpu_count() or 1))
    ok = False
    try:
        emit("load", "loading the model")
        net = load_model()
        data = load_cached(folder / "data", key)
        if data is None:
            data = _prepare(
                net, files, lang, folder, key, digests, emit, cancelled,
                max_seconds=float(config.max_audio_seconds), denoise=opts.denoise,
            )
        if cancelled():
            raise Cancelled("training cancelled")
        n_targets = len(lora_mod.target_modules(net, opts.lora_convs)) if opts.lora else 0
        peft_model = (
            lora_mod.attach(net, convs=opts.lora_convs, rank=opts.rank) if opts.lora else None
        )
        trainable, base, fraction = lora_mod.trainable_fraction(net, extra=256)
        trainer = Trainer(
            net, data, np.zeros(256, np.float32), opts, folder / "checkpoint", progress, cancel, key
        )
        if not trainer.resume():
            emit("init", "choosing the starting voice")
            init, info = choose_initial_style(trainer)
            trainer.set_style(init)
            trainer.state["init"] = info
        emit("train", "training", step=trainer.step)
        result = trainer.run(deadline, steps)
        emit("save", "saving the voice", step=result.steps, total=result.steps, eta_s=5.0)
        lora_dir = (
            lora_mod.save_adapter(peft_model, folder / "lora") if peft_model is not None else None
        )
        if lora_dir is not None and opts.lora_strength != 1.0:
            lora_mod.set_strength(lora_dir, opts.lora_strength)
        meta = data.meta
        report = {
            **result.report,
            "recipe": RECIPE if opts.lora else "style",
            "init": trainer.state.get("init"),
            "wall_s": round(time.monotonic() - t_start, 1),
            "peak_rss_mb": round(_peak_rss_mb(), 0),
            "trainable_params": trainable,
            "base_params": base,
            "trainable_fraction": round(fraction, 5),
            "lora": {"rank": opts.rank, "targets": n_targets, "convs": opts.lora_convs,
                     "strength": opts.lora_strength}
            if opts.lora
            else None,
            "train_speech_s": round(sum(len(e.audio) for e in data.train) / 24000, 1),
            "val_speech_s": round(sum(len(e.audio) for e in data.val) / 24000, 1),
            "median_f0_hz": meta.get("median_f0_hz"),
            "align_voice": meta.get("align_voice"),
            "rejected": meta.get("rejected", {}),
            "dropped_segments": meta.get("dropped_segments", []),
            "options": {
                k: v
                for k, v in dataclasses.asdict(opts).items()
                if k.startswith(("lr", "crop", "rank", "lora", "denoise", "seed"))
            },
        }
        best = result.report["val_best"]
        metrics = {
            "val_loss_initial": sum(
                v for v in result.report["val_initial"].values() if v is not None
            ),
            "val_loss_best": sum(v for v in best.values() if v is not None),
        }
        voice = store.create(
            name,
            languages=[lang],
            consent=statement,
            style=result.style[None, :],
            embedding=np.asarray(meta["embedding"], dtype=np.float32),
            lora_dir=lora_dir,
            sources=meta.get("sources", []),
            training=report,
            metrics=metrics,
            engine={"name": "kokoro-82m", "version": "1.0", "recipe": report["recipe"]},
            speaker_embedding={"encoder": meta["embedding_encoder"], "dim": len(meta["embedding"])},
        )
        emit("done", f"voice {voice.id} ready", step=result.steps, total=result.steps, eta_s=0.0)
        _LOGGER.info(
            "trained voice %s in %.0f s (%d steps, %s)",
            voice.id,
            report["wall_s"],
            result.steps,
            result.stopped,
        )
        ok = True
        return voice
    except (Cancelled, BadInput):
        if own_folder:
            shutil.rmtree(
                folder, ignore_errors=True
            )  # nothing to resume: the user stopped it or the input is unusable
        raise
    finally:
        torch.set_num_threads(threads_before)
        if ok:
            if own_folder:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                from .checkpoint import clear_checkpoints

                clear_checkpoints(folder / "checkpoint")
        lock.release()


def _prepare(
    net,
    files: list[Path],
    lang: str,
    folder: Path,
    key: str,
    digests: dict[str, str],
    emit,
    cancelled,
    max_seconds: float = 3600.0,
    denoise: bool | None = None,
):
    """Preprocess, embed and align the recordings into the work folder's cache."""
    from ..preprocess import prepare_recordings
    from ..speaker import get_encoder

    emit("prepare", "checking and transcribing the recordings")
    prep = prepare_recordings(
        files,
        lang,
        progress=lambda frac, msg: emit("prepare", msg, progress=frac),
        max_seconds_total=MAX_SPEECH_S,
        max_seconds=max_seconds,
        cancelled=cancelled,
        denoise=denoise,
    )
    if not prep.segments:
        reasons = (
            "; ".join(f"{Path(p).name}: {r}" for p, r in prep.rejected.items()) or "no speech found"
        )
        raise BadInput(f"none of the recordings can be used ({reasons})")
    emit("prepare", "measuring the speaker")
    enc = get_encoder()
    emb = enc.embedding([s.audio_16k for s in prep.segments])
    by_path = {r.path: r for r in prep.report}
    sources = [
        {
            "name": Path(p).name,
            "sha256": digests.get(p, ""),
            "seconds": round(float(by_path[p].seconds), 2) if p in by_path else None,
            "speech_s": round(float(by_path[p].speech_s), 2) if p in by_path else None,
            "denoised": bool(by_path[p].denoised) if p in by_path else False,
        }
        for p in prep.accepted_files
    ]
    extra = {
        "sources": sources,
        "rejected": {Path(p).name: r for p, r in prep.rejected.items()},
        "embedding": [float(v) for v in emb.vector],
        "embedding_encoder": emb.encoder,
        "speech_s": round(prep.total_speech_s, 1),
    }
    return build_dataset(
        net,
        prep,
        lang,
        folder / "data",
        key,
        progress=lambda frac, msg: emit("align", msg, progress=frac),
        cancelled=cancelled,
        extra_meta=extra,
    )
