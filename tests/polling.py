"""``until``: poll a condition that background threads make true (watchers, renderers)."""

from __future__ import annotations

import time


def until(predicate, timeout: float = 10.0) -> bool:
    """True once ``predicate()`` holds, polled every 20 ms; False after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False
