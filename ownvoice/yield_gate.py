"""``YieldGate``: background synthesis gives way to the requests a user is waiting for.

A request ``hold()``s the gate around its work. Background workers (note pre-rendering,
re-rendering streamed sentences whole) ``wait()`` until the gate is free, optionally for some
quiet seconds too, and synthesize inside ``working()``, whose ``Interrupt`` is stopped the
moment a hold begins (or at once if one is in progress). The stopped synthesis raises
``Cancelled``; the worker redoes that sentence later. One gate can serve several workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .engine.interrupt import Interrupt


class YieldGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holds = 0
        self._quiet_since = time.monotonic()
        self._working: set[Interrupt] = set()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """While inside, background work waits; a synthesis in progress is stopped."""
        with self._cond:
            self._holds += 1
            working = list(self._working)
        for interrupt in working:
            interrupt.stop()
        try:
            yield
        finally:
            with self._cond:
                self._holds -= 1
                self._quiet_since = time.monotonic()
                self._cond.notify_all()

    @property
    def held(self) -> bool:
        with self._cond:
            return self._holds > 0

    def wait(self, stop: threading.Event, quiet: float = 0.0) -> bool:
        """Wait until nothing holds the gate and nothing has for ``quiet`` seconds; False if
        ``stop`` is set meanwhile."""
        with self._cond:
            while not stop.is_set():
                left = self._quiet_since + quiet - time.monotonic()
                if not self._holds and left <= 0:
                    return True
                self._cond.wait(min(0.2, left) if not self._holds else 0.2)
        return False

    @contextmanager
    def working(self) -> Iterator[Interrupt]:
        """An ``Interrupt`` for one background synthesis: stopped when a hold begins."""
        interrupt = Interrupt()
        with self._cond:
            self._working.add(interrupt)
            if self._holds:  # a request began between the worker's wait and now
                interrupt.stop()
        try:
            yield interrupt
        finally:
            with self._cond:
                self._working.discard(interrupt)

    def stop_working(self) -> None:
        """Stop every background synthesis in progress on this gate, whichever worker runs it
        (the daemon is shutting down)."""
        with self._cond:
            working = list(self._working)
        for interrupt in working:
            interrupt.stop()
