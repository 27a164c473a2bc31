"""``Speaker.model_status``: what ``/api/status`` says while the model loads, after, and on failure."""

from __future__ import annotations

import threading

import pytest

import ownvoice.engine as engine_pkg
from ownvoice.speech import Speaker
from polling import until


def test_status_goes_idle_loading_ready_without_waiting_for_the_load(ownvoice_home, monkeypatch):
    release = threading.Event()
    made = object()

    def slow_load(threads=None):
        assert release.wait(10)
        return made

    monkeypatch.setattr(engine_pkg, "load_engine", slow_load)
    sp = Speaker()
    assert sp.model_status() == {"state": "idle"}
    got = []
    t = threading.Thread(target=lambda: got.append(sp.engine))
    t.start()
    assert until(lambda: sp.model_status()["state"] == "loading", 5)
    # answers while the loader holds the lock: /api/status must never wait for the model
    assert sp.model_status()["seconds"] >= 0
    # nor do voices and cached audio (/api/status lists voices): they have their own lock
    parts = []
    side = threading.Thread(target=lambda: parts.extend([sp.store, sp.cache]))
    side.start()
    side.join(5)
    assert len(parts) == 2, "the voice store waited for the model"
    release.set()
    t.join(10)
    assert got == [made]
    status = sp.model_status()
    assert status["state"] == "ready" and status["seconds"] >= 0 and "error" not in status


def test_a_failed_load_is_reported_and_the_next_use_tries_again(ownvoice_home, monkeypatch):
    calls = []

    def broken(threads=None):
        calls.append(1)
        raise RuntimeError("weights damaged")

    monkeypatch.setattr(engine_pkg, "load_engine", broken)
    sp = Speaker()
    with pytest.raises(RuntimeError):
        sp.engine
    assert sp.model_status() == {"state": "failed", "error": "RuntimeError: weights damaged"}
    monkeypatch.setattr(engine_pkg, "load_engine", lambda threads=None: "engine")
    assert sp.engine == "engine" and len(calls) == 1
    assert sp.model_status()["state"] == "ready"


def test_an_engine_passed_in_is_ready():
    assert Speaker(engine=object()).model_status() == {"state": "ready"}


def test_daemon_warm_up_reports_loading_before_its_thread_runs(ownvoice_home, monkeypatch):
    """No status request between ``serve`` listening and the warm-up thread may read "idle"."""
    from ownvoice.config import load_config
    from ownvoice.daemon.core import Daemon
    from ownvoice.daemon.playback import Player
    from ownvoice.engine import g2p

    release = threading.Event()

    def blocked(threads=None):
        assert release.wait(10)
        raise RuntimeError("no weights in this test")

    monkeypatch.setattr(engine_pkg, "load_engine", blocked)
    monkeypatch.setattr(g2p, "warm_up", lambda langs=None: None)
    sp = Speaker()
    d = Daemon(load_config(), speaker=sp, player=Player(None), watch_inbox=False, watch_notes=False)
    thread = d.warm_up()
    assert sp.model_status()["state"] == "loading"
    release.set()
    thread.join(10)
    assert sp.model_status()["state"] == "failed"
