"""Run the daemon: one instance per user (lock), pid file, signals, graceful shutdown; start/stop it.

``serve`` runs in the foreground (what the login service and ``ownvoice serve`` call); ``start``
spawns ``serve`` detached and waits until it answers; ``stop`` sends SIGTERM and waits. The lock
is an OS file lock, so a SIGKILLed daemon never leaves a stale lock behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import logging.handlers
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from .. import __version__, atomic
from ..config import Config, Paths
from ..errors import Conflict, OwnvoiceError

_LOGGER = logging.getLogger(__name__)
LOG_NAME = "daemon.log"
SHUTDOWN_TIMEOUT = 10.0  # seconds for in-flight requests to finish after SIGTERM
LOOPBACK = ("127.0.0.1", "localhost", "::1")
LINGERING_TIME = (
    1.0  # seconds spent draining a refused (e.g. 413) body before closing (aiohttp: 10)
)


class InstanceLock:
    """The single-instance lock: held for the daemon's lifetime, released by the OS on any exit."""

    def __init__(self, paths: Paths) -> None:
        paths.runtime.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(paths.lock_file), timeout=0)
        self.paths = paths

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except Timeout:
            info = read_pid_file(self.paths) or {}
            where = f" (pid {info.get('pid')}, {info.get('url')})" if info else ""
            raise Conflict(
                f"another ownvoice daemon is already running{where}; `ownvoice stop` stops it"
            ) from None

    def release(self) -> None:
        self._lock.release()


def read_pid_file(paths: Paths) -> dict | None:
    try:
        data = json.loads(paths.pid_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def is_running(paths: Paths) -> bool:
    """True when some process holds the instance lock (a pid file alone can be stale)."""
    if not paths.lock_file.exists():
        return False
    probe = FileLock(str(paths.lock_file), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        return True
    probe.release()
    return False


def daemon_status(config: Config) -> dict:
    """Whether the daemon runs, and where (used by ``ownvoice status``)."""
    paths = config.paths
    info = read_pid_file(paths) or {}
    running = is_running(paths)
    url = info.get("url") if running else f"http://{_url_host(config.host)}:{config.port}"
    out = {"running": running, "url": url}
    if running:
        out.update({k: info.get(k) for k in ("pid", "started", "version")})
    return out


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def setup_logging(paths: Paths, level: int = logging.INFO) -> Path:
    """Log to stderr and to ``logs/daemon.log`` (rotated), at ``level`` or more."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    log_file = paths.logs / LOG_NAME
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        fh = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=5 << 20, backupCount=3, encoding="utf-8"
        )
        fh.setFormatter(fmt)
        root.addHandler(fh)
    for h in root.handlers:
        if not isinstance(h, logging.FileHandler):
            h.setLevel(level)
            h.setFormatter(fmt)
    if not any(not isinstance(h, logging.FileHandler) for h in root.handlers):
        sh = logging.StreamHandler()
        sh.setFormatter(fmt)
        root.addHandler(sh)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # no per-request noise
    return log_file


def set_torch_threads(config: Config) -> int:
    """Threads for the model: the setting, else all cores up to 4 (more only adds contention)."""
    n = int(config.torch_threads) or max(1, min(4, os.cpu_count() or 1))
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return n


def serve(
    config: Config,
    host: str | None = None,
    port: int | None = None,
    *,
    on_ready: Callable[[object, str], None] | None = None,
    warm: bool = True,
    daemon=None,
) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT; returns an exit code."""
    host = host or str(config.host)
    port = int(config.port if port is None else port)
    if host not in LOOPBACK:
        _LOGGER.warning(
            "binding to %s: other machines can reach the daemon (token still required)", host
        )
    paths = config.paths.ensure()
    lock = InstanceLock(paths)
    lock.acquire()
    try:
        threads = set_torch_threads(config)
        if daemon is None:
            from .core import Daemon

            daemon = Daemon(config)
        _LOGGER.info(
            "ownvoice %s starting (pid %d, %d model threads)", __version__, os.getpid(), threads
        )
        code = asyncio.run(_run(daemon, host, port, on_ready, warm))
    finally:
        paths.pid_file.unlink(missing_ok=True)
        lock.release()
    busy = daemon.unfinished_work() if hasattr(daemon, "unfinished_work") else []
    if busy:
        # A thread inside torch/onnxruntime makes interpreter shutdown abort (SIGABRT); all
        # state is on disk (jobs requeued, checkpoints written), so leave without finalizing.
        _LOGGER.warning(
            "exiting while %s is still unwinding; it resumes on next start", ", ".join(busy)
        )
        logging.shutdown()
        os._exit(code)
    return code


async def _run(daemon, host: str, port: int, on_ready, warm: bool) -> int:
    from aiohttp import web

    from ..bridge.app import make_app
    from .header_timeout import AppRunner

    app = make_app(daemon)
    # Its connections close when request headers trickle in (slowloris); idle keep-alive stays.
    runner = AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT, lingering_time=LINGERING_TIME)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, shutdown_timeout=SHUTDOWN_TIMEOUT)
        try:
            await site.start()
        except OSError as e:
            raise Conflict(
                f"cannot listen on {host}:{port} ({e.strerror or e}); is something else using the port? "
                "Set another `port` in config.toml"
            ) from None
        bound = _bound_port(runner) or port
        url = f"http://{_url_host(host)}:{bound}"
        atomic.write_text(
            daemon.paths.pid_file,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": host,
                    "port": bound,
                    "url": url,
                    "version": __version__,
                    "started": time.time(),
                    "token_file": str(daemon.paths.token_file),
                }
            ),
        )
        _LOGGER.info(
            "listening on %s (token in %s; drop recordings in %s)",
            url,
            daemon.paths.token_file,
            daemon.paths.inbox,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Windows event loops have no signal handlers; there Ctrl-C ends asyncio.run instead.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        if warm:
            daemon.warm_up()
        if on_ready is not None:
            await loop.run_in_executor(None, on_ready, daemon, url)
        await stop.wait()
        _LOGGER.info("shutting down")
    finally:
        await runner.cleanup()
    _LOGGER.info("stopped")
    return 0


def _bound_port(runner) -> int | None:
    for addr in runner.addresses:
        if isinstance(addr, (tuple, list)) and len(addr) >= 2:
            return int(addr[1])
    return None


def start(
    config: Config, host: str | None = None, port: int | None = None, wait: float = 120.0
) -> dict:
    """Spawn ``ownvoice serve`` in the background and wait until it answers; returns its pid file."""
    paths = config.paths.ensure()
    if is_running(paths):
        info = read_pid_file(paths) or {}
        raise Conflict(f"the daemon is already running (pid {info.get('pid')}, {info.get('url')})")
    argv = [sys.executable, "-m", "ownvoice.cli", "serve"]
    if host:
        argv += ["--host", host]
    if port is not None:
        argv += ["--port", str(port)]
    kwargs: dict = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    if os.name == "posix":
        kwargs["start_new_session"] = True  # survive the terminal that started it
    else:  # pragma: no cover - Windows
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    proc = subprocess.Popen(argv, **kwargs)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        rc = proc.poll()
        if rc is not None:
            raise OwnvoiceError(
                f"the daemon exited with status {rc} while starting:\n{_log_tail(paths)}"
            )
        info = read_pid_file(paths)
        if info and info.get("pid") == proc.pid and _answers(info["url"], paths):
            return info
        time.sleep(0.25)
    raise OwnvoiceError(
        f"the daemon did not answer within {wait:.0f} s (pid {proc.pid}); see {paths.logs / LOG_NAME}"
    )


def _answers(url: str, paths: Paths) -> bool:
    from ..bridge.client import Client, DaemonDown

    try:
        Client(url, token_file=paths.token_file, timeout=5).status()
        return True
    except (DaemonDown, OSError):
        return False


def _log_tail(paths: Paths, chars: int = 2000) -> str:
    try:
        return (paths.logs / LOG_NAME).read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def stop(config: Config, timeout: float = 30.0) -> int | None:
    """SIGTERM the running daemon and wait for it to exit; returns its pid, or None if none ran."""
    paths = config.paths
    info = read_pid_file(paths)
    if not is_running(paths):
        paths.pid_file.unlink(missing_ok=True)  # stale
        return None
    if not info:
        raise OwnvoiceError(
            f"a daemon holds {paths.lock_file} but wrote no pid file; stop it by hand"
        )
    pid = int(info["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(paths):
            return pid
        time.sleep(0.2)
    raise OwnvoiceError(f"the daemon (pid {pid}) did not stop within {timeout:.0f} s")
