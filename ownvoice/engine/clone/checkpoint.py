"""Training checkpoints that survive SIGKILL: tensors in safetensors, scalars in JSON, both atomic.

A checkpoint is ``ckpt-<step>.safetensors`` (trainable parameters, the best parameters so far,
optimizer moments) plus ``checkpoint.json`` naming that file and its sha256, written last with an
atomic rename. A kill at any instant leaves either the previous complete checkpoint or the new one;
never pickle, so a tampered work folder cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, save

from ... import atomic

_LOGGER = logging.getLogger(__name__)

INDEX = "checkpoint.json"
FORMAT = 1


@dataclass
class Checkpoint:
    """Everything needed to continue a run where it stopped."""

    step: int
    params: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    """JSON-able loop state: key, elapsed time, loss history, best losses, patience counters."""


def _flatten_optimizer(opt_state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split ``optimizer.state_dict()`` into tensors and a JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, per_param in opt_state["state"].items():
        for key, value in per_param.items():
            if torch.is_tensor(value):
                tensors[f"opt/{idx}/{key}"] = value.detach().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": opt_state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("opt/"):
            _, idx, key = name.split("/", 2)
            state.setdefault(int(idx), {})[key] = value
    for idx, values in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(folder: Path, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` into ``folder`` atomically and drop older checkpoint files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"param/{k}": v.detach().contiguous().clone() for k, v in ckpt.params.items()}
    tensors.update({f"best/{k}": v.detach().contiguous().clone() for k, v in ckpt.best.items()})
    opt_meta = None
    if ckpt.optimizer is not None:
        opt_tensors, opt_meta = _flatten_optimizer(ckpt.optimizer)
        tensors.update(opt_tensors)
    blob = save(tensors, metadata={"format": "pt"})
    name = f"ckpt-{ckpt.step:07d}.safetensors"
    atomic.write_bytes(folder / name, blob)
    index = {
        "format": FORMAT,
        "step": ckpt.step,
        "file": name,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "optimizer": opt_meta,
        "state": ckpt.state,
    }
    atomic.write_text(folder / INDEX, json.dumps(index))
    for old in folder.glob("ckpt-*.safetensors"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return folder / name


def load_checkpoint(folder: Path) -> Checkpoint | None:
    """The last complete checkpoint in ``folder``, or None (missing, damaged or of another format)."""
    folder = Path(folder)
    try:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
        if index.get("format") != FORMAT:
            _LOGGER.warning("ignoring checkpoint of format %r in %s", index.get("format"), folder)
            return None
        blob = (folder / Path(index["file"]).name).read_bytes()
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        _LOGGER.warning("ignoring unreadable checkpoint in %s: %s", folder, e)
        return None
    if hashlib.sha256(blob).hexdigest() != index.get("sha256"):
        _LOGGER.warning(
            "ignoring checkpoint %s: its sha256 does not match the index", index["file"]
        )
        return None
    try:
        tensors = load(blob)
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        _LOGGER.warning("ignoring damaged checkpoint %s: %s", index["file"], e)
        return None
    params = {k[6:]: v for k, v in tensors.items() if k.startswith("param/")}
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best/")}
    opt = _unflatten_optimizer(tensors, index["optimizer"]) if index.get("optimizer") else None
    return Checkpoint(int(index["step"]), params, best, opt, dict(index.get("state") or {}))


def clear_checkpoints(folder: Path) -> None:
    """Remove the checkpoint files of ``folder`` (after a finished run)."""
    folder = Path(folder)
    (folder / INDEX).unlink(missing_ok=True)
    for old in folder.glob("ckpt-*.safetensors"):
        old.unlink(missing_ok=True)
