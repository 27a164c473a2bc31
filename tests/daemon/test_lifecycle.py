"""Single instance lock, pid file, SIGTERM shutdown and `ownvoice start/stop`, with real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ownvoice.bridge.client import Client
from ownvoice.config import load_config
from ownvoice.daemon.lifecycle import InstanceLock, daemon_status, is_running, read_pid_file
from ownvoice.errors import Conflict

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on POSIX")


def _serve(*extra):
    return subprocess.Popen(
        [sys.executable, "-m", "ownvoice.cli", "serve", "--port", "0", "--no-warm-up", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
    )


def _wait_ready(proc, paths, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode()
        info = read_pid_file(paths)
        if info and info["pid"] == proc.pid:
            return info
        time.sleep(0.1)
    raise AssertionError("daemon did not write its pid file")


def test_instance_lock_refuses_a_second_holder():
    paths = load_config().paths.ensure()
    first = InstanceLock(paths)
    first.acquire()
    try:
        with pytest.raises(Conflict):
            InstanceLock(paths).acquire()
        assert is_running(paths)
    finally:
        first.release()
    assert not is_running(paths)


def test_serve_writes_pid_file_refuses_a_second_instance_and_stops_on_sigterm():
    config = load_config()
    paths = config.paths
    proc = _serve()
    try:
        info = _wait_ready(proc, paths)
        assert info["url"].startswith("http://127.0.0.1:") and info["port"] > 0
        status = Client(info["url"], token_file=paths.token_file, timeout=10).status()
        assert status["pid"] == proc.pid
        assert daemon_status(config)["running"] is True
        from ownvoice.commands.status import collect

        live = collect()["daemon"]  # `ownvoice status` asks the daemon itself
        assert live["running"] and "api_error" not in live, live
        assert live["model"]["state"] in ("idle", "loading", "ready") and live["queue"]["max"] > 0
        out = subprocess.run(
            [sys.executable, "-m", "ownvoice.cli", "status"], check=True, capture_output=True, text=True, timeout=60
        ).stdout
        assert "model:" in out and "requests:" in out and "training:" in out, out
        second = subprocess.run(
            [sys.executable, "-m", "ownvoice.cli", "serve", "--port", "0", "--no-warm-up"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1 and "already running" in second.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not paths.pid_file.exists() and not is_running(paths)
    log = (paths.logs / "daemon.log").read_text()
    assert "listening on" in log and "stopped" in log


def test_sigkill_leaves_no_stale_lock():
    paths = load_config().paths
    proc = _serve()
    try:
        _wait_ready(proc, paths)
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert paths.pid_file.exists()  # stale: the process had no chance to remove it
    assert not is_running(paths)  # but the OS released the lock, so status is right
    assert daemon_status(load_config())["running"] is False


def test_start_and_stop_commands_manage_a_background_daemon(tmp_path):
    home = os.environ["OWNVOICE_HOME"]
    cfg = tmp_path / "config.toml"
    cfg.write_text("port = 0\n")
    env = {**os.environ, "OWNVOICE_HOME": home, "OWNVOICE_CONFIG": str(cfg)}
    start = subprocess.run(
        [sys.executable, "-m", "ownvoice.cli", "start", "--wait", "90"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert start.returncode == 0, start.stderr
    assert "started" in start.stdout
    info = json.loads(load_config().paths.pid_file.read_text())
    try:
        again = subprocess.run(
            [sys.executable, "-m", "ownvoice.cli", "start"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stop = subprocess.run(
            [sys.executable, "-m", "ownvoice.cli", "stop"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    assert stop.returncode == 0 and f"pid {info['pid']}" in stop.stdout
    stop2 = subprocess.run(
        [sys.executable, "-m", "ownvoice.cli", "stop"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert "not running" in stop2.stdout
