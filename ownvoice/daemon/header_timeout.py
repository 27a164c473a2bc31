"""A time limit on receiving a request's header section (slowloris), for the daemon's aiohttp server.

aiohttp 3.x bounds bodies only through the handler (``bridge/body.py``) and idle connections
through ``keepalive_timeout`` (3630 s by default, and partial header bytes do not reset it), so a
client trickling header bytes holds its connection for an hour. Here each connection starts a
timer at the first byte of a new request and closes the connection with a 408 unless the whole
header section arrived within ``HEADER_SECONDS``. Idle keep-alive connections (no bytes sent) are
left alone: editors keep theirs open between requests, as before.

This subclasses aiohttp's ``RequestHandler`` and reads a few of its private attributes
(``_request_count``, ``_messages``); ``tests/hardening/test_attacks.py`` and
``tests/daemon/test_header_timeout.py`` fail if an aiohttp upgrade changes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

_LOGGER = logging.getLogger(__name__)

HEADER_SECONDS = 20.0  # from a request's first byte to the end of its headers (Apache: 20-40 s)


class HeaderTimeoutHandler(RequestHandler):
    """aiohttp's per-connection protocol, closing connections whose headers arrive too slowly."""

    __slots__ = ("_header_timer", "_last_payload")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._last_payload: Any = None  # body stream of the newest request (None: none yet)

    def data_received(self, data: bytes) -> None:
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:
            # A header section is complete; bytes after it in this chunk are its body (bounded by
            # the handlers) or a pipelined request (timed once it is read while idle).
            self._cancel_header_timer()
            if self._messages:
                self._last_payload = self._messages[-1][1]
        elif data and self._header_timer is None and self._reading_headers():
            self._header_timer = self._loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _reading_headers(self) -> bool:
        """Whether bytes arriving now start or continue a request's header section (not a body)."""
        if self._upgraded or self.transport is None:
            return False
        return self._last_payload is None or self._last_payload.is_eof()

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._current_request is not None:
            # A pipelined request trickles in while the previous one is still answered: judge it
            # once that answer is out rather than cutting the answer.
            self._header_timer = self._loop.call_later(HEADER_SECONDS, self._headers_too_slow)
            return
        _LOGGER.info("closing a connection whose request headers took over %.0f s", HEADER_SECONDS)
        body = json.dumps(
            {
                "ok": False,
                "error": f"request headers not received within {HEADER_SECONDS:.0f} s",
                "status": 408,
            }
        ).encode()
        transport.write(
            b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
            b"Content-Type: application/json; charset=utf-8\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        self.force_close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


class _HeaderTimeoutServer(web.Server):
    """aiohttp's low-level server, making ``HeaderTimeoutHandler`` connections."""

    def __call__(self) -> RequestHandler:
        return HeaderTimeoutHandler(self, loop=self._loop, **self._kwargs)


class AppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections get a header-section time limit."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        if type(server) is web.Server:
            # aiohttp builds the Server from the app itself; only its protocol factory differs.
            server.__class__ = _HeaderTimeoutServer
        else:  # pragma: no cover - a future aiohttp with its own Server type
            _LOGGER.warning("aiohttp %s: no request-header time limit", type(server).__name__)
        return server
