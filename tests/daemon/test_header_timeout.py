"""The request-header time limit: trickled headers are cut with 408, idle keep-alive and slow
bodies are not (those are the handlers' and ``keepalive_timeout``'s business)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from ownvoice.daemon import header_timeout


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=f"got {len(body)}")


async def _server(monkeypatch, seconds: float):
    monkeypatch.setattr(header_timeout, "HEADER_SECONDS", seconds)
    app = web.Application()
    app.router.add_route("*", "/", _echo)
    runner = header_timeout.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    """What the server sent before closing, or None when it kept the connection open."""
    try:
        return await asyncio.wait_for(reader.read(), seconds)
    except asyncio.TimeoutError:
        return None


def test_headers_trickled_past_the_limit_get_408_and_a_closed_connection(monkeypatch):
    async def run() -> bytes | None:
        runner, port = await _server(monkeypatch, 0.5)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
            for _ in range(3):  # each byte is quick; the section as a whole is too slow
                await asyncio.sleep(0.2)
                writer.write(b"X")
            out = await _closed_within(reader, 3.0)
            writer.close()
            return out
        finally:
            await runner.cleanup()

    out = asyncio.run(run())
    assert out is not None and out.startswith(b"HTTP/1.1 408"), out


def test_idle_keep_alive_and_slow_bodies_are_not_cut(monkeypatch):
    async def run() -> list[bytes | None]:
        runner, port = await _server(monkeypatch, 0.3)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            first = await reader.readuntil(b"got 0")
            await asyncio.sleep(0.8)  # idle keep-alive, longer than the header limit
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
            for b in (b"a", b"b", b"c", b"d"):  # a body trickling past the header limit
                await asyncio.sleep(0.2)
                writer.write(b)
            second = await asyncio.wait_for(reader.readuntil(b"got 4"), 3.0)
            writer.close()
            return [first, second]
        finally:
            await runner.cleanup()

    first, second = asyncio.run(run())
    assert first.startswith(b"HTTP/1.1 200") and b"HTTP/1.1 200" in second


@pytest.mark.parametrize("split", [1, 7])
def test_headers_sent_in_pieces_within_the_limit_are_answered(monkeypatch, split):
    async def run() -> bytes:
        runner, port = await _server(monkeypatch, 1.0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            for i in range(0, len(req), split):
                writer.write(req[i : i + split])
                await asyncio.sleep(0.005)
            out = await asyncio.wait_for(reader.read(), 3.0)
            writer.close()
            return out
        finally:
            await runner.cleanup()

    assert asyncio.run(run()).startswith(b"HTTP/1.1 200")
