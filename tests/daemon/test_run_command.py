"""`ownvoice run` (what `make run` starts): the real daemon prints where it is, speaks a first sample,
and the curl command it prints works as printed (slow: loads the real model)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX shell")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_until(proc: subprocess.Popen, marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} within {timeout} s:\n" + "\n".join(lines))


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_run_prints_url_token_sample_and_a_working_curl(tmp_path):
    port = _free_port()
    env = {**os.environ, "OWNVOICE_HOME": str(tmp_path / "home")}
    env.pop("OWNVOICE_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ownvoice.cli", "run", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = _read_until(proc, "first spoken sample:", 180)
        said = "\n".join(lines)
        assert f"ownvoice is running at http://127.0.0.1:{port}" in said
        token_file = Path(said.split("token:", 1)[1].split("\n", 1)[0].strip())
        assert token_file.is_file() and (token_file.stat().st_mode & 0o777) == 0o600
        assert "drop folder:" in said
        sample = Path(said.split("first spoken sample:", 1)[1].split("\n", 1)[0].strip())
        audio, rate = sf.read(sample)
        assert rate == 24000 and len(audio) / rate > 1.0 and abs(audio).max() > 0.05
        curl = said.split("try it:", 1)[1].split("\n", 1)[0].strip()
        done = subprocess.run(["bash", "-c", curl], cwd=tmp_path, timeout=120, capture_output=True)
        assert done.returncode == 0, done.stderr
        spoken, rate = sf.read(tmp_path / "hello.wav")
        assert rate == 24000 and len(spoken) / rate > 0.8 and abs(spoken).max() > 0.05
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
