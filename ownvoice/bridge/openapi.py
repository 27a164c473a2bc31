"""The OpenAPI 3 document, built from the same route table the app serves."""

from __future__ import annotations

import re

from aiohttp import web

from .. import __version__
from .routing import ERROR_REF, JSON, Route

OPENAPI: web.AppKey[dict] = web.AppKey("openapi", dict)
_PARAM = re.compile(r"{(\w+)}")
_BODY_TYPES = {"json": JSON, "multipart": "multipart/form-data", "binary": "application/zip"}
_ERRORS = {
    400: "bad input",
    401: "missing or wrong bearer token (or a token in the URL)",
    403: "Origin not allowed",
    404: "unknown voice, job, note or endpoint",
    408: "the request body stalled or arrived too slowly",
    413: "body or text too large",
    421: "Host not allowed (DNS rebinding guard)",
    422: "a field is out of range",
    503: "queue full; see Retry-After",
    507: "the disk is full; nothing was changed",
}


def build(routes: list[Route]) -> dict:
    paths: dict[str, dict] = {}
    for r in routes:
        op: dict = {
            "summary": r.summary,
            "operationId": f"{r.handler.__module__.rsplit('.', 1)[-1]}.{r.handler.__name__}",
            "tags": [r.tag],
            "responses": {},
        }
        if r.description:
            op["description"] = r.description
        params = r.extra.get("parameters") or [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in _PARAM.findall(r.path)
        ]
        if params:
            op["parameters"] = params
        if r.body != "none":
            schema = r.request or (
                {"type": "string", "format": "binary"} if r.body == "binary" else {"type": "object"}
            )
            op["requestBody"] = {
                "required": r.request is not None or r.body == "binary",
                "content": {_BODY_TYPES[r.body]: {"schema": schema}},
            }
        for status, (ctype, desc) in r.responses.items():
            # One status may answer in several content types (e.g. json, wav or ndjson by 'format').
            ctypes = (ctype,) if isinstance(ctype, str) else tuple(ctype)
            op["responses"][str(status)] = {"description": desc, "content": {c: {} for c in ctypes}}
        for status, desc in _ERRORS.items():
            op["responses"].setdefault(
                str(status), {"description": desc, "content": {JSON: {"schema": ERROR_REF}}}
            )
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ownvoice",
            "version": __version__,
            "description": "Local text-to-speech in your own voice. Every request needs "
            "'Authorization: Bearer <token>' (token file: GET /api/status → paths.token_file). "
            "Offsets in /api responses are UTF-16 code units.",
        },
        "servers": [{"url": "http://127.0.0.1:7723"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["ok", "error", "status"],
                    "properties": {
                        "ok": {"type": "boolean", "enum": [False]},
                        "error": {"type": "string"},
                        "status": {"type": "integer"},
                    },
                }
            },
        },
    }
