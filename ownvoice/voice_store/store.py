"""``VoiceStore``: the user's voices on disk, atomic and safe for several processes at once.

Layout (one folder per voice; ids are generated slugs, never paths)::

    voices/<id>/current.json          {"version": 3}  (switched atomically)
    voices/<id>/v000003/voice.json    metadata (schema.py)
    voices/<id>/v000003/*.safetensors speaker embedding, style
    voices/<id>/v000003/lora/         peft adapter (safetensors)

An update writes a complete new version folder, fsyncs it, then replaces ``current.json``: a
crash leaves either the old or the new voice. Writers hold an inter-process file lock.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock
from safetensors.numpy import load_file, save_file

from .. import atomic
from ..errors import BadInput, Conflict, NotFound
from ..hashing import sha256_file as _sha256_file
from . import schema

_LOGGER = logging.getLogger(__name__)
_VERSION_RE = re.compile(r"^v(\d{6})$")
TENSOR_FILES = ("embedding.safetensors", "style.safetensors")
LOCK_TIMEOUT = 30.0  # seconds


@dataclass(frozen=True)
class Voice:
    """A voice as read from disk (or from the built-in set)."""

    meta: dict
    path: Path  # the version folder holding voice.json and tensors

    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def builtin(self) -> bool:
        return bool(self.meta.get("builtin"))

    @property
    def version(self) -> int:
        return int(self.meta["version"])

    def style(self) -> np.ndarray:
        """The style vector(s), float32 (N, 256); row i is used for an utterance of i+1 tokens."""
        return load_tensor(self.path / "style.safetensors", "style")

    def embedding(self) -> np.ndarray | None:
        p = self.path / "embedding.safetensors"
        return load_tensor(p, "embedding") if p.exists() else None

    def lora_dir(self) -> Path | None:
        p = self.path / "lora"
        return p if (p / "adapter_config.json").exists() else None

    def summary(self) -> dict:
        m = self.meta
        return {
            "id": m["id"],
            "name": m["name"],
            "languages": m["languages"],
            "builtin": self.builtin,
            "licence": m.get("licence"),
            "version": m["version"],
            "created": m["created"],
        }


def load_tensor(path: Path, key: str) -> np.ndarray:
    try:
        tensors = load_file(str(path))
    except FileNotFoundError:
        raise
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise BadInput(f"{path.name} is not a valid safetensors file ({e})") from e
    if key not in tensors:
        raise BadInput(f"{path.name} has no tensor {key!r}")
    return tensors[key]


def slugify(name: str) -> str:
    """A short ascii slug from a display name, plus randomness so ids never collide."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return f"{base or 'voice'}-{secrets.token_hex(3)}"




def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        atomic.fsync_dir(Path(dirpath))


class VoiceStore:
    """Create, read, update, delete, export and import voices under one folder."""

    def __init__(self, root: Path, builtins: BuiltinVoices | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.root / ".lock"), timeout=LOCK_TIMEOUT)
        self.builtins = builtins

    # ---- reading -------------------------------------------------------------------------
    def list(self) -> list[Voice]:
        """All voices, built-in first, then the user's by creation time."""
        out: list[Voice] = list(self.builtins.list()) if self.builtins else []
        mine: list[Voice] = []
        for d in sorted(self.root.iterdir()) if self.root.exists() else []:
            if d.is_dir() and schema.ID_RE.match(d.name):
                try:
                    mine.append(self._read(d.name))
                except (NotFound, BadInput) as e:
                    _LOGGER.warning("skipping unreadable voice %s: %s", d.name, e)
        mine.sort(key=lambda v: v.meta["created"])
        return out + mine

    def get(self, voice_id: str) -> Voice:
        """A voice by id (or a built-in voice by id); unknown ids raise NotFound."""
        schema.check_id(voice_id)
        if self.builtins and self.builtins.has(voice_id):
            return self.builtins.get(voice_id)
        return self._read(voice_id)

    def find(self, id_or_name: str) -> Voice:
        """A voice by id, or else by exact (case-insensitive) display name."""
        try:
            return self.get(id_or_name)
        except (NotFound, BadInput):
            pass
        wanted = unicodedata.normalize("NFC", id_or_name).strip().casefold()
        matches = [v for v in self.list() if v.name.casefold() == wanted]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(v.id for v in matches)
            raise BadInput(f"several voices are named {id_or_name!r}; use an id: {ids}")
        raise NotFound(f"no voice {id_or_name!r}; `ownvoice voices list` shows the voices")

    def _read(self, voice_id: str) -> Voice:
        vdir = self.root / voice_id
        for _attempt in range(3):  # a concurrent update may garbage-collect the version we read
            try:
                cur = json.loads((vdir / "current.json").read_text(encoding="utf-8"))
                vpath = vdir / f"v{int(cur['version']):06d}"
                meta = schema.validate(json.loads((vpath / "voice.json").read_text("utf-8")))
                return Voice(meta, vpath)
            except FileNotFoundError:
                if not vdir.exists():
                    break
            except (ValueError, KeyError, TypeError) as e:
                raise BadInput(f"voice {voice_id!r} is damaged: {e}") from e
        raise NotFound(f"no voice {voice_id!r}; `ownvoice voices list` shows the voices")

    # ---- writing -------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's inter-process write lock."""
        with self._lock:
            yield

    def create(
        self,
        name: str,
        *,
        languages: list[str],
        consent: str,
        style: np.ndarray,
        embedding: np.ndarray | None = None,
        lora_dir: Path | None = None,
        sources: list[dict] | None = None,
        training: dict | None = None,
        metrics: dict | None = None,
        engine: dict | None = None,
        speaker_embedding: dict | None = None,
    ) -> Voice:
        """Add a new voice; refuses an empty consent statement."""
        name = schema.clean_name(name)
        if not isinstance(consent, str) or not consent.strip():
            raise BadInput("a consent statement is required to store a cloned voice")
        with self.locked():
            voice_id = slugify(name)
            while (self.root / voice_id).exists():
                voice_id = slugify(name)
            now = schema.now_iso()
            meta = {
                "format_version": schema.FORMAT_VERSION,
                "id": voice_id,
                "name": name,
                "languages": list(languages),
                "created": now,
                "updated": now,
                "version": 1,
                "engine": engine or default_engine(),
                "consent": {"statement": consent.strip(), "given_at": now},
                "sources": sources or [],
                "training": training or {},
                "metrics": metrics or {},
                "speaker_embedding": speaker_embedding,
                "builtin": False,
            }
            return self._write_version(meta, style=style, embedding=embedding, lora_dir=lora_dir)

    def update(
        self,
        voice_id: str,
        *,
        style: np.ndarray | None = None,
        embedding: np.ndarray | None = None,
        lora_dir: Path | None = None,
        **fields: Any,
    ) -> Voice:
        """Write a new version of a voice (all-or-nothing); unchanged tensors are carried over."""
        with self.locked():
            old = self.get(voice_id)
            if old.builtin:
                raise Conflict(f"{voice_id!r} is a built-in voice and cannot be changed")
            meta = json.loads(json.dumps(old.meta))
            for k, v in fields.items():
                if k in ("id", "format_version", "version", "created", "builtin", "files"):
                    raise BadInput(f"field {k!r} cannot be changed")
                meta[k] = v
            if "name" in fields:
                meta["name"] = schema.clean_name(fields["name"])
            meta["version"] = old.version + 1
            meta["updated"] = schema.now_iso()
            return self._write_version(
                meta,
                style=style if style is not None else old.style(),
                embedding=embedding if embedding is not None else old.embedding(),
                lora_dir=lora_dir if lora_dir is not None else old.lora_dir(),
            )

    def rename(self, voice_id: str, new_name: str) -> Voice:
        return self.update(voice_id, name=new_name)

    def delete(self, voice_id: str) -> None:
        """Remove a user voice (built-in voices are read-only)."""
        with self.locked():
            voice = self.get(voice_id)
            if voice.builtin:
                raise Conflict(f"{voice_id!r} is a built-in voice and cannot be deleted")
            vdir = self.root / voice_id
            # Rename first so readers never see a half-deleted voice.
            trash = self.root / f".deleted-{voice_id}-{secrets.token_hex(4)}"
            os.replace(vdir, trash)
            atomic.fsync_dir(self.root)
            shutil.rmtree(trash, ignore_errors=True)

    def _write_version(
        self,
        meta: dict,
        *,
        style: np.ndarray,
        embedding: np.ndarray | None,
        lora_dir: Path | None,
    ) -> Voice:
        style = _as_style(style)
        vdir = self.root / meta["id"]
        vdir.mkdir(exist_ok=True)
        tmp = vdir / f".tmp-v{meta['version']:06d}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            _save_tensor("style", style, tmp / "style.safetensors")
            if embedding is not None:
                emb = np.ascontiguousarray(np.asarray(embedding, dtype=np.float32).reshape(-1))
                _save_tensor("embedding", emb, tmp / "embedding.safetensors")
            if lora_dir is not None:
                _copy_lora(Path(lora_dir), tmp / "lora")
            files = {}
            for p in sorted(tmp.rglob("*")):
                if p.is_file():
                    files[p.relative_to(tmp).as_posix()] = _sha256_file(p)
            meta["files"] = files
            schema.validate(meta)
            (tmp / "voice.json").write_text(
                json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            _fsync_tree(tmp)
            final = vdir / f"v{meta['version']:06d}"
            if final.exists():  # left over from a crash before the switch: never current
                shutil.rmtree(final)
            os.replace(tmp, final)
            atomic.fsync_dir(vdir)
            atomic.write_text(vdir / "current.json", json.dumps({"version": meta["version"]}))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._collect_garbage(vdir, keep=meta["version"])
        return Voice(meta, final)

    @staticmethod
    def _collect_garbage(vdir: Path, keep: int) -> None:
        """Drop versions older than the previous one and leftovers of interrupted writes."""
        for p in vdir.iterdir():
            m = _VERSION_RE.match(p.name)
            if (m and int(m.group(1)) < keep - 1) or p.name.startswith(".tmp-"):
                shutil.rmtree(p, ignore_errors=True)

    def recover(self) -> list[str]:
        """Clean up after a crash: remove temp folders and voices that never got a current.json."""
        removed = []
        with self.locked():
            for d in list(self.root.iterdir()):
                if d.name.startswith(".deleted-") or d.name.startswith(".import-"):
                    shutil.rmtree(d, ignore_errors=True)
                    removed.append(d.name)
                elif d.is_dir() and schema.ID_RE.match(d.name):
                    if not (d / "current.json").exists():
                        shutil.rmtree(d, ignore_errors=True)
                        removed.append(d.name)
                    else:
                        for p in d.iterdir():
                            if p.name.startswith(".tmp-"):
                                shutil.rmtree(p, ignore_errors=True)
                                removed.append(f"{d.name}/{p.name}")
        return removed

    # ---- archives --------------------------------------------------------------------------
    def export(self, voice_id: str, dest: Path) -> Path:
        from .archive import export_voice

        return export_voice(self.get(voice_id), Path(dest))

    def import_(self, archive: Path, name: str | None = None) -> Voice:
        from .archive import import_voice

        return import_voice(self, Path(archive), name=name)


def _save_tensor(key: str, value: np.ndarray, path: Path) -> None:
    """save_file, with a full disk reported as the OSError it is (safetensors wraps it in its own
    error type, which callers cannot tell apart from a bug)."""
    try:
        save_file({key: value}, str(path))
    except OSError:
        raise
    except Exception as e:
        text = str(e)
        for code, marker in ((errno.ENOSPC, "os error 28"), (errno.EDQUOT, "os error 122")):
            if marker in text:
                raise OSError(code, os.strerror(code), str(path)) from e
        raise


def default_engine() -> dict:
    return {"name": "kokoro-82m", "version": "1.0"}


def _as_style(style: np.ndarray) -> np.ndarray:
    arr = np.asarray(style, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim == 3 and arr.shape[1] == 1:  # Kokoro voice packs are (510, 1, 256)
        arr = arr[:, 0, :]
    if arr.ndim != 2 or arr.shape[1] != 256 or not (1 <= arr.shape[0] <= 512):
        raise BadInput(f"a style must be (256,) or (N, 256) with N ≤ 512, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise BadInput("style contains NaN or infinity")
    return np.ascontiguousarray(arr)


def _copy_lora(src: Path, dst: Path) -> None:
    """Copy a peft adapter folder, refusing anything but its json/safetensors files."""
    if not (src / "adapter_config.json").exists():
        raise BadInput(f"{src} is not a LoRA adapter folder (no adapter_config.json)")
    dst.mkdir()
    for p in src.iterdir():
        if p.is_symlink() or not p.is_file():
            continue
        if p.suffix not in (".json", ".safetensors"):
            continue
        shutil.copyfile(p, dst / p.name)


from .builtin import BuiltinVoices  # noqa: E402  (builtin.py imports Voice from here)
