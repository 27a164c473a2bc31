"""One middleware that turns every failure into the canonical JSON error body, never a stack trace."""

from __future__ import annotations

import errno
import json
import logging
import math

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ..errors import Busy, OwnvoiceError

_LOGGER = logging.getLogger(__name__)


class HttpError(OwnvoiceError):
    """A refusal that only makes sense over HTTP (auth, host, origin); carries its own status."""

    status = 400


class Unauthorized(HttpError):
    status = 401


class Forbidden(HttpError):
    status = 403


class MisdirectedHost(HttpError):
    """The Host header is not ours: a DNS-rebinding page is talking to us."""

    status = 421


class Unprocessable(HttpError):
    status = 422


class RequestTimeout(HttpError):
    """The request body stalled or trickled in too slowly (a slowloris, or a hung client)."""

    status = 408


_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def error_body(status: int, message: str) -> dict:
    return {"ok": False, "error": message, "status": status}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The one error shape: ``{"ok": false, "error": "...", "status": N}``."""
    return web.Response(
        status=status,
        text=json.dumps(error_body(status, message), ensure_ascii=False),
        content_type="application/json",
        headers=headers,
    )


# aiohttp's own refusals say things like "Not Found"; give users a sentence instead.
_HTTP_MESSAGES = {
    404: "no such endpoint; GET /api/openapi.json lists them",
    405: "method not allowed on this endpoint",
    413: "request body too large",
}


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Map ``ownvoice.errors`` classes (and aiohttp's HTTP exceptions) to statuses in one place."""
    return await _mapped(request, handler)


async def _mapped(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Busy as e:
        retry = str(max(1, math.ceil(e.retry_after)))
        return error_response(503, str(e) or "busy", {"Retry-After": retry})
    except OwnvoiceError as e:
        status = int(getattr(e, "status", 500))
        if status >= 500:
            _LOGGER.error("%s %s failed: %s", request.method, request.path, e)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return error_response(status, str(e) or type(e).__name__, headers)
    except web.HTTPException as e:
        if e.status < 400:
            raise  # redirects and 2xx raised as exceptions pass through untouched
        message = _HTTP_MESSAGES.get(e.status) or e.reason or "error"
        headers = {k: v for k, v in e.headers.items() if k in ("Allow", "Retry-After")}
        return error_response(e.status, message, headers or None)
    except HttpProcessingError as e:
        # aiohttp's parsers raise these for malformed input read inside a handler (a multipart
        # part with broken headers, a bad chunk): the client's fault, never a 500.
        status = e.code if 400 <= e.code < 500 else 400
        why = (e.message or "").strip().splitlines()[0] if e.message else "malformed request"
        return error_response(status, f"malformed request body: {why}")
    except ConnectionResetError:
        raise  # the client went away; nothing to answer
    except OSError as e:
        if e.errno in _DISK_FULL:  # writes are atomic, so nothing half-written was left behind
            _LOGGER.error("%s %s: disk full: %s", request.method, request.path, e)
            return error_response(
                507, "the disk is full: nothing was changed; free some space and try again"
            )
        _LOGGER.exception("%s %s crashed", request.method, request.path)
        return error_response(500, "internal error; the daemon log has the details")
    except Exception:  # the catch-all: log the trace, answer a generic message
        _LOGGER.exception("%s %s crashed", request.method, request.path)
        return error_response(500, "internal error; the daemon log has the details")
