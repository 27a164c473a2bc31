"""``/api/status`` (what runs, where things are) and ``/api/openapi.json``."""

from __future__ import annotations

import os

from aiohttp import web

from .. import __version__
from .routing import JSON, Route, blocking, daemon_of


def _status(d) -> dict:
    try:
        voices = len(d.store.list()) + 1  # + the "default" alias, as /api/voices lists it
    except Exception:  # status must answer even when the voice store is damaged
        voices = None
    p = d.paths
    return {
        "ok": True,
        "version": __version__,
        "default_voice": d.config.default_voice,
        "model": d.speaker.model_status(),
        "voices": voices,
        "queue": {"pending": d.synth.pending, "running": d.synth.running, "max": d.synth.limit},
        "jobs": d.jobs.counts(),
        "playback": d.player.available,
        "notes": d.prerender.status() if d.prerender is not None else None,
        "pid": os.getpid(),
        "paths": {
            "token_file": str(p.token_file),
            "inbox": str(p.inbox),
            "voices": str(p.voices),
            "logs": str(p.logs),
            "config_file": str(p.config_file),
        },
    }


async def status(request: web.Request) -> web.Response:
    return web.json_response(await blocking(_status, daemon_of(request)))


async def openapi(request: web.Request) -> web.Response:
    from .openapi import OPENAPI

    return web.json_response(request.app[OPENAPI])


ROUTES = [
    Route(
        "GET",
        "/api/status",
        status,
        "Daemon status: version, voices, queue, paths",
        "status",
        responses={
            200: (
                JSON,
                "{ok, version, default_voice, model: {state: idle|loading|ready|failed, seconds, "
                "error}, voices, queue: {pending, running}, notes: "
                "{roots, synthesized, last} or null (no pre-rendering), paths}",
            )
        },
    ),
    Route("GET", "/api/openapi.json", openapi, "This API as an OpenAPI 3 document", "status"),
]
