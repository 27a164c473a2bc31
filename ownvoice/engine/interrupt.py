"""``Interrupt``: lets another thread stop a synthesis in progress.

Background work (pre-rendering notes) synthesizes with one, and a request that needs the model
stops it instead of waiting a whole sentence (~1 s on 2 cores) for it. The fast runtime stops
between two layers of the graph (onnxruntime's ``RunOptions.terminate``), within milliseconds;
a runtime that cannot stop mid-sentence (the torch fallback) checks only before it starts. A
stopped synthesis raises ``Cancelled`` and produces nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import Cancelled


class Interrupt:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._hooks: list[Callable[[], None]] = []

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Stop the synthesis using this (now, or as soon as it starts); idempotent."""
        with self._lock:
            self._stopped = True
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook()

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when stopped (at once if already stopped); a runtime's way to abort."""
        with self._lock:
            if not self._stopped:
                self._hooks.append(hook)
                return
        hook()

    def check(self) -> None:
        if self._stopped:
            raise Cancelled("synthesis interrupted by a more urgent request")
