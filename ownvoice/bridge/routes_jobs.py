"""``/api/jobs``: read a training job, follow it as Server-Sent Events, cancel it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web

from ..daemon.jobs import TERMINAL, check_job_id
from .routing import EVENT_STREAMS, JSON, SHUTDOWN, Route, blocking, daemon_of

_LOGGER = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies and clients from timing out


async def get_job(request: web.Request) -> web.Response:
    d = daemon_of(request)
    return web.json_response({"ok": True, **d.jobs.get(check_job_id(request.match_info["id"]))})


async def list_jobs(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "jobs": daemon_of(request).jobs.list()})


async def cancel_job(request: web.Request) -> web.Response:
    d = daemon_of(request)
    job = await blocking(d.jobs.cancel, check_job_id(request.match_info["id"]))
    return web.json_response({"ok": True, **job})


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def job_events(request: web.Request) -> web.StreamResponse:
    """``event: progress`` with the job JSON on every change; the last event is ``event: end``."""
    with request.app[EVENT_STREAMS]:
        return await _job_events(request)


async def _job_events(request: web.Request) -> web.StreamResponse:
    d = daemon_of(request)
    job_id = check_job_id(request.match_info["id"])
    d.jobs.get(job_id)  # 404 before the stream starts
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict] = asyncio.Queue()

    def listener(snapshot: dict) -> None:
        if snapshot["id"] == job_id:
            with contextlib.suppress(RuntimeError):  # the loop closed at shutdown
                loop.call_soon_threadsafe(queue.put_nowait, snapshot)

    unsubscribe = d.jobs.subscribe(listener)
    shutdown = request.app[SHUTDOWN]
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    try:
        await resp.prepare(request)
        snapshot = d.jobs.get(job_id)  # after subscribing, so no change falls between the two
        while True:
            if snapshot["state"] in TERMINAL:
                await resp.write(_event("end", {"ok": True, **snapshot}))
                break
            await resp.write(_event("progress", {"ok": True, **snapshot}))
            nxt = await _next(queue, shutdown)
            if nxt is None:
                if shutdown.is_set():
                    break
                await resp.write(b": keep-alive\n\n")
                continue
            while not queue.empty():  # a slow reader gets the latest state, not a backlog
                nxt = queue.get_nowait()
            snapshot = nxt
        await resp.write_eof()
    except ConnectionResetError:
        _LOGGER.debug("event stream of job %s: the client went away", job_id)
    finally:
        unsubscribe()
    return resp


async def _next(queue: asyncio.Queue, shutdown: asyncio.Event) -> dict | None:
    """The next snapshot, or None after the keep-alive interval or at shutdown."""
    get = asyncio.ensure_future(queue.get())
    stop = asyncio.ensure_future(shutdown.wait())
    try:
        await asyncio.wait(
            {get, stop}, timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for fut in (get, stop):
            if not fut.done():
                fut.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fut
    return get.result() if get.done() and not get.cancelled() else None


JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
ROUTES = [
    Route("GET", "/api/jobs", list_jobs, "All known jobs", "jobs"),
    Route(
        "GET",
        "/api/jobs/{id}",
        get_job,
        "A job's state and progress",
        "jobs",
        responses={200: (JSON, "{id, kind, state, progress, message, result}")},
        extra={"parameters": [JOB_ID]},
    ),
    Route(
        "GET",
        "/api/jobs/{id}/events",
        job_events,
        "Follow a job as Server-Sent Events",
        "jobs",
        responses={
            200: (
                "text/event-stream",
                "event: progress (job JSON) on each change; last: event: end",
            )
        },
        extra={"parameters": [JOB_ID]},
    ),
    Route(
        "POST",
        "/api/jobs/{id}/cancel",
        cancel_job,
        "Cancel a job",
        "jobs",
        extra={"parameters": [JOB_ID]},
    ),
]
