"""Malformed audio through ``prepare_recordings``: a clear, specific reason for each, never a crash.

The whole generated corpus (``audio_corpus.py``, 40+ kinds) goes through one batch together with a
real recording from ../shared/speech (with its transcript as a sidecar, so no ASR model is needed).
The batch runs in a child process so that its own peak memory is measured and a decoder crash
(segfault, abort) shows up as a failure instead of taking pytest down.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN_PREP = Path(__file__).resolve().parent / "run_prep.py"
# Every rejection must be one of the pipeline's own explanations, never the catch-all
# "could not be processed (SomeError: ...)" that marks an unexpected exception.
KNOWN_REASONS = re.compile(
    r"empty|silent|no speech|telephone quality|not a real recording rate|cannot decode|corrupt|"
    r"no audio (channels|stream)|not a readable file|NaN or infinite|unsupported audio codec|"
    r"too short|clipped|too quiet|too noisy|invalid sample rate|no usable segment"
)
# Kinds whose reason is pinned down exactly (the rest may move between gate rules).
EXPECTED = {
    "zero_length": "empty file",
    "header_only": "no audio samples",
    "zero_channels": "no audio channels",
    "nan_inf_float": "NaN or infinite",
    "rate_8k": "telephone quality",
    "rate_1hz": "not a real recording rate",
    "absurd_sample_rate": "not a real recording rate",
    "silence": "silent",
    "mp3_garbage": "cannot decode",
    "text_renamed_wav": "cannot decode",
    "text_renamed_opus": "cannot decode",
    "garbage_m4a": "cannot decode",
    "directory_named_wav": "not a readable file",
    "symlink_to_dev_zero": "not a readable file",
    "unknown_codec_tag": "unsupported audio codec",
    "truncated_flac": "corrupt",
    "white_noise": "no speech",
    "pure_tone": "no speech",
    "square_full_scale": "no speech",
    "dc_offset": "no speech",
}
CI_BATCH_SECONDS = 120.0  # s for the whole batch on a loaded 2-core machine (measured: ~3 s)
CI_EXTRA_RSS = 400 << 20  # bytes above the child's baseline (measured: ~80 MB)


def _good_recording(speech_manifest, speech_dir: Path, dest: Path) -> Path:
    rows = [
        r
        for r in speech_manifest
        if r["lang"] == "en" and r["transcript"] and 4.0 <= float(r["seconds"]) <= 16.0
    ]
    if not rows:
        pytest.skip("no English clip with a transcript in ../shared/speech")
    row = min(rows, key=lambda r: r["path"])
    good = dest / "good_speech.wav"
    shutil.copy(speech_dir / row["path"], good)
    good.with_suffix(".txt").write_text(row["transcript"] + "\n", encoding="utf-8")
    return good


def _run_batch(files: list[Path], max_total: float | None, timeout: float) -> dict:
    argv = [sys.executable, str(RUN_PREP), "en", "none" if max_total is None else str(max_total)]
    proc = subprocess.run(
        argv + [str(f) for f in files], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"the batch crashed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PREP-JSON "))
    return json.loads(line.removeprefix("PREP-JSON "))


def test_every_malformed_file_gets_a_specific_reason_and_the_good_one_is_used(
    audio_corpus, speech_manifest, speech_dir, tmp_path, tally
):
    kinds = [k for k, _, _ in audio_corpus.CORPUS if k not in audio_corpus.LONG_KINDS]
    assert len(kinds) >= 40
    paths = audio_corpus.build(tmp_path / "corpus", kinds)
    good = _good_recording(speech_manifest, speech_dir, tmp_path / "corpus")
    # the good file in the middle: files before and after it must not disturb it
    ordered = list(paths.values())
    ordered.insert(len(ordered) // 2, good)
    t0 = time.monotonic()
    out = _run_batch(ordered, max_total=120.0, timeout=600)
    wall = time.monotonic() - t0
    by_name = {r["path"]: r for r in out["report"]}
    tally.add("inputs_tried", len(ordered))
    tally.add("audio_files_tried", len(ordered))
    tally.figure("audio_batch_seconds", out["seconds"])
    tally.figure("audio_batch_extra_rss_mb", round((out["peak_rss"] - out["baseline_rss"]) / 2**20))

    assert by_name[good.name]["accepted"], by_name[good.name]
    assert by_name[good.name]["segments"] >= 1 and out["segments"] >= 1
    problems = []
    for kind, path in paths.items():
        rep = by_name.get(path.name)
        if rep is None:
            problems.append(f"{kind}: no report")
            continue
        reason = rep["reason"] or ""
        if rep["accepted"]:
            problems.append(f"{kind}: accepted as training audio")
        elif not KNOWN_REASONS.search(reason) or reason.startswith("could not be processed"):
            problems.append(f"{kind}: unclear reason {reason!r}")
        elif kind in EXPECTED and EXPECTED[kind] not in reason:
            problems.append(f"{kind}: expected {EXPECTED[kind]!r} in {reason!r}")
    assert not problems, "\n".join(problems)
    assert out["seconds"] < CI_BATCH_SECONDS and wall < CI_BATCH_SECONDS + 60, out["file_seconds"]
    assert out["peak_rss"] - out["baseline_rss"] < CI_EXTRA_RSS, out
    slowest = max(out["file_seconds"].items(), key=lambda kv: kv[1])
    assert slowest[1] < 30.0, slowest


def test_reasons_name_the_file_problem_not_a_library_misdiagnosis(audio_corpus, tmp_path):
    """libsndfile says "File does not exist" for formats it does not know; users must not see it."""
    from ownvoice.engine.preprocess.decode import decode
    from ownvoice.errors import BadInput

    paths = audio_corpus.build(tmp_path, ["mp3_garbage", "png_renamed_wav", "unknown_codec_tag"])
    for kind, path in paths.items():
        with pytest.raises(BadInput) as err:
            decode(path, rates=(16000,))
        assert "does not exist" not in str(err.value), (kind, str(err.value))
        assert path.name in str(err.value)


def test_many_channels_are_read_in_bounded_blocks(tmp_path, monkeypatch):
    """A 1000-channel file is read a few frames at a time, not 65536 frames × 1000 channels."""
    import numpy as np
    import soundfile as sf

    dec = importlib.import_module(
        "ownvoice.engine.preprocess.decode"
    )  # the module, not the function
    path = tmp_path / "wide.wav"
    sf.write(path, np.zeros((4000, 1000), np.float32), 16000, subtype="PCM_U8")
    reads: list[int] = []
    real_read = sf.SoundFile.read

    def spy(self, frames=-1, *a, **k):
        reads.append(frames)
        return real_read(self, frames, *a, **k)

    monkeypatch.setattr(sf.SoundFile, "read", spy)
    out = dec.decode(path, rates=(16000,))
    assert out.channels == 1000 and len(out.at(16000)) == 4000
    # samples per read stay within what a stereo file reads (a few hundred kB)
    assert max(reads) * out.channels <= 4 * dec.BLOCK_FRAMES, reads


@pytest.mark.hardening_full
def test_an_hour_long_file_is_handled_in_bounded_memory_and_time(
    audio_corpus, speech_manifest, speech_dir, tmp_path, tally
):
    paths = audio_corpus.build(tmp_path / "corpus", ["hour_long_noise"])
    good = _good_recording(speech_manifest, speech_dir, tmp_path / "corpus")
    out = _run_batch([paths["hour_long_noise"], good], max_total=None, timeout=1200)
    by_name = {r["path"]: r for r in out["report"]}
    tally.add("inputs_tried", 2)
    tally.add("audio_files_tried", 2)
    extra_mb = (out["peak_rss"] - out["baseline_rss"]) / 2**20
    tally.figure("hour_file_seconds", out["file_seconds"].get("hour.wav"))
    tally.figure("hour_file_extra_rss_mb", round(extra_mb))
    assert not by_name["hour.wav"]["accepted"]
    assert KNOWN_REASONS.search(by_name["hour.wav"]["reason"] or ""), by_name["hour.wav"]
    assert by_name[good.name]["accepted"]
    # an hour at 16 + 24 kHz float32 is ~576 MB; anything far above means a copy too many
    assert extra_mb < 1500, out
    assert out["file_seconds"]["hour.wav"] < 600, out["file_seconds"]


def test_frame_power_in_blocks_equals_the_whole_file_computation():
    import numpy as np

    gate = importlib.import_module("ownvoice.engine.preprocess.gate")
    x = np.random.default_rng(0).standard_normal(gate.FRAME * (gate._POWER_BLOCK * 2 + 7) + 5)
    x = x.astype(np.float32)
    n = len(x) // gate.FRAME
    whole = x[: n * gate.FRAME].reshape(n, gate.FRAME).astype(np.float64)
    np.testing.assert_allclose(gate.frame_power(x), (whole * whole).mean(axis=1), rtol=1e-12)
    assert len(gate.frame_power(x[:100])) == 0
