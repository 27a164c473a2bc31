"""Daemon-side playback for clients that cannot play audio themselves (VS Code's extension host).

Plays through an OS player binary found on PATH (``pw-play``/``paplay``/``aplay`` on Linux,
``afplay`` on macOS, PowerShell's SoundPlayer on Windows) or ``sounddevice`` when importable.
With no usable output the daemon says so (``Conflict``, HTTP 409) and clients play the audio.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import Conflict

_LOGGER = logging.getLogger(__name__)
STARTUP_GRACE = 0.3  # seconds: a player that fails this fast found no device
NO_DEVICE = "no audio output device"


class Handle(Protocol):
    def poll(self) -> int | None: ...
    def stop(self) -> None: ...
    def error(self) -> str: ...


class Backend(Protocol):
    name: str

    def start(self, wav: Path, samples: np.ndarray, sample_rate: int) -> Handle: ...


class _ProcessHandle:
    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc

    def poll(self) -> int | None:
        return self.proc.poll()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def error(self) -> str:
        try:
            _out, err = self.proc.communicate(timeout=1.0)
        except (subprocess.TimeoutExpired, ValueError):
            return ""
        return (err or b"").decode("utf-8", "replace").strip()[-300:]


@dataclass(frozen=True)
class CommandBackend:
    """An OS player binary that takes a WAV file path as its last argument."""

    name: str
    argv: tuple[str, ...]

    def start(self, wav: Path, samples: np.ndarray, sample_rate: int) -> Handle:
        argv = [*self.argv]
        if self.name == "powershell":
            # SoundPlayer takes the path inside a script; single quotes are doubled to stay literal.
            quoted = str(wav).replace("'", "''")
            argv.append(f"(New-Object Media.SoundPlayer '{quoted}').PlaySync()")
        else:
            argv.append(str(wav))
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return _ProcessHandle(proc)


class _SoundDeviceHandle:
    def __init__(self, sd, seconds: float) -> None:
        self.sd = sd
        self.until = time.monotonic() + seconds
        self.stopped = False

    def poll(self) -> int | None:
        return 0 if self.stopped or time.monotonic() >= self.until else None

    def stop(self) -> None:
        self.stopped = True
        self.sd.stop()

    def error(self) -> str:
        return ""


class SoundDeviceBackend:
    name = "sounddevice"

    def __init__(self, sd) -> None:
        self.sd = sd

    def start(self, wav: Path, samples: np.ndarray, sample_rate: int) -> Handle:
        try:
            self.sd.play(samples, sample_rate)
        except Exception as e:  # PortAudio errors come in several types
            raise Conflict(f"{NO_DEVICE}: {e}") from None
        return _SoundDeviceHandle(self.sd, len(samples) / sample_rate)


def detect_backend() -> Backend | None:
    """The first usable audio output on this machine, or None."""
    if sys.platform == "darwin":
        exe = shutil.which("afplay")
        return CommandBackend("afplay", (exe,)) if exe else _sounddevice()
    if sys.platform.startswith("win"):
        exe = shutil.which("powershell") or shutil.which("pwsh")
        if exe:
            return CommandBackend("powershell", (exe, "-NoProfile", "-NonInteractive", "-Command"))
        return _sounddevice()
    runtime = Path(os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}"))
    pw = shutil.which("pw-play")
    if pw and (runtime / "pipewire-0").exists():
        return CommandBackend("pw-play", (pw,))
    pa = shutil.which("paplay")
    if pa and (os.environ.get("PULSE_SERVER") or (runtime / "pulse" / "native").exists()):
        return CommandBackend("paplay", (pa,))
    ap = shutil.which("aplay")
    if ap and _alsa_has_card():
        return CommandBackend("aplay", (ap, "-q"))
    return _sounddevice()


def _alsa_has_card() -> bool:
    try:
        text = Path("/proc/asound/cards").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(text.strip()) and "no soundcards" not in text


def _sounddevice() -> Backend | None:
    try:
        import sounddevice as sd  # optional: not a dependency
    except (ImportError, OSError):
        return None
    try:
        sd.query_devices(kind="output")
    except Exception:  # no PortAudio device: treat as no output
        return None
    return SoundDeviceBackend(sd)


@dataclass
class _Playing:
    id: str
    handle: Handle
    started: float
    duration: float
    sentences: list[tuple[int, float, float]]  # index, t0, t1
    wav: Path


class Player:
    """Plays one thing at a time; ``state()`` says what and where."""

    def __init__(self, backend: Backend | None, tmp_dir: Path | None = None) -> None:
        self.backend = backend
        self.tmp_dir = Path(tmp_dir) if tmp_dir else Path(tempfile.gettempdir())
        self._lock = threading.Lock()
        self._now: _Playing | None = None

    @property
    def available(self) -> bool:
        return self.backend is not None

    def play(
        self, samples: np.ndarray, sample_rate: int, sentences: list[tuple[int, float, float]]
    ) -> str:
        """Start playing (stopping whatever plays); returns the playback id. Blocks ≤ 0.3 s."""
        if self.backend is None:
            raise Conflict(
                f"{NO_DEVICE}: no audio player found on this machine; play the audio in the client"
            )
        from ..audio_io import encode

        self.stop()
        pid = secrets.token_hex(6)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        wav = self.tmp_dir / f"playback-{pid}.wav"
        wav.write_bytes(encode(samples, sample_rate, "wav"))
        try:
            handle = self.backend.start(wav, samples, sample_rate)
        except (OSError, Conflict) as e:
            wav.unlink(missing_ok=True)
            raise Conflict(f"{NO_DEVICE}: {e}") from None
        deadline = time.monotonic() + STARTUP_GRACE
        while time.monotonic() < deadline:
            rc = handle.poll()
            if rc is not None:
                if rc != 0:
                    detail = handle.error() or f"{self.backend.name} exited with {rc}"
                    wav.unlink(missing_ok=True)
                    raise Conflict(f"{NO_DEVICE}: {detail}")
                break
            time.sleep(0.02)
        with self._lock:
            self._now = _Playing(
                pid, handle, time.monotonic(), len(samples) / sample_rate, sentences, wav
            )
        return pid

    def stop(self) -> None:
        with self._lock:
            now, self._now = self._now, None
        if now is not None:
            now.handle.stop()
            now.wav.unlink(missing_ok=True)

    def state(self) -> dict:
        with self._lock:
            now = self._now
        if now is None:
            return {"state": "idle", "playback_id": None, "sentence_index": None, "position": 0.0}
        position = time.monotonic() - now.started
        if now.handle.poll() is not None or position > now.duration + 1.0:
            self._finished(now)
            return {
                "state": "idle",
                "playback_id": now.id,
                "sentence_index": None,
                "position": now.duration,
            }
        position = min(position, now.duration)
        index = None
        for i, t0, _t1 in now.sentences:
            if t0 <= position:
                index = i
        return {
            "state": "playing",
            "playback_id": now.id,
            "sentence_index": index,
            "position": round(position, 3),
            "duration": round(now.duration, 3),
        }

    def _finished(self, playing: _Playing) -> None:
        with self._lock:
            if self._now is playing:
                self._now = None
        playing.wav.unlink(missing_ok=True)
