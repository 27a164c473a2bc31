"""Daemon test fixtures: a short trainer double that checkpoints, reports progress and honours cancel.

It lives only under tests/ (no product path reaches it); the real trainer is exercised by the
end-to-end tests in tests/bridge/test_e2e_daemon.py.
"""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from ownvoice.config import load_config
from ownvoice.errors import BadInput, Cancelled


class StepTrainer:
    """Counts steps into ``workdir/step`` (its checkpoint) so a restarted job resumes, not restarts."""

    def __init__(
        self,
        steps: int = 5,
        step_seconds: float = 0.02,
        fail: str | None = None,
        crash: bool = False,
    ) -> None:
        self.steps, self.step_seconds, self.fail, self.crash = steps, step_seconds, fail, crash
        self.started_at: list[int] = []
        self.calls = 0
        self.running = threading.Event()

    def __call__(self, req, progress, cancel):
        from ownvoice.voice_store import VoiceStore

        self.calls += 1
        ckpt = req.workdir / "step"
        done = int(ckpt.read_text()) if ckpt.exists() else 0
        self.started_at.append(done)
        self.running.set()
        for step in range(done, self.steps):
            if cancel():
                raise Cancelled("cancelled")
            time.sleep(self.step_seconds)
            ckpt.write_text(str(step + 1))
            if step % 2:
                progress(step + 1, self.steps, 0.5, 1.0, f"step {step + 1}")  # positional form
            else:
                progress(
                    {
                        "step": step + 1,
                        "total": self.steps,
                        "loss": 0.5,
                        "message": f"step {step + 1}",
                    }
                )
        if self.crash:
            raise RuntimeError("boom")
        if self.fail:
            raise BadInput(self.fail)
        store = VoiceStore(load_config().paths.voices)
        voice = store.create(
            req.name,
            languages=[req.lang],
            consent=req.consent,
            style=np.full((1, 256), 0.01, np.float32),
        )
        return {"voice_id": voice.id, "files": sorted(p.name for p in req.files)}


@pytest.fixture
def step_trainer():
    return StepTrainer


def wav_bytes(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.2 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), rate, format="WAV")
    return buf.getvalue()


@pytest.fixture
def make_wav():
    return wav_bytes


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def wait():
    return wait_for
