"""Real cloning runs on LJ Speech clips: a short training lowers the validation loss and stores a voice
that speaks; bad files in the batch are reported while good ones train; a SIGKILLed run resumes."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SPEECH = (REPO / ".." / "shared" / "speech").resolve()
CLIPS = ("LJ001-0008", "LJ001-0002", "LJ001-0013")  # the three shortest LJ clips (1.8-2.6 s)
FAST = {"crop_frames": 16, "val_crops": 1, "init_crops": 1, "val_every": 3, "checkpoint_every": 2}


def _speech() -> Path:
    if not (SPEECH / "MANIFEST.tsv").exists():
        pytest.skip(
            f"real speech corpus not found at {SPEECH} (expected ../shared/speech beside the repo)"
        )
    return SPEECH


def _copy_clips(dest: Path, names=CLIPS) -> list[Path]:
    """Copy LJ clips with their transcripts (from MANIFEST.tsv) as sidecar .txt files."""
    speech = _speech()
    with open(speech / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
        rows = {
            Path(r["path"]).stem: r
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        }
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        row = rows[name]
        wav = dest / f"{name}.wav"
        wav.write_bytes((speech / row["path"]).read_bytes())
        (dest / f"{name}.txt").write_text(row["transcript"], encoding="utf-8")
        out.append(wav)
    return out


@pytest.fixture
def shared_models(ownvoice_home, models_cache) -> Path:
    """Point this test's models cache at the session's (weights conversion takes ~70 s once)."""
    models = models_cache
    (ownvoice_home / "cache").mkdir(exist_ok=True)
    link = ownvoice_home / "cache" / "models"
    if not link.exists():
        link.symlink_to(models, target_is_directory=True)
    return models


def _bad_files(folder: Path, real: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sr = 22050
    t = np.arange(3 * sr) / sr
    files = {
        "silence": folder / "silence.wav",
        "tone": folder / "tone.wav",
        "short": folder / "short.wav",
        "corrupt": folder / "corrupt.wav",
    }
    sf.write(files["silence"], np.zeros(3 * sr, np.float32), sr)
    sf.write(files["tone"], (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    audio, rate = sf.read(real, dtype="float32")
    sf.write(files["short"], audio[: rate // 2], rate)
    files["corrupt"].write_bytes(
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage-not-a-header" + bytes(2000)
    )
    return files


def test_short_training_lowers_validation_loss_reports_bad_files_and_speaks(
    tmp_path, shared_models
):
    from ownvoice.config import load_config
    from ownvoice.engine.clone import TrainOptions, apply_adapter, train_voice
    from ownvoice.engine.g2p import to_phonemes
    from ownvoice.engine.kokoro.runtime import KokoroEngine
    from ownvoice.voice_store import BuiltinVoices, VoiceStore

    good = _copy_clips(tmp_path / "rec")
    bad = _bad_files(tmp_path / "rec", good[0])
    config = load_config()
    store = VoiceStore(config.paths.voices, BuiltinVoices())
    events: list[dict] = []
    voice = train_voice(
        store,
        "LJ test",
        good + list(bad.values()),
        "en",
        "Public-domain LJ Speech recordings (test).",
        steps=6,
        config=config,
        progress=events.append,
        options=TrainOptions(**FAST),
    )
    report = voice.meta["training"]
    # every bad file is named with a reason; the good ones trained
    rejected = report["rejected"]
    assert set(rejected) == {p.name for p in bad.values()}
    assert all(isinstance(r, str) and len(r) > 8 for r in rejected.values())
    assert {s["name"] for s in voice.meta["sources"]} == {p.name for p in good}
    assert all(len(s["sha256"]) == 64 for s in voice.meta["sources"])
    # training happened and helped on held-out audio
    assert report["steps"] == 6 and report["val_segments"] >= 1 and report["train_segments"] >= 1
    assert voice.meta["metrics"]["val_loss_best"] < voice.meta["metrics"]["val_loss_initial"]
    assert 0 < report["trainable_fraction"] < 0.01
    assert report["peak_rss_mb"] < 4096
    phases = [e["phase"] for e in events]
    assert {"load", "prepare", "align", "init", "train", "save", "done"} <= set(phases)
    train_events = [e for e in events if e["phase"] == "train" and e["message"].startswith("step ")]
    assert train_events and all(e["total"] >= e["step"] and e["eta_s"] >= 0 for e in train_events)
    assert all(
        set(e) >= {"step", "total", "loss", "val_loss", "eta_s", "phase", "message"} for e in events
    )
    # the stored voice loads back and speaks with its LoRA
    again = VoiceStore(config.paths.voices, BuiltinVoices()).get(voice.id)
    assert again.style().shape == (1, 256) and again.embedding().shape == (256,)
    assert again.meta["speaker_embedding"] == {"encoder": "resemblyzer-ge2e", "dim": 256}
    assert again.lora_dir() is not None and again.meta["consent"]["statement"].startswith(
        "Public-domain"
    )
    engine = KokoroEngine(threads=2).load()
    model = apply_adapter(engine.model, again.lora_dir())
    assert model is not engine.model
    assert apply_adapter(engine.model, again.lora_dir()) is model  # cached per voice version
    out = engine.synthesize(
        to_phonemes("This is a short test of my new voice.", "en"), again.style(), model=model
    )
    seconds = len(out.audio) / 24000
    assert 1.0 < seconds < 6.0
    assert np.sqrt(np.mean(out.audio**2)) > 0.01 and np.isfinite(out.audio).all()


_CHILD = r"""
import sys
from pathlib import Path
from ownvoice.config import load_config
from ownvoice.engine.clone import TrainOptions, train_voice
from ownvoice.voice_store import VoiceStore
cfg = load_config()
files = [Path(p) for p in sys.argv[3:]]
opts = TrainOptions(**__import__("json").loads(sys.argv[2]))
train_voice(VoiceStore(cfg.paths.voices), "resume", files, "en", "test consent", steps=6, config=cfg,
            workdir=Path(sys.argv[1]), options=opts)
"""


def test_sigkilled_training_resumes_from_its_last_checkpoint(
    tmp_path, shared_models, ownvoice_home
):
    from ownvoice.config import load_config
    from ownvoice.engine.clone import TrainOptions, train_voice
    from ownvoice.engine.clone.checkpoint import INDEX
    from ownvoice.voice_store import VoiceStore

    files = _copy_clips(tmp_path / "rec", CLIPS[:2])
    work = tmp_path / "work"
    index = work / "checkpoint" / INDEX
    env = {**os.environ, "OWNVOICE_HOME": str(ownvoice_home), "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(work), json.dumps(FAST), *map(str, files)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while not index.exists():
            if child.poll() is not None:
                pytest.fail(
                    f"training child exited early ({child.returncode}): {child.stderr.read().decode()[-2000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint within 4 minutes")
            time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    killed_at = json.loads(index.read_text())["step"]
    assert 2 <= killed_at < 6 and child.returncode == -signal.SIGKILL
    cfg = load_config()
    events: list[dict] = []
    voice = train_voice(
        VoiceStore(cfg.paths.voices),
        "resume",
        files,
        "en",
        "test consent",
        steps=6,
        config=cfg,
        workdir=work,
        options=TrainOptions(**FAST),
        progress=events.append,
    )
    report = voice.meta["training"]
    assert report["resumed"] is True and report["steps"] == 6
    assert not [e for e in events if e["phase"] in ("prepare", "align", "init")]  # cached: no redo
    first_step = min(
        e["step"] for e in events if e["phase"] == "train" and e["message"].startswith("step ")
    )
    assert first_step == killed_at + 1  # continued, not restarted from 0
    assert len(report["val_curve"]) >= 2
