"""The training loop: style vector (+ LoRA) through the frozen Kokoro model, on cached examples.

One step = the prosody losses of one whole training segment (predictor only: cheap) + the
reconstruction losses of one random short crop through the decoder (93 % of the cost; never a
whole sentence). The two halves of the style and the two groups of LoRA layers see disjoint
losses (``style[:128]`` + decoder ← reconstruction, ``style[128:]`` + predictor ← prosody), so
each half keeps its own best snapshot and its own early-stopping patience. Validation runs on
held-out segments with fixed crops; checkpoints are written every few steps so a killed run
resumes where it stopped.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...audio_constants import HOP
from ...errors import Cancelled
from . import checkpoint as ckpt
from .dataset import Dataset, Example
from .losses import duration_loss, energy_loss, f0_loss, mel_loss, stft_loss

_LOGGER = logging.getLogger(__name__)

STYLE_SPLIT = 128  # style[:128] → decoder, style[128:] → prosody predictor
GROUPS = ("decoder", "predictor")
_FIRST_STEP_GUESS_S = 3.0  # seconds per step before one was measured (2 cores, 0.8 s crops)


@dataclass(frozen=True)
class TrainOptions:
    """Hyper-parameters of one run (defaults measured on LibriSpeech/LJ speakers, 2 CPU cores)."""

    lora: bool = True
    # LoRA also on the decoder's non-dilated convs: on LibriSpeech 3005 (6-min budget) resemblyzer
    # similarity 0.808 vs 0.757 for the style projections alone, WER 2.6 % vs 4.3 %, 0.96 % trainable.
    # The fast ONNX runtime applies conv adapters exactly (tests/engine/test_engine_lora.py).
    lora_convs: bool = True
    # The saved adapter speaks with this share of its trained change (lora.set_strength): at full
    # strength clones overshoot. Resemblyzer similarity to held-out clips at 1.0 / 0.75: LibriSpeech
    # 1688 0.749 / 0.785 (WER 4.3 / 3.4 %), ov_en_female 0.727 / 0.770, ov_en_male 0.786 / 0.815.
    lora_strength: float = 0.75
    # Remove background noise (NSNet2) before training: True every file, False none, None (auto)
    # the files whose speech is under 30 dB above their background (preprocess.gate.GateLimits).
    # Off by default: on LibriSpeech 2609 the clones' DNSMOS varied more between runs (3.20-3.39)
    # than denoising moved it.
    denoise: bool | None = False
    rank: int = 8
    lr_style: float = 0.01
    lr_lora: float = 1e-3
    crop_frames: int = 32  # duration frames (25 ms) per decoder crop: 0.8 s
    val_every: int = 10  # steps between validations
    val_crops: int = 4  # decoder crops per validation (spread over the held-out segments)
    init_crops: int = 2  # decoder crops per stock voice when choosing the starting style
    checkpoint_every: int = 10  # steps between checkpoints
    patience: int = 4  # validations without improvement before a group stops improving
    min_improvement: float = 0.002  # relative drop of a validation loss that counts as better
    max_steps: int = 2000
    clip_norm: float = 5.0
    seed: int = 0
    w_mel: float = 1.0
    w_stft: float = 1.0
    w_duration: float = 1.0
    w_f0: float = 1.0
    w_energy: float = 1.0


@dataclass
class Losses:
    """Reconstruction (decoder) and prosody (predictor) parts of a loss."""

    decoder: float
    predictor: float
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return self.decoder + self.predictor

    def get(self, group: str) -> float:
        return self.decoder if group == "decoder" else self.predictor


@dataclass
class TrainResult:
    style: np.ndarray  # (256,) float32, the best per half
    steps: int
    stopped: str  # "early stop", "time budget", "step limit"
    report: dict[str, Any]


def _group_of(name: str) -> str:
    return "predictor" if ".predictor." in f".{name}" else "decoder"


class Trainer:
    """Fits the style (and LoRA) of ``net`` to ``data``; ``net`` is a KokoroModel, maybe LoRA-wrapped."""

    def __init__(
        self,
        net: torch.nn.Module,
        data: Dataset,
        init_style: np.ndarray,
        options: TrainOptions,
        folder: Path,
        progress: Callable[[dict], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        key: str = "",
    ) -> None:
        self.net = net
        self.data = data
        self.options = options
        self.folder = Path(folder)
        self.progress = progress
        self.cancel = cancel
        self.key = key
        self.style = torch.nn.Parameter(torch.as_tensor(np.asarray(init_style, np.float32)).clone())
        self.lora_params = {n: p for n, p in net.named_parameters() if p.requires_grad}
        groups = [{"params": [self.style], "lr": options.lr_style}]
        if self.lora_params:
            groups.append({"params": list(self.lora_params.values()), "lr": options.lr_lora})
        self.optimizer = torch.optim.Adam(groups, betas=(0.9, 0.98))
        self.step = 0
        self.state: dict[str, Any] = {
            "key": key,
            "history": [],  # [step, train loss] per step
            "val": [],  # [step, decoder, predictor] per validation
            "best": {g: None for g in GROUPS},
            "bad": {g: 0 for g in GROUPS},
            "val_initial": None,
            "train_s": 0.0,
        }
        self.best: dict[str, torch.Tensor] = {}
        self.resumed = False

    @torch.no_grad()
    def set_style(self, style: np.ndarray) -> None:
        self.style.copy_(torch.as_tensor(np.asarray(style, np.float32)))

    # ---- losses ---------------------------------------------------------------------------
    def prosody_loss(
        self, e: Example, style: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Duration, F0 and energy losses of the predictor on one whole segment."""
        o, net = self.options, self.net
        s = style[:, STYLE_SPLIT:]
        d = net.predictor.text_encoder(e.bert[None], s)
        x, _ = net.predictor.lstm(d)
        logits = net.predictor.duration_proj(x)[0]
        mask = torch.ones(len(e.tokens), dtype=torch.bool)
        mask[0] = mask[-1] = False  # boundary tokens hold the segment's edge silence, not speech
        l_dur = duration_loss(logits, e.mas_durations, mask)
        f0, n = net.predict_f0_n(net.align(d.transpose(1, 2), e.durations), style)
        l_f0 = f0_loss(f0[0], e.f0)
        l_en = energy_loss(n[0], e.energy)
        loss = o.w_duration * l_dur + o.w_f0 * l_f0 + o.w_energy * l_en
        return loss, {"duration": l_dur.item(), "f0": l_f0.item(), "energy": l_en.item()}

    def recon_loss(
        self, e: Example, style: torch.Tensor, k0: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Mel + multi-resolution STFT loss of the decoder on frames [k0, k0 + crop) of ``e``."""
        o, net = self.options, self.net
        k1 = min(k0 + o.crop_frames, e.n_frames)
        asr = net.align(e.t_en[None], e.durations)[:, :, k0:k1]
        audio = net.decode(asr, e.f0[None, 2 * k0 : 2 * k1], e.energy[None, 2 * k0 : 2 * k1], style)
        target = e.audio[None, k0 * HOP : k1 * HOP]
        top = e.info.get("bandwidth_hz")
        l_mel, l_stft = mel_loss(audio, target, top), stft_loss(audio, target, top)
        return o.w_mel * l_mel + o.w_stft * l_stft, {"mel": l_mel.item(), "stft": l_stft.item()}

    def _crop_start(self, e: Example, rng: np.random.Generator) -> int:
        return int(rng.integers(0, max(1, e.n_frames - self.options.crop_frames + 1)))

    @torch.no_grad()
    def evaluate(
        self,
        examples: list[Example] | None = None,
        style: torch.Tensor | None = None,
        crops: int | None = None,
    ) -> Losses:
        """Validation losses: prosody on each held-out segment, reconstruction on fixed crops."""
        examples = self.data.val if examples is None else examples
        s = (self.style if style is None else torch.as_tensor(style)).detach()[None]
        crops = self.options.val_crops if crops is None else crops
        per = max(1, math.ceil(crops / max(len(examples), 1)))
        rec, pros, n_rec = 0.0, 0.0, 0
        parts: dict[str, float] = {}
        for e in examples:
            lp, pp = self.prosody_loss(e, s)
            pros += float(lp)
            free = max(0, e.n_frames - self.options.crop_frames)
            for j in range(per):
                if n_rec >= crops:
                    break
                lr_, rp = self.recon_loss(e, s, round(free * (j + 1) / (per + 1)))
                rec += float(lr_)
                n_rec += 1
                for k, v in rp.items():
                    parts[k] = parts.get(k, 0.0) + v
            for k, v in pp.items():
                parts[k] = parts.get(k, 0.0) + v
        return Losses(rec / max(n_rec, 1), pros / max(len(examples), 1), parts)

    # ---- snapshots and checkpoints ---------------------------------------------------------
    def _params(self) -> dict[str, torch.Tensor]:
        return {"style": self.style, **self.lora_params}

    def _snapshot(self, group: str) -> None:
        half = slice(0, STYLE_SPLIT) if group == "decoder" else slice(STYLE_SPLIT, None)
        self.best[f"{group}/style"] = self.style.detach()[half].clone()
        for n, p in self.lora_params.items():
            if _group_of(n) == group:
                self.best[f"{group}/{n}"] = p.detach().clone()

    @torch.no_grad()
    def restore_best(self) -> None:
        """Put back, per half, the parameters of that half's best validation."""
        for group in GROUPS:
            if f"{group}/style" not in self.best:
                continue
            half = slice(0, STYLE_SPLIT) if group == "decoder" else slice(STYLE_SPLIT, None)
            self.style[half] = self.best[f"{group}/style"]
            for n, p in self.lora_params.items():
                if _group_of(n) == group:
                    p.copy_(self.best[f"{group}/{n}"])

    def save(self) -> None:
        ckpt.save_checkpoint(
            self.folder,
            ckpt.Checkpoint(
                self.step, self._params(), self.best, self.optimizer.state_dict(), self.state
            ),
        )

    @torch.no_grad()
    def resume(self) -> bool:
        """Load the folder's checkpoint if it belongs to this run; True when resumed."""
        c = ckpt.load_checkpoint(self.folder)
        if c is None or c.state.get("key") != self.key:
            return False
        if set(c.params) != set(self._params()):
            _LOGGER.warning(
                "checkpoint in %s has other parameters (LoRA setting changed?): starting over",
                self.folder,
            )
            return False
        for n, p in self._params().items():
            p.copy_(c.params[n])
        try:
            self.optimizer.load_state_dict(c.optimizer)
        except (ValueError, KeyError, TypeError) as e:
            _LOGGER.warning("optimizer state not restored (%s): moments restart", e)
        self.best = dict(c.best)
        self.state.update(c.state)
        self.step = c.step
        self.resumed = True
        _LOGGER.info("resumed training at step %d", self.step)
        return True

    # ---- the loop --------------------------------------------------------------------------
    def _validate(self) -> Losses:
        v = self.evaluate()
        self.state["val"].append([self.step, round(v.decoder, 5), round(v.predictor, 5)])
        if self.state["val_initial"] is None:
            self.state["val_initial"] = [v.decoder, v.predictor]
        for g in GROUPS:
            best = self.state["best"][g]
            if best is None or v.get(g) < best - self.options.min_improvement * abs(best):
                self.state["best"][g] = v.get(g)
                self.state["bad"][g] = 0
                self._snapshot(g)
            else:
                self.state["bad"][g] += 1
        return v

    def _emit(
        self, phase: str, total: int, loss: float | None, val: float | None, eta: float, msg: str
    ) -> None:
        if self.progress:
            self.progress(
                {
                    "step": self.step,
                    "total": total,
                    "loss": loss,
                    "val_loss": val,
                    "eta_s": eta,
                    "phase": phase,
                    "message": msg,
                }
            )

    def run(self, deadline: float, steps: int | None = None) -> TrainResult:
        """Train until early stop, ``deadline`` (time.monotonic()) or the step limit; keep the best.

        Call ``resume()`` first to continue from the folder's checkpoint.
        """
        o = self.options
        max_steps = min(o.max_steps, steps) if steps is not None else o.max_steps
        if self.state["val_initial"] is None:
            v = self._validate()
            _LOGGER.info("initial validation: decoder %.4f, predictor %.4f", v.decoder, v.predictor)
        step_s: float | None = None
        last_val = sum(self.state["val"][-1][1:]) if self.state["val"] else None
        stopped = "step limit"
        t_run = time.monotonic()
        while self.step < max_steps:
            if self.cancel is not None and self.cancel():
                raise Cancelled("training cancelled")
            now = time.monotonic()
            est = step_s or _FIRST_STEP_GUESS_S
            if now + est > deadline:
                stopped = "time budget"
                break
            if all(self.state["bad"][g] >= o.patience for g in GROUPS):
                stopped = "early stop"
                break
            t0 = time.monotonic()
            rng = np.random.default_rng([o.seed, self.step])
            e = self.data.train[int(rng.integers(len(self.data.train)))]
            style = self.style[None]
            lp, _pp = self.prosody_loss(e, style)
            lr_, _rp = self.recon_loss(e, style, self._crop_start(e, rng))
            loss = lr_ + lp
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            params = [p for p in self._params().values() if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, o.clip_norm)
            self.optimizer.step()
            self.step += 1
            self.state["history"].append([self.step, round(loss.item(), 5)])
            dt = time.monotonic() - t0
            step_s = dt if step_s is None else 0.8 * step_s + 0.2 * dt
            if self.step % o.val_every == 0 or self.step == max_steps:
                v = self._validate()
                last_val = v.total
                _LOGGER.info(
                    "step %d: train %.4f, val decoder %.4f predictor %.4f",
                    self.step,
                    loss.item(),
                    v.decoder,
                    v.predictor,
                )
            self.state["train_s"] = float(self.state["train_s"]) + dt
            if self.step % o.checkpoint_every == 0:
                self.save()
            per_step = step_s * (
                1 + 0.3 * (o.val_crops / max(o.val_every, 1))
            )  # validation overhead
            total = min(
                max_steps, self.step + max(0, int((deadline - time.monotonic()) / per_step))
            )
            self._emit(
                "train",
                total,
                loss.item(),
                last_val,
                (total - self.step) * per_step,
                f"step {self.step}",
            )
        if (
            self.step >= max_steps
            and stopped == "step limit"
            and (not self.state["val"] or self.state["val"][-1][0] != self.step)
        ):
            self._validate()
        self.restore_best()
        self.save()
        report = self._report(stopped, time.monotonic() - t_run, self.resumed)
        return TrainResult(self.style.detach().numpy().copy(), self.step, stopped, report)

    def _report(self, stopped: str, run_s: float, resumed: bool) -> dict[str, Any]:
        hist = [h[1] for h in self.state["history"]]
        k = max(1, min(10, len(hist) // 5 or 1))
        vals = self.state["val"]
        init = self.state["val_initial"] or [None, None]
        return {
            "steps": self.step,
            "stopped": stopped,
            "resumed": resumed,
            "train_s": round(float(self.state["train_s"]), 1),
            "this_run_s": round(run_s, 1),
            "s_per_step": round(float(self.state["train_s"]) / max(self.step, 1), 2),
            "train_loss_first": round(float(np.mean(hist[:k])), 4) if hist else None,
            "train_loss_last": round(float(np.mean(hist[-k:])), 4) if hist else None,
            "val_initial": {"decoder": _r(init[0]), "predictor": _r(init[1])},
            "val_best": {g: _r(self.state["best"][g]) for g in GROUPS},
            "val_curve": vals,
            "train_segments": len(self.data.train),
            "val_segments": len(self.data.val),
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 5)
