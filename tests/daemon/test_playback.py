"""Daemon-side playback: no device is a clear 409-style Conflict; a player process is started and stopped."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

from ownvoice.daemon.playback import CommandBackend, Player, detect_backend
from ownvoice.errors import Conflict

AUDIO = (0.2 * np.sin(np.linspace(0, 2000, 24000))).astype(np.float32)


def test_no_backend_is_a_conflict_naming_the_missing_device(tmp_path):
    player = Player(None, tmp_path)
    assert not player.available
    with pytest.raises(Conflict, match="no audio output device"):
        player.play(AUDIO, 24000, [])
    assert player.state()["state"] == "idle"


def test_detected_backend_is_none_or_a_known_player():
    backend = detect_backend()
    assert backend is None or backend.name in (
        "pw-play",
        "paplay",
        "aplay",
        "afplay",
        "powershell",
        "sounddevice",
    )


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_a_player_that_fails_at_once_is_reported_as_no_device(tmp_path):
    backend = CommandBackend("failing", ("sh", "-c", "echo 'Connection refused' >&2; exit 1"))
    with pytest.raises(Conflict, match="Connection refused"):
        Player(backend, tmp_path).play(AUDIO, 24000, [])
    assert not list(tmp_path.glob("playback-*.wav"))


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_player_process_gets_the_wav_reports_progress_and_is_stopped(tmp_path):
    seen = tmp_path / "seen"
    # A stand-in player process: records the file it was given, then "plays" for 5 s.
    backend = CommandBackend("sh", ("sh", "-c", f'cp "$0" {seen} && sleep 5'))
    player = Player(backend, tmp_path)
    pid = player.play(AUDIO, 24000, [(0, 0.0, 0.4), (1, 0.5, 1.0)])
    time.sleep(0.6)
    state = player.state()
    assert (
        state["state"] == "playing" and state["playback_id"] == pid and state["sentence_index"] == 1
    )
    assert seen.read_bytes()[:4] == b"RIFF"
    player.stop()
    assert player.state()["state"] == "idle"
    assert not list(tmp_path.glob("playback-*.wav"))
    if os.name == "posix":
        assert player.backend.name == "sh"
