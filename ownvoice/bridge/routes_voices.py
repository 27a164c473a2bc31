"""``/api/voices``: list, read, rename, delete, export, import, and upload recordings to train."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from aiohttp import BodyPartReader, web

from ..daemon.jobs import new_job_id
from ..daemon.recordings import kind_of, probe_seconds, safe_filename
from ..engine.clone.denoise_words import DENOISE_CHOICES, denoise_choice
from ..errors import BadInput, TooLarge
from ..voice_store import DEFAULT_ID, schema
from .body import body_deadline, get_str, json_body, timed
from .routing import JSON, UPLOADS, Route, blocking, daemon_of, obj

_LOGGER = logging.getLogger(__name__)
MAX_FILES = 100  # parts per training upload
FIELD_MAX = 4000  # bytes of a text field (consent statements are short paragraphs)
CHUNK = 1 << 16


def _default_entry(d) -> dict:
    """The ``default`` alias, listed first: what a fresh plugin sends before the user picks a voice."""
    try:
        target = d.speaker.resolve_voice(DEFAULT_ID, "en")
        summary = target.summary()
        return {
            **summary,
            "id": DEFAULT_ID,
            "name": f"Default ({summary['name']})",
            "builtin": True,
            "alias_of": summary["id"],
        }
    except Exception as e:  # the list must still work when the stock voice pack is broken
        _LOGGER.warning("default voice unavailable: %s", e)
        return {
            "id": DEFAULT_ID,
            "name": "Default",
            "languages": ["en"],
            "builtin": True,
            "licence": None,
        }


def _list(d) -> dict:
    voices = [v.summary() for v in d.store.list()]
    return {"ok": True, "voices": [_default_entry(d), *voices], "default": d.config.default_voice}


async def list_voices(request: web.Request) -> web.Response:
    return web.json_response(await blocking(_list, daemon_of(request)))


async def get_voice(request: web.Request) -> web.Response:
    d = daemon_of(request)
    voice = await blocking(d.store.get, schema.check_id(request.match_info["id"]))
    return web.json_response(voice.meta)


async def patch_voice(request: web.Request) -> web.Response:
    d = daemon_of(request)
    voice_id = schema.check_id(request.match_info["id"])
    body = await json_body(request, d.json_cap)
    unknown = set(body) - {"name"}
    if unknown:
        raise BadInput(f"only 'name' can be changed; got {', '.join(sorted(unknown))}")
    name = get_str(body, "name", max_len=schema.NAME_MAX * 4)
    voice = await blocking(d.store.rename, voice_id, name)
    return web.json_response(voice.meta)


async def delete_voice(request: web.Request) -> web.Response:
    d = daemon_of(request)
    await blocking(d.store.delete, schema.check_id(request.match_info["id"]))
    return web.json_response({"ok": True})


async def export_voice(request: web.Request) -> web.Response:
    d = daemon_of(request)
    voice_id = schema.check_id(request.match_info["id"])

    def build() -> bytes:
        with tempfile.TemporaryDirectory(dir=d.paths.runtime) as tmp:
            path = d.store.export(voice_id, Path(tmp) / f"{voice_id}.ownvoice.zip")
            return path.read_bytes()

    data = await blocking(build)
    return web.Response(
        body=data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{voice_id}.ownvoice.zip"'},
    )


async def import_voice(request: web.Request) -> web.Response:
    """The body is an archive made by export; it is streamed to a temp file within the size cap."""
    with request.app[UPLOADS]:
        return await _import_voice(request)


async def _import_voice(request: web.Request) -> web.Response:
    d = daemon_of(request)
    cap = d.upload_cap
    fd, tmp = tempfile.mkstemp(prefix="import-", suffix=".zip", dir=d.paths.runtime)
    try:
        total = 0
        deadline = body_deadline(cap)
        with os.fdopen(fd, "wb") as f:
            while chunk := await timed(request.content.read(CHUNK), deadline):
                total += len(chunk)
                if total > cap:
                    raise TooLarge(
                        f"archive is larger than {cap >> 20} MiB (setting max_upload_mb)"
                    )
                f.write(chunk)
        if total == 0:
            raise BadInput("the request body must be a voice archive (.zip made by export)")
        name = request.query.get("name")
        voice = await blocking(d.store.import_, Path(tmp), name)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return web.json_response(voice.meta)


async def _read_field(part: BodyPartReader, deadline: float) -> str:
    data = bytearray()
    while chunk := await timed(part.read_chunk(CHUNK), deadline):
        data += chunk
        if len(data) > FIELD_MAX:
            raise TooLarge(f"form field {part.name!r} is longer than {FIELD_MAX} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"form field {part.name!r} is not UTF-8 text") from None


async def create_voice(request: web.Request) -> web.Response:
    """multipart/form-data: name, consent, lang, file… (optional lora, max_minutes, denoise)
    → a queued training job (202)."""
    with request.app[UPLOADS]:
        return await _create_voice(request)


async def _create_voice(request: web.Request) -> web.Response:
    d = daemon_of(request)
    if not request.content_type.startswith("multipart/form-data"):
        raise BadInput(
            "send multipart/form-data with fields name, consent, lang and one or more file parts"
        )
    job_id = new_job_id()
    folder = d.jobs.staging_for(job_id)
    folder.mkdir(parents=True)
    try:
        fields, seconds = await _receive(request, folder, d.upload_cap)
        name = schema.clean_name(fields.get("name", ""))
        consent = (fields.get("consent") or "").strip() or str(d.config.consent).strip()
        if not consent:
            raise BadInput(
                "'consent' is required: a statement that the speaker agrees to having their voice cloned"
            )
        lang = (fields.get("lang") or "en").strip().lower()
        if lang not in schema.LANGS:
            raise BadInput(f"'lang' must be one of {', '.join(schema.LANGS)}")
        limit = float(d.config.max_audio_seconds)
        if seconds > limit:
            raise TooLarge(
                f"the recordings last {seconds:.0f} s; the limit is {limit:.0f} s (setting max_audio_seconds)"
            )
        lora = (fields.get("lora") or "true").strip().lower() not in ("false", "0", "no")
        max_minutes = None
        if fields.get("max_minutes"):
            try:
                max_minutes = float(fields["max_minutes"])
            except ValueError:
                raise BadInput("'max_minutes' must be a number") from None
            if not 0 < max_minutes <= float(d.config.train_max_minutes):
                raise BadInput(f"'max_minutes' must be in (0, {d.config.train_max_minutes}]")
        denoise = (fields.get("denoise") or "").strip().lower() or None
        if denoise is not None:
            denoise_choice(denoise, "'denoise'")  # a bad word is a 400 now, not a failed job later
        job = await blocking(
            lambda: d.jobs.submit_training(
                job_id,
                name=name,
                lang=lang,
                consent=consent,
                source="upload",
                lora=lora,
                max_minutes=max_minutes,
                denoise=denoise,
                extra={"seconds": round(seconds, 2)},
            )
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return web.json_response({"ok": True, "job_id": job_id, "job": job}, status=202)


async def _receive(request: web.Request, folder: Path, cap: int) -> tuple[dict[str, str], float]:
    """Stream the form into ``folder``: text fields returned, files written, total bytes capped."""
    reader = await request.multipart()
    deadline = body_deadline(cap)
    fields: dict[str, str] = {}
    total, files, seconds = 0, 0, 0.0
    audio_stems: set[str] = set()
    transcripts: list[Path] = []
    while (part := await timed(reader.next(), deadline)) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadInput("nested multipart bodies are not supported")
        if part.name in ("file", "files", "file[]") or part.filename:
            files += 1
            if files > MAX_FILES:
                raise TooLarge(f"at most {MAX_FILES} files per upload")
            fname = safe_filename(part.filename or f"file{files}")
            path = folder / fname
            kind = kind_of(path)
            if kind == "other":
                raise BadInput(f"{fname}: not a recording (wav, flac, ogg, mp3) or .txt transcript")
            if path.exists():
                raise BadInput(f"two files are named {fname!r}")
            f = await blocking(open, path, "wb")  # disk writes stay off the event loop
            try:
                while chunk := await timed(part.read_chunk(CHUNK), deadline):
                    total += len(chunk)
                    if total > cap:
                        raise TooLarge(
                            f"the upload is larger than {cap >> 20} MiB (setting max_upload_mb)"
                        )
                    await blocking(f.write, chunk)
            finally:
                await blocking(f.close)
            if kind == "audio":
                seconds += await blocking(probe_seconds, path) or 0.0
                audio_stems.add(path.stem)
            else:
                transcripts.append(path)
        elif part.name:
            if part.name in fields:
                raise BadInput(f"form field {part.name!r} given twice")
            fields[part.name] = await _read_field(part, deadline)
    if not audio_stems:
        raise BadInput("no recordings: add one or more 'file' parts (wav, flac, ogg, mp3)")
    for t in transcripts:
        if t.stem not in audio_stems:
            raise BadInput(f"{t.name}: a transcript needs a recording of the same name")
    return fields, seconds


VOICE_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": schema.ID_RE.pattern},
}
ROUTES = [
    Route(
        "GET",
        "/api/voices",
        list_voices,
        "List voices (the 'default' alias first)",
        "voices",
        responses={
            200: (
                JSON,
                '{"voices": [{id, name, languages, builtin, licence}], "default": "default"}',
            )
        },
    ),
    Route(
        "POST",
        "/api/voices",
        create_voice,
        "Upload recordings and start training a voice",
        "voices",
        body="multipart",
        request={
            "type": "object",
            "required": ["name", "consent", "file"],
            "properties": {
                "name": {"type": "string"},
                "consent": {"type": "string"},
                "lang": {"type": "string", "enum": list(schema.LANGS)},
                "lora": {"type": "string", "enum": ["true", "false"]},
                "max_minutes": {"type": "number"},
                "denoise": {"type": "string", "enum": list(DENOISE_CHOICES)},
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
            },
        },
        responses={202: (JSON, '{"ok": true, "job_id": "..."}')},
    ),
    Route(
        "POST",
        "/api/voices/import",
        import_voice,
        "Import a voice archive (body: the .zip)",
        "voices",
        body="binary",
        responses={200: (JSON, "the imported voice's metadata")},
    ),
    Route(
        "GET",
        "/api/voices/{id}",
        get_voice,
        "A voice's metadata (voice.json)",
        "voices",
        extra={"parameters": [VOICE_ID]},
    ),
    Route(
        "PATCH",
        "/api/voices/{id}",
        patch_voice,
        "Rename a voice",
        "voices",
        body="json",
        request=obj({"name": {"type": "string"}}, ("name",)),
        extra={"parameters": [VOICE_ID]},
    ),
    Route(
        "DELETE",
        "/api/voices/{id}",
        delete_voice,
        "Delete one of your voices",
        "voices",
        extra={"parameters": [VOICE_ID]},
    ),
    Route(
        "POST",
        "/api/voices/{id}/export",
        export_voice,
        "Export a voice as a .zip archive",
        "voices",
        responses={200: ("application/zip", "the archive")},
        extra={"parameters": [VOICE_ID]},
    ),
]
