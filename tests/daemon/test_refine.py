"""A sentence a streamed answer decoded in chunks is re-rendered whole once the daemon is idle.

Real Speaker, G2P, cache and daemon; the engine double's chunked decode is audibly different
(half as loud) from its whole decode, so the test can tell which one the cache holds.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from ownvoice.config import load_config
from ownvoice.daemon.core import Daemon
from ownvoice.daemon.playback import Player
from ownvoice.notes.cache import AudioCache
from ownvoice.speech import Speaker
from polling import until
from tone_engine import ToneEngine

TEXT = "Quiet rivers carry the evening light toward the sea. It is late."
FIRST = "Quiet rivers carry the evening light toward the sea."


class ChunkyEngine(ToneEngine):
    def stream_phonemes(self, phonemes: str, voice, speed: float):
        for part, last in super().stream_phonemes(phonemes, voice, speed):
            yield part * 0.5, last  # the chunked render differs from the whole one


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    config = load_config()
    engine = ChunkyEngine()
    speaker = Speaker(config, engine=engine, cache=AudioCache(tmp_path / "cache", 64 << 20))
    d = Daemon(config, speaker=speaker, player=Player(None), watch_inbox=False)
    d.refiner.idle = 0.3
    d.start()
    yield d, engine
    d.stop()


def _cached_first(d: Daemon) -> np.ndarray:
    s = d.speaker
    voice = s.resolve_voice("default", "en")
    return s.cache.get(s.voice_key(voice).key(FIRST, "en"))


def _stream(d: Daemon) -> list:
    async def run():
        return [c async for c in d.synth.iterate(lambda cancelled: d.speaker.stream(TEXT, chunk_first=True))]

    return asyncio.run(run())


def test_a_chunked_first_sentence_is_replaced_by_its_whole_render_when_idle(daemon):
    d, engine = daemon
    chunks = _stream(d)
    assert [c.part for c in chunks if c.index == 0] == [0, 1, 2]  # it was streamed in chunks
    chunked = np.concatenate([c.samples for c in chunks if c.index == 0])
    np.testing.assert_array_equal(_cached_first(d), chunked)
    calls = len(engine.calls)

    assert until(lambda: d.refiner.refined == 1)
    whole = _cached_first(d)
    assert len(whole) == len(chunked) and np.abs(whole).max() == pytest.approx(2 * np.abs(chunked).max())
    assert len(engine.calls) == calls + 1 and d.refiner.pending == 0

    # A replay now plays the whole render, from the cache, with no model call.
    replay = list(d.speaker.stream(TEXT, chunk_first=True))
    np.testing.assert_array_equal(replay[0].samples, whole)
    assert len(engine.calls) == calls + 1


def test_nothing_is_re_rendered_while_requests_keep_coming(daemon):
    d, engine = daemon
    _stream(d)
    for _ in range(4):  # a request every 0.2 s: never 0.3 s of quiet
        with d.serving():
            time.sleep(0.2)
    assert d.refiner.refined == 0 and d.refiner.pending == 1
    assert until(lambda: d.refiner.refined == 1)
