"""Verify model files shipped in PyPI packages by sha256, once per process and file version."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from ...errors import MissingDependency

_LOGGER = logging.getLogger(__name__)

_CHUNK = 1 << 20  # bytes hashed per read: streams, never holds the file
_VERIFIED: set[tuple[str, int, int, str]] = set()
_LOCK = threading.Lock()


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, hashed in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, expected: str, what: str) -> Path:
    """Raise ``MissingDependency`` unless ``path`` exists with sha256 ``expected``; cached per (size, mtime)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise MissingDependency(
            f"{what}: model file {path} is missing; reinstall the package"
        ) from e
    key = (str(path), st.st_size, st.st_mtime_ns, expected)
    with _LOCK:
        if key in _VERIFIED:
            return path
    actual = sha256_file(path)
    if actual != expected:
        raise MissingDependency(
            f"{what}: {path} has sha256 {actual[:12]}…, expected {expected[:12]}…; the package is "
            "damaged or a different version: reinstall it"
        )
    with _LOCK:
        _VERIFIED.add(key)
    _LOGGER.debug("verified %s (%s)", path, what)
    return path
