"""Preprocessing without ASR: decoding any format, the quality gate, segmentation, bad batches.

Good files here carry a sidecar transcript, so no Whisper runs (see test_preprocess_asr.py for that).
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from ownvoice.engine.preprocess import prepare_recordings
from ownvoice.engine.preprocess.decode import decode
from ownvoice.engine.preprocess.gate import FRAME
from ownvoice.engine.preprocess.segment import plan_segments
from ownvoice.errors import BadInput, TooLarge

LJ = ["en/ljspeech/LJ001-0001.wav", "en/ljspeech/LJ001-0004.wav", "en/ljspeech/LJ001-0005.wav"]


def _manifest_text(manifest: list[dict], rel: str) -> str:
    return next(r["transcript"] for r in manifest if r["path"] == rel)


def _real(speech_dir: Path, rel: str) -> tuple[np.ndarray, int]:
    x, sr = sf.read(speech_dir / rel, dtype="float32")
    return x, sr


def _with_sidecar(path: Path, text: str) -> Path:
    path.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    return path


# --- decode ------------------------------------------------------------------------------------


def test_decode_reads_every_soundfile_format_to_the_same_mono_signal(speech_dir, tmp_path):
    x, sr = _real(speech_dir, LJ[1])
    ref = decode(speech_dir / LJ[1], rates=(24000,)).at(24000)
    for ext in ("flac", "ogg", "mp3"):
        p = tmp_path / f"clip.{ext}"
        sf.write(p, x, sr)
        got = decode(p, rates=(24000,)).at(24000)
        assert abs(len(got) - len(ref)) <= 0.06 * 24000, ext  # mp3 may pad a frame
        n = min(len(got), len(ref))
        if ext == "flac":  # lossless: identical samples
            np.testing.assert_allclose(got[:n], ref[:n], atol=1e-4)
        else:  # lossy: same loudness
            assert np.std(got[:n]) == pytest.approx(np.std(ref[:n]), rel=0.15), ext


def test_decode_reads_m4a_through_pyav(speech_dir, tmp_path):
    av = pytest.importorskip("av")
    x, sr = _real(speech_dir, LJ[1])
    p = tmp_path / "clip.m4a"
    with av.open(str(p), "w") as out:
        stream = out.add_stream("aac", rate=sr)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(x[None, :], format="fltp", layout="mono")
        frame.sample_rate = sr
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    dec = decode(p, rates=(16000,))
    assert dec.source_rate == sr
    assert dec.seconds == pytest.approx(len(x) / sr, abs=0.1)
    assert np.std(dec.at(16000)) == pytest.approx(np.std(x), rel=0.15)


def test_decode_mixes_stereo_down_and_resamples_96k_and_8k(speech_dir, tmp_path):
    x, sr = _real(speech_dir, LJ[1])
    st = tmp_path / "stereo.wav"
    sf.write(st, np.stack([x, np.zeros_like(x)], axis=1), sr)
    dec = decode(st, rates=(24000, 16000))
    assert dec.channels == 2 and "mixed down to mono" in " ".join(dec.notes)
    assert dec.at(16000).ndim == 1
    assert np.max(np.abs(dec.at(24000))) == pytest.approx(np.max(np.abs(x)) / 2, rel=0.1)
    for rate in (96000, 8000):
        p = tmp_path / f"r{rate}.wav"
        sf.write(p, soxr.resample(x, sr, rate), rate)
        d = decode(p, rates=(24000, 16000))
        assert d.source_rate == rate
        assert len(d.at(24000)) == pytest.approx(len(x) / sr * 24000, abs=48)
        assert len(d.at(16000)) == pytest.approx(len(x) / sr * 16000, abs=32)


def test_decode_cuts_at_max_seconds_with_a_note(speech_dir):
    dec = decode(speech_dir / LJ[0], rates=(16000,), max_seconds=2.0)
    assert dec.truncated
    assert len(dec.at(16000)) == pytest.approx(32000, abs=32)
    assert dec.notes[0].startswith("cut to the first 2 s")


def test_decode_refuses_broken_files_with_specific_reasons(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(BadInput, match="empty file"):
        decode(empty)

    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x07" * 40)
    with pytest.raises(BadInput, match="corrupt|cannot decode"):
        decode(corrupt)

    no_frames = tmp_path / "no_frames.wav"
    sf.write(no_frames, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(BadInput, match="no audio samples"):
        decode(no_frames)

    nan = tmp_path / "nan.wav"
    bad = np.zeros(16000, dtype=np.float32)
    bad[100] = np.nan
    sf.write(nan, bad, 16000, subtype="FLOAT")
    with pytest.raises(BadInput, match="NaN"):
        decode(nan)

    zero_ch = tmp_path / "zero_channels.wav"  # a hand-made header claiming 0 channels
    fmt = struct.pack("<HHIIHH", 1, 0, 16000, 0, 0, 16)
    zero_ch.write_bytes(
        b"RIFF"
        + struct.pack("<I", 36 + 8)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", 8)
        + b"\x00" * 8
    )
    with pytest.raises(BadInput):
        decode(zero_ch)

    with pytest.raises(BadInput, match="not a readable file"):
        decode(tmp_path / "missing.wav")


def test_decode_refuses_files_over_the_size_limit(speech_dir):
    with pytest.raises(TooLarge, match="limit"):
        decode(speech_dir / LJ[0], max_bytes=10_000)


# --- segmentation --------------------------------------------------------------------------------


def test_plan_segments_splits_long_speech_at_the_quiet_point_and_merges_short_pieces():
    rate = 16000
    # 30 s of "speech" (loud frames) with one quiet dip at 9 s and one at 21 s.
    n_frames = 30 * rate // FRAME
    power = np.full(n_frames, 1e-2)
    for t in (9.0, 21.0):
        k = int(t * rate / FRAME)
        power[k - 3 : k + 3] = 1e-6
    segs = plan_segments([(0, 30 * rate)], power)
    lengths = [(e - s) / rate for s, e in segs]
    assert all(1.5 <= x <= 12.0 for x in lengths), lengths
    assert [round(s / rate) for s, _ in segs][1:] == [9, 21]
    # Short regions close together become one segment; a lone 0.5 s blip stays short for the gate.
    short = [
        (0, rate // 2),
        (int(0.9 * rate), int(1.6 * rate)),
        (int(2.0 * rate), int(3.2 * rate)),
        (20 * rate, int(20.5 * rate)),
    ]
    merged = plan_segments(short, np.full(21 * rate // FRAME, 1e-2))
    assert merged[0] == (0, int(3.2 * rate))
    assert merged[1] == (20 * rate, int(20.5 * rate))


# --- whole batches --------------------------------------------------------------------------------


def _bad_files(folder: Path, speech_dir: Path) -> dict[str, str]:
    """Write the bad inputs; return name -> the words its rejection reason must contain."""
    rate = 16000
    t = np.arange(5 * rate) / rate
    rng = np.random.default_rng(0)
    sf.write(folder / "silence.wav", np.zeros(len(t), dtype=np.float32), rate)
    sf.write(
        folder / "white_noise.wav", (0.1 * rng.standard_normal(len(t))).astype(np.float32), rate
    )
    sf.write(folder / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    chord = np.zeros(len(t))
    # A harmonic major chord that changes every second.
    for k, root in enumerate((220.0, 262.0, 294.0, 330.0, 392.0)):
        seg = slice(k * rate, (k + 1) * rate)
        for f in (root, root * 1.25, root * 1.5):
            for h in range(1, 6):
                chord[seg] += 0.04 / h * np.sin(2 * np.pi * f * h * t[seg])
    sf.write(folder / "music_chord.wav", chord.astype(np.float32), rate)
    x, sr = _real(speech_dir, LJ[1])
    sf.write(
        _with_sidecar(folder / "half_second.wav", "produced"), x[int(0.3 * sr) : int(0.8 * sr)], sr
    )
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 8)
    sf.write(
        _with_sidecar(folder / "phone_8k.wav", "produced the block books"),
        soxr.resample(x, sr, 8000),
        8000,
    )
    return {
        "silence.wav": "silent",
        "white_noise.wav": "no speech",
        "tone.wav": "no speech",
        "music_chord.wav": "no speech",
        "half_second.wav": "too short",
        "corrupt.wav": "corrupt",
        "phone_8k.wav": "sample rate 8000 Hz",
    }


def test_bad_files_get_clear_reasons_and_good_files_in_the_batch_survive(
    speech_dir, speech_manifest, tmp_path
):
    expected = _bad_files(tmp_path, speech_dir)
    good: list[Path] = []
    for i, (rel, kind) in enumerate(zip(LJ, ("flac", "ogg", "mp3"))):
        x, sr = _real(speech_dir, rel)
        p = tmp_path / f"good{i}.{kind}"
        sf.write(p, x, sr)
        good.append(_with_sidecar(p, _manifest_text(speech_manifest, rel)))
    x, sr = _real(speech_dir, LJ[1])
    hi = tmp_path / "studio_96k_stereo.wav"
    sf.write(hi, np.stack([soxr.resample(x, sr, 96000)] * 2, axis=1), 96000)
    good.append(_with_sidecar(hi, _manifest_text(speech_manifest, LJ[1])))

    calls: list[float] = []
    paths = sorted([tmp_path / n for n in expected] + good)
    result = prepare_recordings(paths, "en", progress=lambda f, msg: calls.append(f))

    assert sorted(result.accepted_files) == sorted(str(p) for p in good)
    for name, words in expected.items():
        reason = result.rejected[str(tmp_path / name)]
        assert words in reason, (name, reason)
    assert calls[-1] == 1.0 and calls == sorted(calls)
    by_source = {s.source: s for s in result.segments}
    assert set(by_source) == {str(p) for p in good}
    for seg in result.segments:
        assert seg.text == _manifest_text(speech_manifest, _rel_for(seg.source, good))
        assert 1.5 <= seg.seconds <= 12.0
        assert len(seg.audio_24k) == pytest.approx(seg.seconds * 24000, abs=2)
        assert len(seg.audio_16k) == pytest.approx(seg.seconds * 16000, abs=2)
        rms_db = 20 * np.log10(np.sqrt(np.mean(seg.audio_24k**2)))
        assert -30 < rms_db < -18  # loudness-normalized towards -23 dBFS
        assert np.max(np.abs(seg.audio_24k)) <= 10 ** (-1 / 20) + 0.02
    assert result.total_speech_s == pytest.approx(sum(s.seconds for s in result.segments))
    report = {Path(r.path).name: r for r in result.report}
    assert any("mixed down" in w for w in report["studio_96k_stereo.wav"].warnings)
    assert "skip silence.wav: silent" in result.summary()


def _rel_for(source: str, good: list[Path]) -> str:
    idx = [str(p) for p in good].index(source)
    return (LJ + [LJ[1]])[idx]


def test_a_clipped_recording_is_rejected_as_clipped(speech_dir, tmp_path):
    x, sr = _real(speech_dir, LJ[0])
    loud = np.clip(x * 8.0, -1.0, 1.0)
    p = _with_sidecar(tmp_path / "clipped.wav", "printing")
    sf.write(p, loud, sr)
    result = prepare_recordings([p], "en")
    assert "clipped" in result.rejected[str(p)]


def test_noisy_speech_is_rejected_as_too_noisy(speech_dir, tmp_path):
    x, sr = _real(speech_dir, LJ[0])
    noise = np.random.default_rng(1).standard_normal(len(x)).astype(np.float32) * np.std(x)
    p = _with_sidecar(tmp_path / "noisy.wav", "printing")
    sf.write(p, x + noise, sr)  # 0 dB SNR
    result = prepare_recordings([p], "en")
    assert "too noisy" in result.rejected[str(p)]


def test_mandarin_without_transcript_asks_for_a_txt_and_with_one_is_accepted(
    speech_dir, speech_manifest, tmp_path
):
    rel = "zh/thchs30-D4/D4_750.wav"
    bare = tmp_path / "bare" / "D4_750.wav"
    bare.parent.mkdir()
    shutil.copy(speech_dir / rel, bare)
    res = prepare_recordings([bare], "zh")
    assert (
        "D4_750.txt" in res.rejected[str(bare)]
        and "no offline speech recognizer" in res.rejected[str(bare)]
    )
    with_txt = tmp_path / "D4_750.wav"
    shutil.copy(speech_dir / rel, with_txt)
    _with_sidecar(with_txt, _manifest_text(speech_manifest, rel))
    res = prepare_recordings([with_txt], "zh")
    assert res.accepted_files == [str(with_txt)]
    assert res.segments[0].text == _manifest_text(speech_manifest, rel)


def test_unknown_language_and_bad_budget_are_refused(tmp_path):
    with pytest.raises(BadInput, match="unknown language"):
        prepare_recordings([], "fr")
    with pytest.raises(BadInput):
        prepare_recordings([], "en", max_seconds_total=0)


def test_a_cancelled_batch_stops_with_cancelled(speech_dir, tmp_path):
    from ownvoice.errors import Cancelled

    path = _with_sidecar(tmp_path / "a.wav", "printing")
    shutil.copy(speech_dir / LJ[0], path)
    with pytest.raises(Cancelled):
        prepare_recordings([path], "en", cancelled=lambda: True)
