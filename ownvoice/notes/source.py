"""Reading a note file safely: size cap, binary detection, lenient UTF-8 decoding."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import BadInput, NotFound, TooLarge

_LOGGER = logging.getLogger(__name__)

MAX_NOTE_BYTES = 10 * 1024 * 1024  # larger notes are refused: parsing is ~0.3-0.6 MB/s
_SNIFF = 8192  # bytes looked at to decide text vs binary
# Control bytes other than tab/LF/FF/CR/ESC: a text file has (almost) none of them.
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27}) + b"\x7f"


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: any NUL, or over 10 % control bytes in the first 8 KiB."""
    head = data[:_SNIFF]
    if b"\0" in head:
        return True
    if not head:
        return False
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    return controls / len(head) > 0.10


def decode_note(data: bytes, name: str = "note") -> str:
    """UTF-8 (a BOM is dropped); invalid bytes become U+FFFD and are logged, never an error."""
    if looks_binary(data):
        raise BadInput(f"{name} is not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        _LOGGER.warning(
            "%s is not valid UTF-8 (%s); reading it with replacement characters", name, e
        )
        return data.decode("utf-8-sig", errors="replace")


def read_note(path: str | os.PathLike[str], max_bytes: int = MAX_NOTE_BYTES) -> str:
    """The text of a note file; NotFound, BadInput (not a text file) or TooLarge otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise TooLarge(
                    f"{path.name} is {size / 1e6:.1f} MB; notes over {max_bytes / 1e6:.0f} MB are not read"
                )
            data = f.read(max_bytes + 1)  # the file may grow while we read
    except FileNotFoundError as e:
        raise NotFound(f"note not found: {path}") from e
    except IsADirectoryError as e:
        raise BadInput(f"{path} is a folder, not a note") from e
    except PermissionError as e:
        raise BadInput(f"cannot read {path}: permission denied") from e
    if len(data) > max_bytes:
        raise TooLarge(
            f"{path.name} is over {max_bytes / 1e6:.0f} MB; notes that large are not read"
        )
    return decode_note(data, path.name)


def notes_roots(config) -> dict[str, Path]:
    """The configured notes roots (setting ``notes_roots``) by name, the folder's name; the first
    of two same-named folders wins."""
    roots: dict[str, Path] = {}
    for entry in config.notes_roots or []:
        path = Path(str(entry)).expanduser()
        roots.setdefault(path.name, path)
    return roots
