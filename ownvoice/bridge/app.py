"""The aiohttp application factory: routes from one table, security and error middlewares."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import routes_jobs, routes_notes, routes_openai, routes_speak, routes_status, routes_voices
from .errors import error_middleware
from .openapi import OPENAPI, build
from .routing import (
    DAEMON,
    EVENT_STREAMS,
    MAX_EVENT_STREAMS,
    MAX_UPLOADS,
    SHUTDOWN,
    UPLOADS,
    Limiter,
    Route,
)
from .security import add_cors_headers, make_security_middleware

_LOGGER = logging.getLogger(__name__)
SMALL_BODY = 64 * 1024  # bytes: cap for endpoints that take no body


def all_routes() -> list[Route]:
    """Every endpoint the bridge serves (the OpenAPI document is built from the same list)."""
    return [
        *routes_status.ROUTES,
        *routes_speak.ROUTES,
        *routes_voices.ROUTES,
        *routes_jobs.ROUTES,
        *routes_notes.ROUTES,
        *routes_openai.ROUTES,
    ]


def make_app(daemon) -> web.Application:
    """Build the web application serving ``daemon`` (a ``ownvoice.daemon.core.Daemon``)."""
    routes = all_routes()
    by_handler = {r.handler: r for r in routes}

    def body_cap(request: web.Request) -> int:
        route = by_handler.get(getattr(request.match_info, "handler", None))
        kind = route.body if route else "none"
        if kind == "json":
            return daemon.json_cap
        if kind in ("multipart", "binary"):
            return daemon.upload_cap
        return SMALL_BODY

    security = make_security_middleware(lambda: daemon.token, str(daemon.config.host), body_cap)
    app = web.Application(
        middlewares=[error_middleware, security],
        client_max_size=max(daemon.json_cap, daemon.upload_cap),
    )
    app[DAEMON] = daemon
    app[SHUTDOWN] = asyncio.Event()
    app[OPENAPI] = build(routes)
    app[UPLOADS] = Limiter(MAX_UPLOADS, "uploads")
    app[EVENT_STREAMS] = Limiter(MAX_EVENT_STREAMS, "event streams")
    for r in routes:
        app.router.add_route(r.method, r.path, r.handler)
    app.on_response_prepare.append(add_cors_headers)
    app.on_shutdown.append(_signal_shutdown)
    app.cleanup_ctx.append(_background)
    return app


async def _signal_shutdown(app: web.Application) -> None:
    app[SHUTDOWN].set()  # ends open event streams so shutdown does not wait for them


async def _background(app: web.Application) -> AsyncIterator[None]:
    """Start the daemon's background work (jobs, drop folder) with the app; stop it after."""
    daemon = app[DAEMON]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, daemon.start)
    try:
        yield
    finally:
        await loop.run_in_executor(None, daemon.stop)
