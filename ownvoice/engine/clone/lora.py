"""LoRA on the frozen Kokoro model (peft): which layers, how many weights, save, and load for inference.

Targets are the style projections (``fc`` of every AdaIN1d / AdaLayerNorm in the prosody predictor
and the decoder, 73 Linear layers: they turn the 256-d style into per-channel scales and shifts, so
a low-rank change there is a richer "voice" than one style vector) plus the duration projection.
Optionally the decoder's non-dilated Conv1d layers: peft's Conv1d LoRA ignores ``dilation``, so
dilated convolutions are never chosen.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from torch import nn

from ...errors import BadInput, MissingDependency

_LOGGER = logging.getLogger(__name__)

RANK = 8
ALPHA = 16
ADAPTER_FILE = "adapter_model.safetensors"
_CACHE_SIZE = 2  # merged model copies kept (~330 MB each)


def target_modules(model: nn.Module, convs: bool = False) -> list[str]:
    """Full names of the layers to adapt: style projections (+ non-dilated decoder convs)."""
    names = []
    for name, mod in model.named_modules():
        top = name.split(".", 1)[0]
        if top not in ("predictor", "decoder"):
            continue
        if (
            isinstance(mod, nn.Linear)
            and (name.endswith(".fc") or name == "predictor.duration_proj")
            or (
                convs
                and type(mod) is nn.Conv1d
                and mod.dilation == (1,)
                and mod.groups == 1
                and mod.kernel_size[0] > 1
                and name.startswith(("decoder.encode.", "decoder.decode."))
            )
        ):
            names.append(name)
    return names


def lora_config(targets: list[str], rank: int = RANK):
    """A peft ``LoraConfig`` for ``targets`` (exact module names)."""
    try:
        from peft import LoraConfig
    except ImportError as e:  # pragma: no cover - peft is a core dependency
        raise MissingDependency("LoRA training needs peft: pip install peft") from e
    return LoraConfig(
        r=rank, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=targets, bias="none"
    )


def attach(model: nn.Module, convs: bool = False, rank: int = RANK):
    """Wrap ``model`` (modified in place) with fresh LoRA layers; base weights are frozen."""
    from peft import get_peft_model

    targets = target_modules(model, convs)
    if not targets:
        raise BadInput("the model has no layers LoRA can adapt")
    peft_model = get_peft_model(model, lora_config(targets, rank))
    for name, p in peft_model.named_parameters():
        p.requires_grad_("lora_" in name)
    return peft_model


def trainable_fraction(model: nn.Module, extra: int = 0) -> tuple[int, int, float]:
    """(trainable weights, frozen base weights, fraction) where ``extra`` counts e.g. the style vector."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad) + extra
    base = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return trainable, base, trainable / max(base, 1)


def save_adapter(peft_model, folder: Path) -> Path:
    """Write the adapter as peft does (``adapter_config.json`` + safetensors), nothing else."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(folder), safe_serialization=True)
    for (
        extra
    ) in folder.iterdir():  # peft may add a model card; the voice store keeps json/safetensors
        if extra.suffix not in (".json", ".safetensors"):
            extra.unlink()
    if not (folder / ADAPTER_FILE).exists():
        raise RuntimeError(f"peft did not write {ADAPTER_FILE} into {folder}")
    return folder


def set_strength(folder: Path, strength: float) -> float:
    """Scale a saved adapter's effect to ``strength`` × the trained one; returns the new ``lora_alpha``.

    LoRA adds ``(lora_alpha / r) · B A`` to each weight, so the strength is stored the peft way, as
    ``lora_alpha`` in ``adapter_config.json``: peft's merge and ``merged_weights`` both read it.
    """
    from ...atomic import write_text

    if not 0.0 < strength <= 1.0:
        raise BadInput(f"LoRA strength must be in (0, 1], not {strength}")
    path = Path(folder) / "adapter_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["lora_alpha"] = float(config["lora_alpha"]) * strength
    write_text(path, json.dumps(config, indent=2))
    return config["lora_alpha"]


def load_merged(model: nn.Module, lora_dir: Path) -> nn.Module:
    """A copy of ``model`` with the adapter in ``lora_dir`` merged into its weights (plain module)."""
    from peft import PeftModel

    lora_dir = Path(lora_dir)
    if not (lora_dir / "adapter_config.json").exists() or not (lora_dir / ADAPTER_FILE).exists():
        raise BadInput(
            f"{lora_dir} is not a LoRA adapter folder (adapter_config.json + {ADAPTER_FILE})"
        )
    base = copy.deepcopy(model)
    try:
        peft_model = PeftModel.from_pretrained(base, str(lora_dir), is_trainable=False)
    except (ValueError, KeyError, OSError) as e:
        raise BadInput(f"the LoRA adapter in {lora_dir} does not fit this model: {e}") from e
    merged = peft_model.merge_and_unload()
    merged.eval()
    for p in merged.parameters():
        p.requires_grad_(False)
    return merged


def adapter_key(lora_dir: Path) -> tuple[str, int, int]:
    """Cache key of an adapter folder: its path and the adapter file's mtime and size.

    A voice's folder is per version, so this is (voice id, version) plus a guard against edits.
    """
    lora_dir = Path(lora_dir).resolve()
    try:
        stat = (lora_dir / ADAPTER_FILE).stat()
    except FileNotFoundError as e:
        raise BadInput(f"{lora_dir} has no {ADAPTER_FILE}") from e
    return (str(lora_dir), stat.st_mtime_ns, stat.st_size)


def merged_weights(lora_dir: Path, base_weight) -> dict[str, np.ndarray]:
    """The weights an adapter changes, merged as peft's ``merge_and_unload`` does, without torch.

    ``base_weight(name)`` returns the base float32 weight of module ``name`` (e.g. from the fp32
    safetensors). Returns ``{module name: merged weight}``; only plain LoRA (Linear, Conv1d) is
    supported: DoRA or fan-in/fan-out adapters raise ``BadInput``.
    """
    from safetensors.numpy import load_file

    lora_dir = Path(lora_dir)
    try:
        config = json.loads((lora_dir / "adapter_config.json").read_text(encoding="utf-8"))
        tensors = load_file(str(lora_dir / ADAPTER_FILE))
    except Exception as e:  # OSError, JSON errors, safetensors' own error type
        raise BadInput(f"{lora_dir} is not a readable LoRA adapter folder: {e}") from e
    if config.get("use_dora") or config.get("fan_in_fan_out"):
        raise BadInput(f"the LoRA adapter in {lora_dir} uses DoRA or fan-in/fan-out, which is not supported")
    alpha_pattern = config.get("alpha_pattern") or {}
    out: dict[str, np.ndarray] = {}
    for key, a in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        name = key.removeprefix("base_model.model.").removesuffix(".lora_A.weight")
        b = tensors.get(key.replace(".lora_A.", ".lora_B."))
        if b is None:
            raise BadInput(f"the LoRA adapter in {lora_dir} has no lora_B for {name}")
        rank = a.shape[0]
        alpha = float(alpha_pattern.get(name, config.get("lora_alpha", rank)))
        scale = alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank
        base = np.asarray(base_weight(name), dtype=np.float32)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        if base.ndim == 2 and a.ndim == 2:  # Linear: W + s * B A
            delta = b64 @ a64
        elif base.ndim == 3 and a.ndim == 3:  # Conv1d: A is (r, in, k), B is (out, r, 1)
            delta = np.einsum("or,rik->oik", b64[:, :, 0], a64)
        else:
            raise BadInput(f"the LoRA adapter in {lora_dir} does not fit layer {name}")
        if delta.shape != base.shape:
            raise BadInput(f"the LoRA adapter in {lora_dir} does not fit layer {name}: {delta.shape} vs {base.shape}")
        out[name] = (base + scale * delta).astype(np.float32)
    if not out:
        raise BadInput(f"the LoRA adapter in {lora_dir} holds no LoRA weights")
    return out


_MERGED: OrderedDict[tuple, nn.Module] = OrderedDict()
_MERGED_LOCK = threading.Lock()


def apply_adapter(model: nn.Module, lora_dir: Path | None) -> nn.Module:
    """``model`` with a voice's LoRA merged in, cached per adapter folder (voice id + version).

    ``lora_dir`` None returns ``model`` itself. The base model is never modified.
    """
    if lora_dir is None:
        return model
    key = (id(model), *adapter_key(lora_dir))
    lora_dir = Path(key[1])
    with _MERGED_LOCK:
        if key in _MERGED:
            _MERGED.move_to_end(key)
            return _MERGED[key]
    merged = load_merged(model, lora_dir)
    with _MERGED_LOCK:
        _MERGED[key] = merged
        while len(_MERGED) > _CACHE_SIZE:
            _MERGED.popitem(last=False)
    _LOGGER.info("loaded LoRA adapter %s", lora_dir)
    return merged


def clear_cache() -> None:
    """Forget merged copies (e.g. after a voice was deleted)."""
    with _MERGED_LOCK:
        _MERGED.clear()
