"""The bounded synthesis queue: admission limit, Retry-After, and streams that stop with their reader."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from ownvoice.daemon.synthq import SynthQueue
from ownvoice.errors import Busy


def test_requests_beyond_the_limit_are_refused_with_retry_after():
    q = SynthQueue(2)
    gate = threading.Event()

    async def main():
        held = [asyncio.ensure_future(q.run(gate.wait, 10)) for _ in range(2)]
        await asyncio.sleep(0.1)
        assert (q.pending, q.running) == (0, 2)
        with pytest.raises(Busy) as e:
            await q.run(lambda: None)
        gate.set()
        await asyncio.gather(*held)
        return e.value.retry_after

    assert asyncio.run(main()) >= 1
    assert (q.pending, q.running) == (0, 0)
    q.shutdown()


def test_a_stream_stops_producing_when_its_reader_goes_away():
    q = SynthQueue(4)
    produced: list[int] = []

    def make(cancelled):
        for i in range(1000):
            if cancelled():
                return
            produced.append(i)
            time.sleep(0.01)
            yield i

    async def main():
        got = []
        stream = q.iterate(make)
        async for item in stream:
            got.append(item)
            if len(got) == 3:
                break
        await stream.aclose()  # what the ndjson handler does when the client goes away
        return got

    assert asyncio.run(main()) == [0, 1, 2]
    time.sleep(0.6)  # the producer notices within one poll interval
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n < 10  # stopped, and never ran far ahead of the reader
    assert q.pending == 0
    q.shutdown()


def test_errors_in_a_stream_reach_the_reader():
    q = SynthQueue(1)

    def make(cancelled):
        yield 1
        raise Busy("model busy")

    async def main():
        got = []
        with pytest.raises(Busy):
            async for item in q.iterate(make):
                got.append(item)
        return got

    assert asyncio.run(main()) == [1]
    q.shutdown()


def test_a_stream_that_fails_after_its_request_ended_drops_the_error_quietly(recwarn):
    q = SynthQueue(1)
    over = threading.Event()

    def make(cancelled):
        over.wait(5)  # the request is over (its event loop closed) by the time this fails
        raise Busy("too late to tell anyone")
        yield  # a generator

    async def main():
        stream = q.iterate(make)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.__anext__(), 0.2)

    asyncio.run(main())
    over.set()
    q._pool.shutdown(wait=True)  # the worker has handed over (or dropped) the error
    gc.collect()
    assert not [w for w in recwarn if "never awaited" in str(w.message)]
