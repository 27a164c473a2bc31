"""A one-hour recording is read in bounded memory and time: only the part that is needed."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import soundfile as sf

from ownvoice.engine.preprocess import prepare_recordings
from ownvoice.engine.preprocess.decode import decode

RATE = 16000
HOUR = 3600


@pytest.fixture(scope="module")
def hour_file(speech_dir, tmp_path_factory) -> Path:
    """One hour of real speech (a LibriSpeech clip repeated), written block by block to disk."""
    clip, sr = sf.read(speech_dir / "en/librispeech-2033/2033-164914-0006.wav", dtype="int16")
    assert sr == RATE
    path = tmp_path_factory.mktemp("long") / "one_hour.wav"
    with sf.SoundFile(path, "w", samplerate=RATE, channels=1, subtype="PCM_16") as f:
        left = HOUR * RATE
        while left > 0:
            block = clip[: min(len(clip), left)]
            f.write(block)
            left -= len(block)
    yield path
    path.unlink()  # 115 MB: do not leave it in the temp folder


def test_decoding_a_one_hour_file_with_a_cap_only_holds_the_kept_part(hour_file):
    tracemalloc.start()
    t0 = time.perf_counter()
    dec = decode(hour_file, rates=(24000, 16000), max_seconds=60)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert dec.truncated and dec.notes[0] == "cut to the first 60 s of 3600 s"
    assert dec.source_seconds == pytest.approx(HOUR)
    assert len(dec.at(16000)) == pytest.approx(60 * 16000, abs=64)
    kept = 60 * (24000 + 16000) * 4  # bytes of float32 output
    assert peak < kept + 8 * 2**20, f"peak {peak / 2**20:.1f} MiB for {kept / 2**20:.1f} MiB kept"
    assert elapsed < 10.0


@pytest.mark.slow
def test_prepare_reads_only_what_the_budget_needs_from_a_one_hour_file(
    hour_file, speech_dir, tmp_path
):
    import psutil

    good = tmp_path / "good.wav"
    x, sr = sf.read(speech_dir / "en/ljspeech/LJ001-0002.wav", dtype="float32")
    sf.write(good, x, sr)
    good.with_suffix(".txt").write_text("in being comparatively modern.", encoding="utf-8")
    warm = tmp_path / "warm" / "good.wav"  # no sidecar: this loads Whisper too
    warm.parent.mkdir()
    sf.write(warm, x, sr)
    prepare_recordings([warm], "en")  # load the models first: their memory is not the file's
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    result = prepare_recordings([good, hour_file], "en", max_seconds_total=12.0)
    elapsed = time.perf_counter() - t0
    grown = proc.memory_info().rss - rss0
    assert result.accepted_files == [str(good), str(hour_file)]
    long_report = next(r for r in result.report if r.path == str(hour_file))
    assert any("enough for the requested total" in w for w in long_report.warnings)
    assert long_report.seconds < 60  # read 2 x the remaining need + 30 s, not the hour
    # Stops after the segment that reaches the budget.
    assert 12.0 <= result.total_speech_s < 12.0 + 12.5
    assert any("not needed" in d for d in long_report.dropped_segments)
    assert all(s.text.strip() for s in result.segments)
    # Reading the whole hour would add ~550 MiB (24 + 16 kHz float32) before any processing.
    assert grown < 150 * 2**20, f"RSS grew {grown / 2**20:.0f} MiB"
    assert elapsed < 120
