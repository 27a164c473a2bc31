"""The ``voice.json`` schema: one validator, used on every read, write and import."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Any

from ..errors import BadInput

FORMAT_VERSION = 1
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_MAX = 100
LANGS = ("en", "zh", "ja")

# field -> (types, required)
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "format_version": ((int,), True),
    "id": ((str,), True),
    "name": ((str,), True),
    "languages": ((list,), True),
    "created": ((str,), True),
    "updated": ((str,), False),
    "version": ((int,), True),
    "engine": ((dict,), True),
    "consent": ((dict, type(None)), True),
    "sources": ((list,), True),
    "training": ((dict,), True),
    "metrics": ((dict,), True),
    "speaker_embedding": ((dict, type(None)), False),
    "builtin": ((bool,), False),
    "licence": ((str, type(None)), False),
    "attribution": ((str, type(None)), False),
    "recipe": ((dict, type(None)), False),
    "files": ((dict,), False),
}


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def clean_name(name: object) -> str:
    """Validate a display name: 1-100 printable characters; anything may appear, it is never a path."""
    if not isinstance(name, str):
        raise BadInput("voice name must be a string")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise BadInput("voice name is empty")
    if len(name) > NAME_MAX:
        raise BadInput(f"voice name is too long ({len(name)} characters, at most {NAME_MAX})")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in name):
        raise BadInput("voice name contains control or unassigned characters")
    return name


def check_id(voice_id: object) -> str:
    """Ids are slugs we generated; anything else (paths, dots, slashes) is refused."""
    if not isinstance(voice_id, str) or not ID_RE.match(voice_id):
        raise BadInput(f"invalid voice id {voice_id!r}: ids are lowercase letters, digits, '-' and '_'")
    return voice_id


def validate(meta: Any) -> dict:
    """Return ``meta`` if it is a valid voice.json document, else raise BadInput saying why."""
    if not isinstance(meta, dict):
        raise BadInput("voice.json must be a JSON object")
    fv = meta.get("format_version")
    if fv != FORMAT_VERSION:
        raise BadInput(
            f"unsupported voice format version {fv!r} (this ownvoice reads version {FORMAT_VERSION})"
        )
    for key, (types, required) in _FIELDS.items():
        if key not in meta:
            if required:
                raise BadInput(f"voice.json is missing {key!r}")
            continue
        value = meta[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise BadInput(f"voice.json field {key!r} has the wrong type")
    check_id(meta["id"])
    clean_name(meta["name"])
    langs = meta["languages"]
    if not langs or any(lang not in LANGS for lang in langs):
        raise BadInput(f"voice.json languages must be a non-empty subset of {list(LANGS)}")
    if meta["version"] < 1:
        raise BadInput("voice.json version must be ≥ 1")
    eng = meta["engine"]
    if not isinstance(eng.get("name"), str) or not isinstance(eng.get("version"), str):
        raise BadInput("voice.json engine must have a name and a version")
    consent = meta["consent"]
    if consent is None:
        if not meta.get("builtin"):
            raise BadInput("a user voice needs a consent statement")
    elif not isinstance(consent.get("statement"), str) or not consent["statement"].strip():
        raise BadInput("voice.json consent.statement must be non-empty text")
    for src in meta["sources"]:
        if not isinstance(src, dict) or not isinstance(src.get("sha256"), str):
            raise BadInput("voice.json sources must list objects with a sha256")
    for fname, digest in meta.get("files", {}).items():
        if not isinstance(fname, str) or not isinstance(digest, str):
            raise BadInput("voice.json files must map names to sha256 strings")
    return meta
