"""``/api/notes/render``: speak a note named by a path relative to a configured notes root.

Paths are never absolute and never contain ``..``; the resolved file (symlinks followed) must
still lie inside the resolved root, so a link pointing out of the vault is refused.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from aiohttp import web

from ..errors import BadInput, NotFound, TooLarge
from ..notes.source import notes_roots
from .body import json_body
from .errors import Forbidden
from .render import SPEAK_FORMATS, content_types, parse_speak
from .routes_speak import RULES_SCHEMA, respond
from .routing import Route, blocking, daemon_of, obj

NOTE_SUFFIXES = (".md", ".markdown", ".txt")
_DRIVE = re.compile(r"^[A-Za-z]:")


# What 'format' can pick: json (default), streamed ndjson, or the audio itself.
_RENDER_TYPES = content_types(("json", *SPEAK_FORMATS))


def resolve_note(roots: dict[str, Path], root_name: str, rel: str) -> Path:
    """The note file for (root, relative path), or an error saying why not."""
    if root_name not in roots:
        known = ", ".join(sorted(roots)) or "none configured (setting notes_roots)"
        raise NotFound(f"no notes root {root_name!r}; roots: {known}")
    if not rel or "\x00" in rel:
        raise BadInput("'path' must be a relative path inside the notes root")
    parts = re.split(r"[\\/]+", rel)
    if rel.startswith(("/", "\\")) or _DRIVE.match(rel) or ".." in parts:
        raise BadInput("'path' must be relative to the notes root, without '..'")
    try:
        root = roots[root_name].resolve(strict=True)
    except OSError:
        raise NotFound(f"notes root {root_name!r} does not exist on disk") from None
    try:
        target = (root / PurePosixPath(*[p for p in parts if p not in ("", ".")])).resolve(
            strict=True
        )
    except (OSError, RuntimeError):  # missing file, or a symlink loop
        raise NotFound(f"no note {rel!r} in {root_name!r}") from None
    if not target.is_relative_to(root):
        raise Forbidden(f"{rel!r} leads outside the notes root (a symlink?); refused")
    if not target.is_file():
        raise NotFound(f"{rel!r} is not a file")
    if target.suffix.lower() not in NOTE_SUFFIXES:
        raise BadInput(f"{rel!r} is not a note ({', '.join(NOTE_SUFFIXES)})")
    return target


def read_note(path: Path, max_chars: int) -> str:
    if path.stat().st_size > max_chars * 4:
        raise TooLarge(f"the note is larger than the text limit ({max_chars} characters)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("the note is not UTF-8 text") from None
    if len(text) > max_chars:
        raise TooLarge(f"the note has {len(text)} characters; the limit is {max_chars}")
    return text


async def render(request: web.Request) -> web.StreamResponse:
    d = daemon_of(request)
    body = await json_body(request, d.json_cap)
    root_name, rel = body.get("root"), body.get("path")
    if not isinstance(root_name, str) or not isinstance(rel, str):
        raise BadInput("'root' and 'path' are required strings")
    path = resolve_note(notes_roots(d.config), root_name, rel)
    text = await blocking(read_note, path, int(d.config.max_text_chars))
    speak_body = {
        k: v for k, v in body.items() if k in ("voice", "lang", "speed", "rules", "format")
    }
    speak_body["text"] = text
    speak_body.setdefault("markdown", path.suffix.lower() != ".txt")
    params = parse_speak(speak_body, d.config, default_format="json", default_markdown=True)
    return await respond(request, params)


ROUTES = [
    Route(
        "POST",
        "/api/notes/render",
        render,
        "Speak a note by its path inside a configured notes root",
        "notes",
        body="json",
        request=obj(
            {
                "root": {"type": "string"},
                "path": {"type": "string"},
                "voice": {"type": "string"},
                "speed": {"type": "number"},
                "rules": RULES_SCHEMA,
                "format": {"type": "string", "default": "json"},
            },
            ("root", "path"),
        ),
        responses={
            200: (
                _RENDER_TYPES,
                "like /api/speak; format json by default (offsets into the note's text)",
            )
        },
    ),
]
