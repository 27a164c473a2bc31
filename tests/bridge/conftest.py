"""Bridge test fixtures: a daemon around a test-only fake Speaker, and an aiohttp test client.

The fake lives only here under tests/: no product code path can reach it. It splits text on
sentence punctuation and "speaks" a deterministic, non-silent harmonic tone per sentence, so the
plumbing (auth, routing, errors, queue limits, streaming, jobs) is tested without the model.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer

from ownvoice.audio_constants import SAMPLE_RATE
from ownvoice.bridge.app import make_app
from ownvoice.config import load_config
from ownvoice.daemon.core import Daemon
from ownvoice.daemon.lifecycle import LINGERING_TIME
from ownvoice.daemon.playback import Player
from ownvoice.errors import Cancelled
from ownvoice.speech import ScriptSentence, SentenceAudio, check_lang, check_speed
from ownvoice.voice_store import DEFAULT_ID, BuiltinVoices, VoiceStore

_SENT = re.compile(r"[^.!?。！？\n]+[.!?。！？]*")


class FakeSpeaker:
    """Test double with Speaker's interface: regex sentences, tone audio, a dict cache."""

    def __init__(self, config, delay: float = 0.0) -> None:
        self.config = config
        self.store = VoiceStore(config.paths.voices, BuiltinVoices())
        self.delay = delay
        self.cache: dict[tuple, np.ndarray] = {}
        self.synth_calls = 0
        self.lock = threading.Lock()
        # Tests can hold synthesis: once ``hold_after`` sentences are done, wait for ``release``.
        self.hold_after: int | None = None
        self.release = threading.Event()

    def model_coming(self):
        pass

    def model_status(self):
        return {"state": "ready", "seconds": 0.0}

    def script(self, text, markdown=False, rules=None, lang="auto"):
        check_lang(lang)
        out = []
        for m in _SENT.finditer(text):
            piece = m.group(0).strip()
            if piece.startswith("#"):
                piece = piece.lstrip("# ")
            if not re.search(r"\w", piece):
                continue
            start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
            out.append(
                ScriptSentence(
                    len(out),
                    piece,
                    "en" if lang == "auto" else lang,
                    start,
                    start + len(m.group(0).strip()),
                )
            )
        return out

    def resolve_voice(self, voice, lang="en"):
        if voice == DEFAULT_ID:
            return self.store.builtins.default_for("ja" if lang == "ja" else "en")
        return self.store.find(voice)

    def stream(
        self,
        text,
        voice="default",
        lang="auto",
        speed=1.0,
        markdown=False,
        rules=None,
        cancelled=None,
        chunk_first=False,  # the real Speaker's latency option; sentences here are never cut
    ):
        speed = check_speed(speed)
        sentences = self.script(text, markdown, rules, lang)
        v = self.resolve_voice(voice, "en")
        for s in sentences:
            if cancelled and cancelled():
                return
            key = (s.text, v.id, speed)
            audio = self.cache.get(key)
            if audio is None:
                if self.hold_after is not None and self.synth_calls >= self.hold_after:
                    self.release.wait(30)
                with self.lock:
                    self.synth_calls += 1
                    time.sleep(self.delay)
                audio = self.cache[key] = tone(len(s.text) * 0.05 / speed)
            yield SentenceAudio(s.index, s.text, s.lang, s.start, s.end, audio)


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    env = np.minimum(1.0, np.minimum(t, t[-1] - t if len(t) else t) * 50)
    x = 0.3 * np.sin(2 * np.pi * 180 * t) + 0.15 * np.sin(2 * np.pi * 360 * t)
    return (x * env).astype(np.float32)


class TimedBackend:
    """Test-only audio output: "plays" by letting the clock run for the audio's duration."""

    name = "timed"

    def start(self, wav, samples, sample_rate):
        class Handle:
            def __init__(self, seconds):
                self.until = time.monotonic() + seconds
                self.stopped = False

            def poll(self):
                return 0 if self.stopped or time.monotonic() >= self.until else None

            def stop(self):
                self.stopped = True

            def error(self):
                return ""

        return Handle(len(samples) / sample_rate)


def fake_trainer(steps: int = 5, step_seconds: float = 0.05, fail: str | None = None):
    """A trainer double that reports progress, honours cancel and stores a real voice file."""

    def train(req, progress, cancel):
        done = int((req.workdir / "step").read_text()) if (req.workdir / "step").exists() else 0
        for step in range(done, steps):
            if cancel():
                raise Cancelled("cancelled")
            time.sleep(step_seconds)
            (req.workdir / "step").write_text(str(step + 1))
            progress(
                {
                    "step": step + 1,
                    "total": steps,
                    "loss": 1.0 / (step + 1),
                    "phase": "fit",
                    "message": f"step {step + 1}/{steps}",
                }
            )
        if fail:
            from ownvoice.errors import BadInput

            raise BadInput(fail)
        store = VoiceStore(load_config().paths.voices)
        style = np.full((1, 256), 0.01, dtype=np.float32)
        voice = store.create(req.name, languages=[req.lang], consent=req.consent, style=style)
        return {
            "voice_id": voice.id,
            "voice": voice.summary(),
            "files": [p.name for p in req.files],
            "denoise": req.denoise,
        }

    return train


@pytest.fixture
def make_daemon(ownvoice_home):
    made: list[Daemon] = []

    def make(*, delay: float = 0.0, player=None, trainer=None, **settings) -> Daemon:
        config = load_config()
        if settings:
            config = config.with_values(**settings)
        d = Daemon(
            config,
            speaker=FakeSpeaker(config, delay),
            player=player or Player(None),
            trainer=trainer or fake_trainer(),
            watch_inbox=False,
            watch_notes=False,  # the pre-renderer needs a real Speaker (tests/daemon covers it)
        )
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


@pytest.fixture
def serve():
    """``serve(daemon, fn)`` runs ``await fn(client, raw)``: client sends the token, raw sends nothing."""

    def run(daemon: Daemon, fn):
        async def main():
            app = make_app(daemon)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server(lingering_time=LINGERING_TIME)
            auth = {"Authorization": f"Bearer {daemon.token}"}
            async with (
                server,
                TestClient(server, headers=auth) as client,
                TestClient(server) as raw,
            ):
                return await fn(client, raw)

        return asyncio.run(main())

    return run


@pytest.fixture
def timed_player(tmp_path) -> Player:
    return Player(TimedBackend(), tmp_path)


@pytest.fixture
def fake_trainer_factory():
    return fake_trainer


@pytest.fixture
def notes_root(tmp_path) -> Path:
    root = tmp_path / "vault"
    (root / "folder").mkdir(parents=True)
    (root / "folder" / "note.md").write_text(
        "# Title\n\nFirst sentence 😀 here. Second one!\n", encoding="utf-8"
    )
    return root


@pytest.fixture
def live_server():
    """``with live_server(daemon) as url:`` serves the app on a real loopback port in a thread."""
    import contextlib

    from aiohttp import web

    @contextlib.contextmanager
    def run(daemon: Daemon):
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        state: dict = {}

        async def start():
            runner = web.AppRunner(make_app(daemon), lingering_time=LINGERING_TIME)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            state["runner"] = runner
            state["port"] = runner.addresses[0][1]

        def main():
            asyncio.set_event_loop(loop)
            loop.run_until_complete(start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(state["runner"].cleanup())
            loop.close()

        t = threading.Thread(target=main, daemon=True)
        t.start()
        assert ready.wait(30)
        try:
            yield f"http://127.0.0.1:{state['port']}"
        finally:
            loop.call_soon_threadsafe(loop.stop)
            t.join(30)

    return run
