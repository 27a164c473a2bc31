"""The bounded synthesis queue: admits at most ``queue_max`` requests, runs them off the event loop.

Model calls are serialized inside ``Speaker`` (two cores gain nothing from two inferences at once),
so a few worker threads are enough: cache hits proceed while one request synthesizes. A request
beyond the bound is refused at once with ``Busy`` (HTTP 503 + Retry-After) instead of piling up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from ..errors import Busy

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
WORKERS = 4  # threads: one synthesizes, the others serve cache hits and encoding meanwhile
HANDOFF_ITEMS = 2  # sentences a stream may run ahead of a slow reader (bounded memory)
_POLL = 0.25  # seconds between checks for a vanished reader
MAX_RETRY_AFTER = 120  # seconds: beyond this a client should rather tell its user


class SynthQueue:
    """Admission control plus a small thread pool for synthesis work."""

    def __init__(self, limit: int, workers: int = WORKERS) -> None:
        if limit < 1:
            raise ValueError("queue limit must be at least 1")
        self.limit = int(limit)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="synth"
        )
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0
        self._avg_seconds = 1.0  # running mean of request time, for Retry-After
        # entered around every request's work: lets background work (note pre-rendering) yield
        self.hold: Callable[[], AbstractContextManager] = contextlib.nullcontext

    # ---- stats ----------------------------------------------------------------------------------
    @property
    def running(self) -> int:
        return self._running

    @property
    def pending(self) -> int:
        return max(0, self._admitted - self._running)

    def retry_after(self) -> float:
        """Seconds until the queue has likely drained: model calls run one at a time, so length × mean."""
        return float(min(MAX_RETRY_AFTER, max(1, math.ceil(self._admitted * self._avg_seconds))))

    def _admit(self) -> None:
        with self._lock:
            if self._admitted >= self.limit:
                raise Busy(
                    f"the synthesis queue is full ({self.limit} requests); try again shortly",
                    retry_after=self.retry_after(),
                )
            self._admitted += 1

    def _release(self, started: float) -> None:
        with self._lock:
            self._admitted -= 1
            self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * (time.monotonic() - started)

    def _tracked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            self._running += 1
        try:
            with self.hold():
                return fn(*args)
        finally:
            with self._lock:
                self._running -= 1

    # ---- running work ---------------------------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker thread once admitted; raises ``Busy`` when full."""
        self._admit()
        started = time.monotonic()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._tracked, fn, *args)
        finally:
            self._release(started)

    async def iterate(self, make: Callable[[Callable[[], bool]], Iterator[T]]) -> AsyncIterator[T]:
        """Drive a blocking iterator in a worker thread, handing items over with backpressure.

        ``make(cancelled)`` builds the iterator; ``cancelled()`` turns true when the consumer
        stops early (client gone), so synthesis stops after the current sentence.
        """
        self._admit()
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue(maxsize=HANDOFF_ITEMS)
        stop = threading.Event()

        def hand_over(kind: str, value: Any) -> bool:
            put = queue.put((kind, value))
            try:
                fut = asyncio.run_coroutine_threadsafe(put, loop)
            except RuntimeError:  # the loop is closed (the request is over): drop the item
                put.close()  # never scheduled; closed, it is not reported as never awaited
                return False
            while True:
                try:
                    fut.result(timeout=_POLL)
                    return True
                except concurrent.futures.TimeoutError:
                    if stop.is_set():
                        fut.cancel()
                        return False
                except (concurrent.futures.CancelledError, RuntimeError):
                    return False  # the loop is closing

        def produce() -> None:
            try:
                for item in make(stop.is_set):
                    if stop.is_set() or not hand_over("item", item):
                        return
            except BaseException as e:  # handed to the consumer, which raises it in its context
                hand_over("error", e)
                return
            hand_over("end", None)

        worker = loop.run_in_executor(self._pool, self._tracked, produce)
        try:
            while True:
                kind, value = await queue.get()
                if kind == "item":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()
            self._release(started)
            # Do not wait for the worker: it notices ``stop`` within one sentence.
            worker.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
