"""The one route table: each endpoint's method, path, handler, body kind and documentation.

``app.py`` registers routes from these entries and ``openapi.py`` documents the same entries, so
the OpenAPI document cannot drift from what is served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ..daemon.core import Daemon

DAEMON: web.AppKey[Daemon] = web.AppKey("daemon")
SHUTDOWN: web.AppKey[asyncio.Event] = web.AppKey("shutdown", asyncio.Event)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

JSON = "application/json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


@dataclass(frozen=True)
class Route:
    """One endpoint. ``body``: none | json | multipart | binary (decides the size cap)."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: str = "none"
    request: dict | None = None  # JSON schema of the request body
    # status → (content type, or a tuple of them when a 'format' field picks one; description)
    responses: dict[int, tuple[str | tuple[str, ...], str]] = field(
        default_factory=lambda: {200: (JSON, "OK")}
    )
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Limiter:
    """At most ``limit`` concurrent holders of one kind of long request (uploads, event streams)."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit, self.what, self.active = limit, what, 0

    def __enter__(self) -> Limiter:  # noqa: PYI034 - Python 3.10 has no typing.Self
        from ..errors import Busy

        if self.active >= self.limit:
            raise Busy(
                f"too many {self.what} at once ({self.limit}); try again shortly", retry_after=5
            )
        self.active += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.active -= 1


UPLOADS: web.AppKey[Limiter] = web.AppKey("uploads", Limiter)
EVENT_STREAMS: web.AppKey[Limiter] = web.AppKey("event_streams", Limiter)
MAX_UPLOADS = 2  # concurrent recording/archive uploads (each may be max_upload_mb)
MAX_EVENT_STREAMS = 64  # concurrent SSE followers


def daemon_of(request: web.Request) -> Daemon:
    return request.app[DAEMON]


def obj(properties: dict[str, dict], required: tuple[str, ...] = ()) -> dict:
    """A small helper for JSON schemas of request bodies."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


async def blocking(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking store/file operation in the default executor, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
