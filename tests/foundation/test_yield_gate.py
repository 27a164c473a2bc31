"""Background synthesis gives way to requests through one ``YieldGate``."""

from __future__ import annotations

import threading
import time

import pytest

from ownvoice.errors import Cancelled
from ownvoice.yield_gate import YieldGate


def test_a_hold_stops_every_background_synthesis_in_progress():
    gate = YieldGate()
    with gate.working() as notes, gate.working() as refine:
        assert not notes.stopped and not refine.stopped
        with gate.hold():
            assert gate.held
            assert notes.stopped and refine.stopped
            with pytest.raises(Cancelled):
                notes.check()
    assert not gate.held


def test_work_begun_while_held_is_stopped_at_once_and_free_work_is_not():
    gate = YieldGate()
    with gate.hold(), gate.working() as interrupt:
        assert interrupt.stopped
    with gate.working() as interrupt:
        assert not interrupt.stopped


def test_wait_blocks_while_held_and_for_the_quiet_seconds_after():
    gate, stop = YieldGate(), threading.Event()
    waited: list[float] = []

    def worker():
        assert gate.wait(stop, quiet=0.3)
        waited.append(time.monotonic())

    with gate.hold():
        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(0.3)
        assert not waited  # still held
        end = time.monotonic()
    thread.join(5)
    assert waited and waited[0] - end >= 0.29  # and quiet for 0.3 s since the hold ended


def test_wait_gives_up_when_asked_to_stop():
    gate, stop = YieldGate(), threading.Event()
    result: list[bool] = []
    with gate.hold():
        thread = threading.Thread(target=lambda: result.append(gate.wait(stop)))
        thread.start()
        stop.set()
        thread.join(5)
    assert result == [False]


def test_stop_working_stops_what_runs_now_only():
    gate = YieldGate()
    with gate.working() as interrupt:
        gate.stop_working()
        assert interrupt.stopped
    with gate.working() as interrupt:
        assert not interrupt.stopped
