"""A daemon child process for hardening tests: started on a free loopback port, SIGKILLed at will.

``kind="fake"`` runs ``fake_serve.py`` (the real daemon, bridge and jobs around the test-only fake
speaker/trainer); ``kind="real"`` runs ``ownvoice serve`` with the real model. Loaded by the
hardening conftest by file path (tests/ has no packages).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

FAKE_SERVE = Path(__file__).resolve().parent / "fake_serve.py"
START_TIMEOUT = 90.0  # s: a cold import of torch and friends on a loaded 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(home: Path, **settings) -> None:
    """config.toml for the child (TOML by hand: values are str, int, float, bool or list of str)."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    lines = []
    for k, v in settings.items():
        if isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        elif isinstance(v, (int, float)):
            lines.append(f"{k} = {v}")
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    (home / "config" / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


class DaemonProcess:
    """One daemon child: ``url``, ``token``, ``session`` (token sent), ``kill()``, ``term()``."""

    def __init__(
        self,
        home: Path,
        *,
        kind: str = "fake",
        port: int | None = None,
        args: tuple[str, ...] = (),
        wait: bool = True,
        log_dir: Path | None = None,
    ) -> None:
        self.home, self.kind = Path(home), kind
        self.port = port or free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = Path(log_dir or self.home) / f"daemon-{time.time_ns()}.log"
        env = {**os.environ, "OWNVOICE_HOME": str(self.home), "OMP_NUM_THREADS": "1"}
        env.pop("OWNVOICE_CONFIG", None)
        if kind == "fake":
            argv = [sys.executable, str(FAKE_SERVE), "--port", str(self.port), *args]
        else:
            argv = [sys.executable, "-m", "ownvoice.cli", "serve", "--port", str(self.port), *args]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.session = requests.Session()
        self.token = ""
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        token_file = self.home / "config" / "token"
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"daemon did not answer in {timeout} s:\n{self.tail()}")
            try:
                if token_file.exists():
                    self.token = token_file.read_text().strip()
                    self.session.headers["Authorization"] = f"Bearer {self.token}"
                    if self.session.get(self.url + "/api/status", timeout=5).status_code == 200:
                        return
            except (requests.RequestException, OSError):
                pass
            time.sleep(0.2)

    def api(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, **kw)

    def rss_bytes(self) -> int:
        """Resident memory of the daemon process (Linux /proc)."""
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def term(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.proc.wait(timeout)
