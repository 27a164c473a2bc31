"""Hardening suite fixtures: daemon child processes, the malformed-audio corpus, and the tally.

The fast part runs in ``make test``; tests marked ``hardening_full`` (long fault, load and fuzz
runs) are skipped unless pytest gets ``--run-long`` (``make hardening``). Every test adds what it
tried to one tally (inputs tried, faults injected, attacks refused, data lost) which is printed
at the end of the session and written as JSON to ``$OWNVOICE_HARDENING_JSON`` when that is set
(``bench/hardening.py`` reads it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ENV_JSON = "OWNVOICE_HARDENING_JSON"


def _load(name: str):
    """A helper module of this folder, loaded by path (tests/ has no packages)."""
    mod_name = f"ownvoice_hardening_{name}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


def pytest_addoption(parser):
    try:
        parser.addoption(
            "--run-long",
            action="store_true",
            default=False,
            help="also run the long hardening tests (marker hardening_full)",
        )
    except ValueError:  # registered twice (another conftest): keep the first
        pass


def _run_long(config) -> bool:
    return (
        bool(config.getoption("--run-long", default=False))
        or os.environ.get("OWNVOICE_HARDENING_FULL") == "1"
    )


def pytest_runtest_setup(item):
    if item.get_closest_marker("hardening_full") and not _run_long(item.config):
        pytest.skip("long hardening test: run `make hardening` (pytest --run-long)")


# ---- the tally ---------------------------------------------------------------------------------
class Tally:
    """Counts shared by all hardening tests of a session (thread-safe)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.figures: dict[str, float | int | str] = {}
        self._lock = threading.Lock()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def figure(self, key: str, value) -> None:
        with self._lock:
            self.figures[key] = value

    def as_dict(self) -> dict:
        return {
            "counts": dict(sorted(self.counts.items())),
            "figures": dict(sorted(self.figures.items())),
        }


TALLY = Tally()
SUMMARY_KEYS = (
    ("inputs_tried", "inputs tried (audio files, Markdown documents, API requests)"),
    ("faults_injected", "faults injected (SIGKILL at a write, disk full)"),
    ("attacks_tried", "attacks tried"),
    ("attacks_refused", "attacks refused"),
    ("server_errors", "server errors (5xx other than 503)"),
    ("schema_violations", "schema violations"),
    ("data_lost", "data lost (corrupt voices, lost recordings, half-written files)"),
)


@pytest.fixture(scope="session")
def tally() -> Tally:
    return TALLY


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TALLY.counts and not TALLY.figures:
        return
    tr = terminalreporter
    tr.section("ownvoice hardening summary")
    for key, label in SUMMARY_KEYS:
        tr.write_line(f"{TALLY.counts.get(key, 0):>8}  {label}")
    for key, value in sorted(TALLY.counts.items()):
        if key not in dict(SUMMARY_KEYS):
            tr.write_line(f"{value:>8}  {key}")
    for key, value in sorted(TALLY.figures.items()):
        tr.write_line(f"{value!s:>8}  {key}")
    out = os.environ.get(ENV_JSON)
    if out:
        Path(out).write_text(
            json.dumps({**TALLY.as_dict(), "exitstatus": int(exitstatus)}, indent=2)
        )


# ---- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def audio_corpus():
    return _load("audio_corpus")


@pytest.fixture(scope="session")
def dproc():
    """The daemon_proc helper module (DaemonProcess, free_port, write_config)."""
    return _load("daemon_proc")


@pytest.fixture
def spawn(dproc):
    """``spawn(home, **kw)`` starts a daemon child process; all are killed after the test."""
    procs = []

    def start(home: Path, **kw):
        p = dproc.DaemonProcess(home, **kw)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.alive():
            p.kill()


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory, dproc):
    """One fake-speaker daemon process per module (with a notes root), for read-mostly tests."""
    home = tmp_path_factory.mktemp("hz-daemon")
    vault = home / "vault"
    (vault / "folder").mkdir(parents=True)
    (vault / "folder" / "note.md").write_text("# Title\n\nFirst sentence. Second one!\n")
    secret = home / "secret.md"
    secret.write_text("Top secret.\n")
    (vault / "escape.md").symlink_to(secret)
    (vault / "dirlink").symlink_to(home)
    dproc.write_config(
        home, notes_roots=[str(vault)], max_text_chars=20000, queue_max=8, max_upload_mb=2
    )
    p = dproc.DaemonProcess(home)
    p.vault, p.secret = vault, secret
    yield p
    if p.alive():
        p.term()
