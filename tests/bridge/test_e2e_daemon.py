"""End to end with the real daemon process and the real Speaker/trainer (slow).

Starts `ownvoice serve` on a free port with OWNVOICE_HOME in a temp dir, then: speaks through
/v1/audio/speech with the official openai client; streams /api/speak as ndjson and checks the
first sentence arrives before the rest is synthesized; drops real LJ Speech recordings into the
inbox and follows the training job over SSE across a SIGKILL and a SIGTERM restart to done.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ownvoice.bridge.client import Client, DaemonDown

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX signals")]
SPEECH = Path(__file__).resolve().parents[2] / ".." / "shared" / "speech"
START_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need(module: str) -> None:
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        pytest.skip(f"{module} is not in this build yet; this end-to-end test needs it")


class DaemonProcess:
    """`ownvoice serve` as a child process, with its log kept for failure messages."""

    def __init__(self, home: Path, port: int) -> None:
        self.home, self.port = home, port
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / f"serve-{time.time_ns()}.log"
        env = {**os.environ, "OWNVOICE_HOME": str(home)}
        env.pop("OWNVOICE_CONFIG", None)
        with open(self.log, "wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ownvoice.cli", "serve", "--port", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.client = Client(
            f"http://127.0.0.1:{port}", token_file=home / "config" / "token", timeout=300
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}:\n{self.tail()}"
            assert time.monotonic() < deadline, f"no answer in {START_TIMEOUT} s:\n{self.tail()}"
            try:
                self.client._token = None
                self.client.status()
                return
            except (DaemonDown, OSError, ValueError):
                time.sleep(0.25)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def term(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


@pytest.fixture
def daemon(tmp_path):
    procs: list[DaemonProcess] = []

    def start(home: Path | None = None, port: int | None = None) -> DaemonProcess:
        p = DaemonProcess(home or tmp_path / "home", port or _free_port())
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.proc.poll() is None:
            p.kill()


def _audible(samples: np.ndarray) -> bool:
    return float(np.sqrt(np.mean(samples**2))) > 0.005 and float(np.abs(samples).max()) > 0.05


def test_real_daemon_speaks_to_the_openai_client_and_streams_ndjson(daemon):
    openai = pytest.importorskip("openai")
    d = daemon()
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{d.port}/v1", api_key=d.client.token, max_retries=0, timeout=300
    )
    text = "Reading my notes aloud, on this machine."
    data = client.audio.speech.create(
        model="ownvoice", input=text, voice="default", response_format="wav"
    ).read()
    audio, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == 24000 and _audible(audio)
    words = len(text.split())
    assert 0.15 * words < len(audio) / sr < 1.2 * words + 1.5, len(audio) / sr

    # ndjson: the first sentence arrives while the others are still being synthesized.
    text = "The first sentence is short. The second one takes a little longer to say. A third follows it."
    t0 = time.monotonic()
    arrivals, lines = [], []
    for line in d.client.speak_stream(text):
        arrivals.append(time.monotonic() - t0)
        lines.append(line)
    sentences = [x for x in lines if x["type"] == "sentence"]
    assert lines[-1]["type"] == "done" and len(sentences) >= 3
    assert arrivals[0] < 0.6 * arrivals[-1], arrivals
    units = text.encode("utf-16-le")
    for s in sentences:
        audio, sr = sf.read(io.BytesIO(base64.b64decode(s["audio_base64"])), dtype="float32")
        assert sr == 24000 and _audible(audio)
        assert units[2 * s["start"] : 2 * s["end"]].decode("utf-16-le").strip() == s["text"]

    # A replay of a sentence comes from the cache.
    t0 = time.monotonic()
    d.client.speak(sentences[0]["text"])
    assert time.monotonic() - t0 < 0.5
    assert d.term() == 0


TRAIN_SPEAKER = "ljspeech"  # one reader with transcripts (no ASR needed): 3 clips of 4.5-5.2 s
TRAIN_CONFIG = "train_max_minutes = 8.0\ntrain_max_steps = 3\n"  # a quick trial run, real steps


def _speaker_clips(speaker: str = TRAIN_SPEAKER, n: int = 3) -> list[tuple[Path, str]]:
    """A few mid-length clips of one speaker, so preparation stays short and there is held-out audio."""
    manifest = SPEECH / "MANIFEST.tsv"
    if not manifest.exists():
        pytest.skip(f"real speech corpus not found at {SPEECH.resolve()}")
    with open(manifest, encoding="utf-8", newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if r["speaker"] == speaker and r["transcript"] and 4.4 <= float(r["seconds"]) <= 7.0
        ]
    if len(rows) < n:
        pytest.skip(f"{speaker} has fewer than {n} clips of 4.4-7 s in the corpus")
    rows.sort(key=lambda r: float(r["seconds"]))
    return [(SPEECH / r["path"], r["transcript"]) for r in rows[:n]]


def test_dropped_recordings_train_across_sigkill_and_sigterm_restarts(daemon, tmp_path):
    _need("ownvoice.engine.clone")
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(TRAIN_CONFIG)
    port = _free_port()
    d = daemon(home, port)
    folder = home / "data" / "inbox" / "LJ e2e"
    folder.mkdir(parents=True)
    (folder / "consent.txt").write_text(
        "LJ Speech is in the public domain; automated end-to-end test."
    )
    clips = _speaker_clips()
    for wav, transcript in clips:
        shutil.copy(wav, folder / wav.name)
        (folder / wav.with_suffix(".txt").name).write_text(transcript)

    # The drop folder waits for the files to settle, then queues a job; follow it until it runs.
    deadline = time.monotonic() + 60
    while not (jobs := d.client.request("GET", "/api/jobs").json()["jobs"]):
        assert time.monotonic() < deadline, d.tail()
        time.sleep(0.5)
    job_id = jobs[0]["id"]
    for event, job in d.client.job_events(job_id):
        if job["state"] == "running" and job["progress"] > 0 or event == "end":
            break
    assert job["state"] == "running", job

    d.kill()  # SIGKILL mid-training: the job file still says "running"
    on_disk = json.loads((home / "data" / "jobs" / f"{job_id}.json").read_text())
    assert on_disk["state"] == "running", on_disk
    staged = home / "data" / "staging" / job_id
    assert sorted(p.name for p in staged.glob("*.wav")) == sorted(w.name for w, _ in clips)
    d = daemon(home, port)
    assert d.client.voices()["voices"]  # the store survived and answers
    # Requeued, and running again; wait until preparation is cached (training has begun).
    for event, job in d.client.job_events(job_id):
        if job["state"] == "running" and job["detail"].get("phase") in ("init", "train") or (
            event == "end"
        ):
            break
    assert job["state"] in ("running", "done"), job

    assert d.term() == 0  # graceful stop mid-job: it goes back to the queue on disk
    on_disk = json.loads((home / "data" / "jobs" / f"{job_id}.json").read_text())
    assert on_disk["state"] in ("queued", "done"), on_disk
    d = daemon(home, port)  # restart with the job queued: it resumes and finishes
    final, train_events = None, []
    for event, job in d.client.job_events(job_id):
        final = job
        if job["detail"].get("phase") == "train" and job["detail"].get("step"):
            train_events.append(job["detail"])
    assert final["state"] == "done", (final, d.tail())
    # Progress over SSE carried real optimisation steps with their loss and an ETA.
    assert train_events, "no training progress event with a step arrived over SSE"
    last = train_events[-1]
    assert last["step"] >= 1 and last["loss"] is not None and last["loss"] > 0
    assert last["eta_s"] is not None and last["eta_s"] >= 0

    voice_id = final["result"]["voice_id"]
    assert any(v["id"] == voice_id for v in d.client.voices()["voices"])
    meta = d.client.request("GET", f"/api/voices/{voice_id}").json()
    report = meta["training"]
    assert 1 <= report["steps"] <= 3 and report["train_loss_first"] is not None, report
    # The user's recordings are kept (moved to trained/), never lost.
    assert sorted(p.name for p in (folder / "trained").glob("*.wav")) == sorted(
        w.name for w, _ in clips
    )
    wav = d.client.speak("This is my own voice now.", voice=voice_id).body
    audio, sr = sf.read(io.BytesIO(wav), dtype="float32")
    assert sr == 24000 and _audible(audio)
    assert d.term() == 0
