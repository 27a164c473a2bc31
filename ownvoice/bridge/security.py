"""Who may talk to the daemon: bearer token, exact Host and Origin allow-lists, CORS, body caps.

A local HTTP server is reachable by every web page the user opens (DNS rebinding, CSRF), so each
request must prove it comes from an editor plugin: a secret token in the ``Authorization`` header
(never in the URL, where it leaks into logs and history), a ``Host`` naming our loopback address,
and either no ``Origin`` or one of the editors' own.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from .. import atomic
from ..errors import TooLarge
from .errors import Forbidden, MisdirectedHost, Unauthorized

_LOGGER = logging.getLogger(__name__)

TOKEN_BYTES = 32  # 256 bits of randomness, url-safe base64 (43 characters)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{16,256}$")
EXACT_ORIGINS = frozenset({"app://obsidian.md", "vscode-file://vscode-app"})
_WEBVIEW_ORIGIN = re.compile(r"^vscode-webview://[A-Za-z0-9][A-Za-z0-9.\-]{0,200}$")
# Query keys a client might put a token in; refused so tokens never end up in URLs and logs.
QUERY_TOKEN_KEYS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "auth", "bearer"}
)
ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Accept"
EXPOSE_HEADERS = "X-Ownvoice-Duration, Retry-After, Content-Length, Content-Type"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
CORS_ORIGIN: web.RequestKey[str] = web.RequestKey("cors_origin", str)


def ensure_token(path: Path) -> str:
    """The daemon's bearer token: read it, or create a random one in a 0600 file on first start."""
    path = Path(path)
    if path.exists():
        token = read_token(path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if os.name == "posix" and mode & 0o077:
            _LOGGER.warning(
                "token file %s was readable by others (mode %o); fixing to 0600", path, mode
            )
            os.chmod(path, 0o600)
        return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    atomic.write_text(path, token + "\n", mode=0o600)
    _LOGGER.info("created a new API token in %s", path)
    return token


def read_token(path: Path) -> str:
    """The token from its file; a damaged file is an error, not an empty token."""
    token = Path(path).read_text(encoding="utf-8").strip()
    if not _TOKEN_RE.match(token):
        from ..errors import BadInput

        raise BadInput(f"{path} does not hold a valid token; delete it and restart the daemon")
    return token


def origin_allowed(origin: str) -> bool:
    return origin in EXACT_ORIGINS or bool(_WEBVIEW_ORIGIN.match(origin))


def allowed_hosts(request: web.Request, configured_host: str) -> set[str]:
    """``Host`` values we answer to: loopback names with the port this connection arrived on."""
    port = None
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("sockname")
        if isinstance(sock, (tuple, list)) and len(sock) >= 2:
            port = sock[1]
    if port is None:
        return set()
    hosts = {f"{name}:{port}" for name in _LOOPBACK_NAMES}
    if configured_host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""):
        # The user bound a specific address on purpose; its literal form is also ours.
        literal = f"[{configured_host}]" if ":" in configured_host else configured_host
        hosts.add(f"{literal}:{port}")
    return hosts


def check_token(header: str | None, token: str) -> None:
    """Constant-time comparison of ``Authorization: Bearer <token>``."""
    if not header:
        raise Unauthorized(
            "missing Authorization: Bearer <token> header (the token is in the daemon's token file)"
        )
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("Authorization must be 'Bearer <token>'")
    if not secrets.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        raise Unauthorized("wrong token; read it again from the daemon's token file")


def make_security_middleware(
    get_token: Callable[[], str], configured_host: str, body_cap: Callable[[web.Request], int]
):
    """Build the middleware; ``body_cap`` tells the byte limit of the matched route."""

    @web.middleware
    async def security_middleware(request: web.Request, handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if host not in allowed_hosts(request, configured_host):
            raise MisdirectedHost(f"Host {host!r} is not served here; use http://127.0.0.1:<port>")
        origin = request.headers.get("Origin")
        if origin is not None:
            if not origin_allowed(origin):
                raise Forbidden(f"Origin {origin!r} is not allowed")
            request[CORS_ORIGIN] = origin
        if request.method == "OPTIONS":
            return _preflight(request, origin)
        for key in request.query:
            if key.lower() in QUERY_TOKEN_KEYS:
                raise Unauthorized(
                    f"tokens are not accepted in the URL (query parameter {key!r}); "
                    "send the header Authorization: Bearer <token>"
                )
        check_token(request.headers.get("Authorization"), get_token())
        length = request.content_length
        cap = body_cap(request)
        if length is not None and length > cap:
            raise TooLarge(f"request body is {length} bytes; this endpoint takes at most {cap}")
        return await handler(request)

    return security_middleware


def _preflight(request: web.Request, origin: str | None) -> web.Response:
    """Answer a CORS preflight without auth (browsers send none), only for allowed origins."""
    if origin is None:
        raise Forbidden("OPTIONS is only answered as a CORS preflight from an allowed Origin")
    wanted = request.headers.get("Access-Control-Request-Method", "").upper()
    if not wanted:
        raise Forbidden("a CORS preflight needs Access-Control-Request-Method")
    exc = request.match_info.http_exception
    if isinstance(exc, web.HTTPNotFound):
        raise exc
    allowed = getattr(exc, "allowed_methods", None) or set()
    if wanted not in allowed:
        raise Forbidden(f"{wanted} is not allowed on {request.path}")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: let allowed editor origins read our answers (errors included)."""
    origin = request.get(CORS_ORIGIN)
    if origin and "Access-Control-Allow-Origin" not in response.headers:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        response.headers["Vary"] = "Origin"
