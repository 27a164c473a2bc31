"""Export a voice to one zip file and import it back, refusing anything suspicious.

An archive holds ``voice.json`` plus the voice's tensors. Import checks every member before a
byte is extracted (names, types, sizes, compression ratio, format version) and extracts into a
temp folder inside the store, so a refused archive leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np

from .. import atomic
from ..errors import BadInput, TooLarge
from . import schema

MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # compressed size on disk
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # all members, uncompressed
MAX_MEMBERS = 32
MAX_RATIO = 50  # uncompressed / compressed, per member (zip bombs compress ~1000x)
ALLOWED = re.compile(r"^(voice\.json|[a-z_]+\.safetensors|lora/adapter_config\.json|lora/[a-z_]+\.safetensors)$")


def export_voice(voice, dest: Path) -> Path:
    """Write ``voice`` as a zip archive to ``dest`` (atomically)."""
    if voice.path is None:
        raise BadInput(f"{voice.id!r} is a stock voice; it ships with ownvoice and needs no export")
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"{voice.id}.ownvoice.zip"
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(voice.path.rglob("*")):
                if p.is_file() and not p.is_symlink():
                    zf.write(p, p.relative_to(voice.path).as_posix())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        atomic.fsync_dir(dest.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def _check_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise BadInput(f"archive has {len(infos)} entries; a voice has at most {MAX_MEMBERS}")
    total = 0
    seen = set()
    for info in infos:
        name = info.filename
        if info.is_dir():
            if name not in ("lora/",):
                raise BadInput(f"archive entry {name!r} is not part of a voice")
            continue
        if name.startswith("/") or "\\" in name or ".." in name.split("/") or ":" in name:
            raise BadInput(f"archive entry {name!r} has an unsafe path")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode) or (mode and not stat.S_ISREG(mode)):
            raise BadInput(f"archive entry {name!r} is a link or special file")
        if not ALLOWED.match(name):
            raise BadInput(f"archive entry {name!r} is not part of a voice")
        if name in seen:
            raise BadInput(f"archive entry {name!r} appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise BadInput("encrypted archives are not supported")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise TooLarge(f"archive unpacks to more than {MAX_TOTAL_BYTES >> 20} MiB")
        if info.file_size > 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BadInput(f"archive entry {name!r} is suspiciously compressed (zip bomb?)")
    if "voice.json" not in seen or "style.safetensors" not in seen:
        raise BadInput("archive is not an ownvoice voice (voice.json or style.safetensors missing)")
    return [i for i in infos if not i.is_dir()]


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    target = dest / info.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with zf.open(info) as src, open(target, "wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            written += len(chunk)
            if written > info.file_size:  # the header lied about the size
                raise BadInput(f"archive entry {info.filename!r} is larger than declared")
            out.write(chunk)


def import_voice(store, archive: Path, name: str | None = None):
    """Add the voice in ``archive`` to ``store`` under a fresh id; returns the new Voice."""
    from .store import Voice, _fsync_tree, _sha256_file, load_tensor, slugify

    archive = Path(archive)
    try:
        size = archive.stat().st_size
    except FileNotFoundError:
        raise BadInput(f"{archive} does not exist") from None
    if size > MAX_ARCHIVE_BYTES:
        raise TooLarge(f"archive is {size >> 20} MiB; the limit is {MAX_ARCHIVE_BYTES >> 20} MiB")
    if not zipfile.is_zipfile(archive):
        raise BadInput(f"{archive.name} is not a zip archive")
    tmp = store.root / f".import-{secrets.token_hex(6)}"
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = _check_members(zf)
            try:
                meta = json.loads(zf.read("voice.json").decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise BadInput(f"voice.json in the archive is not valid JSON ({e})") from e
            schema.validate(meta)
            tmp.mkdir()
            for info in infos:
                _extract(zf, info, tmp)
        for fname, digest in meta.get("files", {}).items():
            p = tmp / fname
            if not p.is_file() or _sha256_file(p) != digest:
                raise BadInput(f"{fname} in the archive does not match its recorded checksum")
        style = load_tensor(tmp / "style.safetensors", "style")
        if style.dtype != np.float32 or style.ndim != 2 or style.shape[1] != 256:
            raise BadInput("style.safetensors in the archive does not hold a (N, 256) float32 style")
        if (tmp / "embedding.safetensors").exists():
            load_tensor(tmp / "embedding.safetensors", "embedding")
        with store.locked():
            new_name = schema.clean_name(name) if name else meta["name"]
            voice_id = slugify(new_name)
            while (store.root / voice_id).exists():
                voice_id = slugify(new_name)
            meta.update(id=voice_id, name=new_name, version=1, builtin=False)
            meta["imported"] = schema.now_iso()
            schema.validate(meta)
            (tmp / "voice.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
            meta["files"] = {
                p.relative_to(tmp).as_posix(): _sha256_file(p)
                for p in sorted(tmp.rglob("*"))
                if p.is_file() and p.name != "voice.json"
            }
            (tmp / "voice.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
            _fsync_tree(tmp)
            vdir = store.root / voice_id
            vdir.mkdir()
            os.replace(tmp, vdir / "v000001")
            atomic.fsync_dir(vdir)
            atomic.write_text(vdir / "current.json", json.dumps({"version": 1}))
            return Voice(meta, vdir / "v000001")
    except zipfile.BadZipFile as e:
        raise BadInput(f"{archive.name} is a damaged zip archive ({e})") from e
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
