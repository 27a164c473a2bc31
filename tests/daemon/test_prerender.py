"""The daemon pre-renders notes saved under its notes roots into the Speaker's audio cache.

Real daemon, watcher, Markdown script, G2P, cache and Speaker; only the model is a test double
(``tone_engine``) that counts its calls. Real files are written in a temp vault.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from ownvoice.bridge.routes_status import _status
from ownvoice.config import load_config
from ownvoice.daemon.core import Daemon
from ownvoice.daemon.playback import Player
from ownvoice.errors import Cancelled
from ownvoice.notes.cache import AudioCache
from ownvoice.notes.rules import ReadingRules
from ownvoice.speech import Speaker
from polling import until
from tone_engine import ToneEngine

NOTE = "# Plan\n\nWe water the plants on Monday. The cat sleeps all day.\n\n- Buy bread and milk.\n"


class SlowEngine(ToneEngine):
    """Its first background sentence (background calls come with an interrupt) takes 20 s unless
    stopped; every other call is as quick as ``ToneEngine``'s."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = threading.Event()  # the slow sentence is in progress
        self.stopped = 0

    def speak_phonemes(self, phonemes: str, voice, speed: float, interrupt=None) -> np.ndarray:
        if interrupt is not None and not self.busy.is_set():
            halt = threading.Event()
            interrupt.on_stop(halt.set)
            self.busy.set()
            if halt.wait(20.0):
                self.stopped += 1
                raise Cancelled("stopped")
        return super().speak_phonemes(phonemes, voice, speed, interrupt)


def _start(tmp_path, engine):
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "old.md").write_text("This note was here before the daemon started.", encoding="utf-8")
    config = load_config().with_values(notes_roots=[str(vault)])
    speaker = Speaker(config, engine=engine, cache=AudioCache(tmp_path / "cache", 64 << 20))
    d = Daemon(config, speaker=speaker, player=Player(None), watch_inbox=False)
    d.start()
    time.sleep(0.2)  # the observer's watches are in place
    return d, vault


@pytest.fixture
def daemon(tmp_path):
    engine = ToneEngine()
    d, vault = _start(tmp_path, engine)
    yield d, vault, engine
    d.stop()


def _all_cached(d: Daemon, text: str) -> bool:
    s = d.speaker
    script = s.script(text, markdown=True, rules=ReadingRules.from_config(d.config))
    return all(s.is_cached(x.text, x.lang, s.resolve_voice("default", x.lang)) for x in script)


def test_a_saved_note_is_prerendered_then_read_from_the_cache_and_an_edit_costs_one_sentence(daemon):
    d, vault, engine = daemon
    time.sleep(0.3)
    assert engine.calls == []  # notes already there when the daemon started are left alone
    (vault / "plan.md").write_text(NOTE, encoding="utf-8")
    assert until(lambda: _all_cached(d, NOTE))
    made = len(engine.calls)
    assert made == 4  # heading + three sentences, each once

    # Reading the note, as the bridge does for a plugin, needs no model call.
    list(d.speaker.stream(NOTE, markdown=True, chunk_first=True))
    assert len(engine.calls) == made

    edited = NOTE.replace("The cat sleeps", "The old cat sleeps")
    (vault / "plan.md").write_text(edited, encoding="utf-8")
    assert until(lambda: _all_cached(d, edited))
    time.sleep(0.3)
    assert len(engine.calls) == made + 1
    notes = _status(d)["notes"]
    assert notes["roots"] == [str(vault)] and notes["synthesized"] == made + 1
    assert notes["last"] == {"note": "plan.md", "sentences": 4, "synthesized": 1, "complete": True}


def test_background_rendering_waits_while_a_request_is_served(daemon):
    d, vault, engine = daemon

    def request() -> int:
        (vault / "later.md").write_text("A sentence saved during a request.", encoding="utf-8")
        time.sleep(1.0)  # the save settles meanwhile; the renderer must not take the model
        return len(engine.calls)

    async def serve() -> int:
        return await d.synth.run(request)

    assert asyncio.run(serve()) == 0
    assert until(lambda: len(engine.calls) == 1)


def test_a_request_stops_a_background_sentence_which_is_redone_after_it(tmp_path):
    engine = SlowEngine()
    d, vault = _start(tmp_path, engine)
    try:
        text = "A long sentence that the background renderer is working on."
        (vault / "long.md").write_text(text, encoding="utf-8")
        assert engine.busy.wait(10.0)
        voice = d.speaker.resolve_voice("default", "en")

        async def serve():
            return await d.synth.run(d.speaker.synthesize_uncached, "Read me now.", "en", voice)

        t = time.monotonic()
        assert asyncio.run(serve()).size  # the request's own audio
        assert time.monotonic() - t < 5.0  # it did not wait out the 20 s background sentence
        assert engine.stopped == 1
        assert until(lambda: _all_cached(d, text))  # the stopped sentence is rendered after all
        assert d.prerender.renderer.results[-1].complete
    finally:
        d.stop()


def test_no_notes_roots_means_no_prerendering(tmp_path):
    config = load_config()
    speaker = Speaker(config, engine=ToneEngine(), cache=AudioCache(tmp_path / "c", 1 << 20))
    d = Daemon(config, speaker=speaker, player=Player(None), watch_inbox=False)
    assert d.prerender is None and _status(d)["notes"] is None
    off = load_config().with_values(notes_roots=[str(tmp_path)], watch_notes=False)
    assert Daemon(off, speaker=speaker, player=Player(None), watch_inbox=False).prerender is None
