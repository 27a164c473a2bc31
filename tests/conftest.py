"""Shared fixtures: every test gets its own OWNVOICE_HOME; real recordings come from ../shared/speech."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPEECH = (REPO.parent / "shared" / "speech").resolve()
sys.path.insert(0, str(Path(__file__).parent))  # shared test data modules (markdown_pieces)


@pytest.fixture(scope="session")
def models_cache(tmp_path_factory) -> Path:
    """The verified, converted model weights this session shares (converting them takes ~70 s).

    ``$OWNVOICE_TEST_MODELS_DIR`` when set (``make test`` points it into ``build/``, where the
    adapters' end-to-end daemons find the same copy), else a folder in the session's temp dir.
    """
    folder = os.environ.get("OWNVOICE_TEST_MODELS_DIR")
    path = Path(folder) if folder else tmp_path_factory.getbasetemp() / "kokoro-models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def ownvoice_home(tmp_path_factory, monkeypatch, models_cache) -> Path:
    """Point ownvoice at a fresh temp home: no test ever touches the real one."""
    home = tmp_path_factory.mktemp("ovhome")
    monkeypatch.setenv("OWNVOICE_HOME", str(home))
    monkeypatch.delenv("OWNVOICE_CONFIG", raising=False)
    # one copy of the model weights shared by every home (and by daemons started as subprocesses)
    monkeypatch.setenv("OWNVOICE_MODELS_DIR", str(models_cache))
    return home


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    """The real speech corpus beside the repo (skips with a clear message when absent)."""
    if not (SPEECH / "MANIFEST.tsv").exists():
        pytest.skip(f"real speech corpus not found at {SPEECH} (expected ../shared/speech beside the repo)")
    return SPEECH


@pytest.fixture(scope="session")
def speech_manifest(speech_dir) -> list[dict]:
    with open(speech_dir / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
