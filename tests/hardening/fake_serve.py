"""A real daemon process (lock, pid file, signals, aiohttp bridge, jobs, drop folder) around the
test-only fake speaker and trainer of ``tests/bridge/conftest.py``, for fuzzing and fault tests.

Run as ``python fake_serve.py --port N [--crash-at TARGET:N] ...`` with ``OWNVOICE_HOME`` set.
``--crash-at`` injects a fault: the process SIGKILLs itself on the N-th call of TARGET (before the
call runs), so a test can stop the daemon at an exact point of a write and check what survives.
Never imported by product code.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import logging
import os
import signal
import sys
from pathlib import Path

_BRIDGE_CONFTEST = Path(__file__).resolve().parents[1] / "bridge" / "conftest.py"

# Points where a fault can be injected: name → (module, attribute).
CRASH_TARGETS = {
    "store.replace": ("ownvoice.voice_store.store", "os.replace"),
    "store.save_file": ("ownvoice.voice_store.store", "save_file"),
    "atomic.replace": ("ownvoice.atomic", "os.replace"),
    "dropfolder.move": ("ownvoice.daemon.dropfolder", "_move"),
    "jobs.persist": ("ownvoice.daemon.jobs", "atomic.write_text"),
}


def _load_fakes():
    spec = importlib.util.spec_from_file_location("ownvoice_bridge_test_fakes", _BRIDGE_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install_crash(target: str, nth: int, action: str = "kill") -> None:
    """Make the N-th call of ``target`` kill this process with SIGKILL (no cleanup runs), or,
    with ``action="enospc"``, fail from then on as a full disk does."""
    import importlib

    module_name, attr = CRASH_TARGETS[target]
    module = importlib.import_module(module_name)
    owner = module
    *path, last = attr.split(".")
    for part in path:
        owner = getattr(owner, part)
    real = getattr(owner, last)
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= nth:
            if action == "enospc":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    if path:  # e.g. os.replace: patch only the module's view, via a shim namespace
        import types

        shim = types.SimpleNamespace(
            **{k: getattr(owner, k) for k in dir(owner) if not k.startswith("__")}
        )
        setattr(shim, last, crashing)
        setattr(module, path[0], shim)
    else:
        setattr(module, last, crashing)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=0.0, help="seconds per fake sentence")
    ap.add_argument("--train-steps", type=int, default=5)
    ap.add_argument("--step-seconds", type=float, default=0.05)
    ap.add_argument("--inbox", action="store_true", help="watch the drop folder")
    ap.add_argument("--settle", type=float, default=0.3)
    ap.add_argument("--crash-at", default=None, help="TARGET:N (see CRASH_TARGETS)")
    ap.add_argument("--enospc-at", default=None, help="TARGET:N: a full disk from then on")
    ap.add_argument(
        "--body-idle", type=float, default=None, help="shorter body and header timeouts (s)"
    )
    args = ap.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    fakes = _load_fakes()
    from ownvoice.config import load_config
    from ownvoice.daemon.core import Daemon
    from ownvoice.daemon.lifecycle import serve
    from ownvoice.daemon.playback import Player

    if args.body_idle is not None:  # so slow-body tests finish in seconds, not minutes
        from ownvoice.bridge import body

        body.BODY_IDLE_SECONDS = args.body_idle
        body.BODY_MIN_SECONDS = 3 * args.body_idle
        body.BODY_SECONDS_PER_MIB = 0.0
        from ownvoice.daemon import header_timeout

        header_timeout.HEADER_SECONDS = args.body_idle  # slow headers too
    if args.crash_at:
        target, _, n = args.crash_at.partition(":")
        _install_crash(target, int(n or 1))
    if args.enospc_at:
        target, _, n = args.enospc_at.partition(":")
        _install_crash(target, int(n or 1), "enospc")
    config = load_config()
    daemon = Daemon(
        config,
        speaker=fakes.FakeSpeaker(config, args.delay),
        trainer=fakes.fake_trainer(args.train_steps, args.step_seconds),
        player=Player(None),
        watch_inbox=args.inbox,
        watch_notes=False,  # FakeSpeaker has no model to pre-render with
        settle_seconds=args.settle,
    )
    return serve(config, "127.0.0.1", args.port, warm=False, daemon=daemon)


if __name__ == "__main__":
    sys.exit(main())
