"""Transcripts: offline Whisper tiny.en on real LibriSpeech audio, sidecar .txt files winning."""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ownvoice.engine.preprocess import prepare_recordings, transcribe
from ownvoice.errors import BadInput

pytestmark = pytest.mark.slow

KNOWN = "en/librispeech-1688/1688-142285-0000.wav"  # 15 s, transcript in MANIFEST.tsv
UNKNOWN = "en/librispeech-2033/2033-164914-0006.wav"  # 17 s, no transcript anywhere


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).split()


def _wer(ref: list[str], hyp: list[str]) -> float:
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return d[len(hyp)] / max(len(ref), 1)


def _copy(speech_dir: Path, rel: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / Path(rel).name
    shutil.copy(speech_dir / rel, dst)
    return dst


def _transcript(manifest: list[dict], rel: str) -> str:
    return next(r["transcript"] for r in manifest if r["path"] == rel)


def test_whisper_transcribes_a_known_librispeech_clip_with_low_wer(
    speech_dir, speech_manifest, tmp_path
):
    path = _copy(speech_dir, KNOWN, tmp_path)
    result = prepare_recordings([path], "en")
    assert result.accepted_files == [str(path)]
    assert result.report[0].transcript == "whisper"
    hyp = _words(" ".join(s.text for s in result.segments))
    wer = _wer(_words(_transcript(speech_manifest, KNOWN)), hyp)
    assert wer <= 0.25, f"WER {wer:.2f}: {' '.join(hyp)}"
    for seg in result.segments:
        assert 1.5 <= seg.seconds <= 12.0
        assert seg.text.strip()


def test_whisper_gives_plausible_english_for_a_clip_without_transcript(speech_dir, tmp_path):
    path = _copy(speech_dir, UNKNOWN, tmp_path)
    result = prepare_recordings([path], "en")
    assert len(result.segments) >= 2  # 17 s of speech must be cut
    words = _words(" ".join(s.text for s in result.segments))
    assert len(words) >= 25  # ~2.5 words per second of read speech
    data = importlib.resources.files("misaki") / "data"
    known = {
        w.lower()
        for name in ("us_gold.json", "us_silver.json")
        for w in json.loads((data / name).read_text(encoding="utf-8"))
    }
    in_lexicon = sum(w.strip("'") in known for w in words) / len(words)
    assert in_lexicon >= 0.9, words
    # Segments follow each other without overlap, each cut between words.
    for a, b in zip(result.segments, result.segments[1:]):
        assert a.end_s <= b.start_s


def test_sidecar_transcript_wins_over_whisper(speech_dir, tmp_path):
    path = _copy(speech_dir, KNOWN, tmp_path)
    mine = "This is the text the user typed, and it wins."
    path.with_suffix(".txt").write_text("\ufeff  " + mine + "\n\n", encoding="utf-8")
    result = prepare_recordings([path], "en")
    assert result.report[0].transcript == "sidecar"
    assert [s.text for s in result.segments] == [mine]


def test_a_long_recording_with_one_sidecar_is_split_between_words(
    speech_dir, speech_manifest, tmp_path
):
    rels = [
        "en/ljspeech/LJ001-0001.wav",
        "en/ljspeech/LJ001-0003.wav",
        "en/ljspeech/LJ001-0005.wav",
    ]
    parts = []
    for rel in rels:
        x, sr = sf.read(speech_dir / rel, dtype="float32")
        parts += [x, np.zeros(int(0.4 * sr), dtype=np.float32)]
    path = tmp_path / "long_read.wav"
    sf.write(path, np.concatenate(parts), sr)
    text = " ".join(_transcript(speech_manifest, r) for r in rels)
    path.with_suffix(".txt").write_text(text, encoding="utf-8")
    result = prepare_recordings([path], "en")
    assert result.report[0].transcript == "sidecar"
    assert len(result.segments) >= 3
    # Every word of the sidecar lands in exactly one segment, in order.
    assert " ".join(s.text for s in result.segments).split() == text.split()
    assert all(s.seconds <= 12.0 for s in result.segments)


def test_a_sidecar_for_another_recording_is_refused(speech_dir, tmp_path):
    rels = [
        "en/ljspeech/LJ001-0001.wav",
        "en/ljspeech/LJ001-0003.wav",
        "en/ljspeech/LJ001-0002.wav",
    ]
    parts = []
    for rel in rels:
        x, sr = sf.read(speech_dir / rel, dtype="float32")
        parts += [x, np.zeros(int(0.3 * sr), dtype=np.float32)]
    long = tmp_path / "long_read.wav"
    # 22 s: over the limit below which a sidecar is trusted as one segment, so it gets checked.
    sf.write(long, np.concatenate(parts), sr)
    long.with_suffix(".txt").write_text(
        "unrelated words about cooking pasta " * 8, encoding="utf-8"
    )
    result = prepare_recordings([long], "en")
    assert "does not match the recording" in result.rejected[str(long)]


def test_transcribe_refuses_languages_without_offline_asr():
    with pytest.raises(BadInput, match=".txt"):
        transcribe.transcribe_words(np.zeros(16000, dtype=np.float32), "ja")
