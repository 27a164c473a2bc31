"""What counts as a training recording, safe file names, and a cheap header probe."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..errors import BadInput

# soundfile (libsndfile) reads these; the preprocess module decodes the others through PyAV.
SF_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3"})
AV_SUFFIXES = frozenset({".m4a", ".aac", ".mp4", ".opus", ".webm"})
AUDIO_SUFFIXES = SF_SUFFIXES | AV_SUFFIXES
TRANSCRIPT_SUFFIX = ".txt"
# Half-written downloads and editor droppings: never treated as recordings.
TEMP_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".swp", ".temp")
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def is_temp_name(name: str) -> bool:
    low = name.lower()
    return name.startswith((".", "~")) or low.endswith(TEMP_SUFFIXES) or low.endswith("~")


def safe_filename(name: str) -> str:
    """A client-supplied file name reduced to one harmless path component (ids are never paths)."""
    base = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in (".", ".."):
        raise BadInput(f"unusable file name {name!r}")
    stem, dot, suffix = base.rpartition(".")
    if dot and len(base) > 120:
        base = f"{stem[: 119 - len(suffix)]}.{suffix}"
    return base[:120]


def kind_of(path: Path) -> str:
    """'audio', 'transcript' or 'other', by suffix."""
    suffix = path.suffix.lower()
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    if suffix == TRANSCRIPT_SUFFIX:
        return "transcript"
    return "other"


def probe_seconds(path: Path) -> float | None:
    """Duration from the header for formats soundfile reads; None where only decoding can tell.

    Raises BadInput when a file claiming to be wav/flac/ogg/mp3 cannot be opened at all, so a
    broken upload is refused before a training job is queued for it.
    """
    if path.suffix.lower() not in SF_SUFFIXES:
        return None
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as e:  # libsndfile raises its own error types for every kind of damage
        raise BadInput(
            f"{path.name} is not a readable {path.suffix.lstrip('.')} file ({e})"
        ) from None
    if info.samplerate <= 0 or info.frames <= 0:
        raise BadInput(f"{path.name} holds no audio")
    return info.frames / info.samplerate
