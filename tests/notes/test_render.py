"""Rendering notes: timings, pauses, export formats, incremental re-rendering and priorities."""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from ownvoice.errors import BadInput, NotFound
from ownvoice.notes import AudioCache, build_script
from ownvoice.notes.render import (
    BACKGROUND,
    INTERACTIVE,
    NoteRenderer,
    VoiceKey,
    export_note,
    render_note,
)

VOICE = VoiceKey("me", 3, "test-engine-1", 1.0)
SR = 24000


@pytest.fixture
def cache(tmp_path):
    return AudioCache(tmp_path / "cache", 200_000_000)


def _note(n: int, edit: int | None = None) -> str:
    lines = ["# Long note", ""]
    for i in range(n):
        word = "changed" if i == edit else "original"
        lines.append(f"Sentence number {i} is the {word} one.")
    return "\n".join(lines) + "\n"


def test_render_places_sentences_with_pauses_and_timings(synth):
    md = "# Title\n\nFirst sentence. Second one.\n\nNew paragraph."
    out = render_note(md, synth)
    script = build_script(md)
    assert [s.text for s in out.sentences] == [s.text for s in script]
    assert out.sample_rate == SR and out.samples.dtype == np.float32
    assert synth.count == len(script) == out.synthesized
    for s, prev, sent in zip(out.sentences[1:], out.sentences, script):
        gap = s.t0 - prev.t1
        assert gap == pytest.approx(sent.pause_after, abs=1 / SR)
    heading_gap = out.sentences[1].t0 - out.sentences[0].t1
    sentence_gap = out.sentences[2].t0 - out.sentences[1].t1
    assert heading_gap > sentence_gap > 0
    assert out.duration == pytest.approx(out.sentences[-1].t1)
    for s in out.sentences:  # each sentence's stretch is the synthesizer's audio, not silence
        seg = out.samples[round(s.t0 * SR) : round(s.t1 * SR)]
        assert np.abs(seg).max() > 0.1
        assert np.array_equal(seg, synth(s.text, s.lang))


def test_second_render_comes_from_the_cache(synth, cache):
    md = "One. Two. Three."
    first = render_note(md, synth, cache, voice=VOICE)
    again = render_note(md, synth, cache, voice=VOICE)
    assert (first.synthesized, again.synthesized, synth.count) == (3, 0, 3)
    assert np.array_equal(first.samples, again.samples)
    other_voice = render_note(md, synth, cache, voice=VoiceKey("you", 1, "test-engine-1"))
    assert other_voice.synthesized == 3


def test_a_cache_without_a_voice_key_is_refused(synth, cache):
    with pytest.raises(BadInput, match="voice"):
        render_note("Hi.", synth, cache)


def test_bad_synthesizer_output_is_refused(cache):
    with pytest.raises(BadInput, match="NaN"):
        render_note("Hi.", lambda t, lang: np.array([np.nan], dtype=np.float32))
    with pytest.raises(BadInput, match="mono"):
        render_note("Hi.", lambda t, lang: np.zeros((2, 50), dtype=np.float32))


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_export_writes_audio_json_and_webvtt(tmp_path, synth, cache, fmt):
    if fmt == "mp3" and "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 encoder")
    note = tmp_path / "note.md"
    note.write_text("# Plan\n\nBuy milk & eggs. Check that 1 < 2.\n", encoding="utf-8")
    audio, js, vtt = export_note(note, tmp_path / f"out.{fmt}", synth, cache, voice=VOICE)
    assert (audio.suffix, js.suffix, vtt.suffix) == (f".{fmt}", ".json", ".vtt")
    data, rate = sf.read(audio)
    timings = json.loads(js.read_text(encoding="utf-8"))
    assert rate == SR and [s["text"] for s in timings["sentences"]] == [
        "Plan.",
        "Buy milk & eggs.",
        "Check that 1 < 2.",
    ]
    assert abs(len(data) / rate - timings["duration"]) < 0.15  # lossy codecs pad a little
    if fmt in ("wav", "flac"):
        assert len(data) == round(timings["duration"] * SR)
    text = vtt.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n0\n00:00:00.000 --> 00:00:00.")
    assert "Buy milk &amp; eggs." in text and "Check that 1 &lt; 2." in text


def test_export_format_from_argument_and_bad_formats(tmp_path, synth):
    note = tmp_path / "n.md"
    note.write_text("Hello.", encoding="utf-8")
    audio, _, _ = export_note(note, tmp_path / "speech", synth, fmt="flac")
    assert audio.name == "speech.flac" and sf.info(audio).format == "FLAC"
    with pytest.raises(BadInput, match="wav, flac, ogg, mp3"):
        export_note(note, tmp_path / "x.aiff", synth)
    with pytest.raises(NotFound, match="folder"):
        export_note(note, tmp_path / "missing" / "x.wav", synth)


def test_note_deleted_while_rendering_gives_not_found_and_writes_nothing(tmp_path, synth):
    note = tmp_path / "n.md"
    note.write_text("One. Two. Three. Four.", encoding="utf-8")

    def deleting(text, lang):
        if synth.count == 1:
            note.unlink()
        return synth(text, lang)

    with pytest.raises(NotFound, match="deleted"):
        export_note(note, tmp_path / "out.wav", deleting)
    assert not any(tmp_path.glob("out.*"))


def test_editing_one_sentence_of_200_synthesizes_exactly_one(tmp_path, synth, cache):
    note = tmp_path / "long.md"
    note.write_text(_note(200), encoding="utf-8")
    renderer = NoteRenderer(synth, cache, VOICE)
    first = renderer.update(note)
    assert first.sentences == 201 and first.synthesized == 201 and synth.count == 201
    note.write_text(_note(200, edit=123), encoding="utf-8")
    second = renderer.update(note)
    assert (second.synthesized, second.added, second.removed) == (1, 1, 1)
    assert synth.calls[-1] == ("Sentence number 123 is the changed one.", "en")
    assert synth.count == 202


def test_renaming_a_note_synthesizes_nothing(tmp_path, synth, cache):
    note = tmp_path / "a.md"
    note.write_text(_note(50), encoding="utf-8")
    renderer = NoteRenderer(synth, cache, VOICE)
    renderer.update(note)
    before = synth.count
    renamed = tmp_path / "renamed.md"
    os.rename(note, renamed)
    renderer.on_note_deleted(note)
    result = renderer.update(renamed)
    assert result.synthesized == 0 and synth.count == before
    assert renderer.script_for(note) is None and len(renderer.script_for(renamed)) == 51


def test_repeated_sentences_are_synthesized_once(tmp_path, synth, cache):
    note = tmp_path / "a.md"
    note.write_text("- Yes.\n- No.\n- Yes.\n- Yes.\n", encoding="utf-8")
    assert NoteRenderer(synth, cache, VOICE).update(note).synthesized == 2


def test_worker_renders_queued_notes_and_survives_missing_ones(tmp_path, synth, cache):
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text("Alpha one. Alpha two.", encoding="utf-8")
    b.write_text("Beta.", encoding="utf-8")
    renderer = NoteRenderer(synth, cache, VOICE).start()
    try:
        renderer.submit(tmp_path / "gone.md")
        renderer.on_note_changed(a)
        renderer.submit(b, INTERACTIVE)
        assert renderer.wait_idle(10)
    finally:
        renderer.stop()
    assert sorted(t for t, _ in synth.calls) == ["Alpha one.", "Alpha two.", "Beta."]


def test_interactive_request_overtakes_a_long_background_render(tmp_path, cache):
    calls: list[str] = []
    started = threading.Event()

    def slow(text, lang):
        calls.append(text)
        started.set()
        time.sleep(0.01)
        return np.full(100, 0.2, dtype=np.float32)

    background, urgent = tmp_path / "bg.md", tmp_path / "now.md"
    background.write_text(_note(120), encoding="utf-8")
    urgent.write_text("Read me now. Please.", encoding="utf-8")
    renderer = NoteRenderer(slow, cache, VOICE).start()
    try:
        renderer.submit(background, BACKGROUND)
        assert started.wait(5)
        renderer.submit(urgent, INTERACTIVE)
        assert renderer.wait_idle(30)
    finally:
        renderer.stop()
    first_urgent = calls.index("Read me now.")
    assert first_urgent < 60, "the interactive note waited for the whole background note"
    assert len(calls) == 121 + 2  # the background note was resumed and finished, nothing twice
    results = [(os.path.basename(r.path), r.complete) for r in renderer.results]
    assert results.index(("now.md", True)) < results.index(("bg.md", True))
    assert ("bg.md", False) in results


def test_background_rendering_waits_while_interactive_work_runs(tmp_path, synth, cache):
    note = tmp_path / "bg.md"
    note.write_text(_note(5), encoding="utf-8")
    renderer = NoteRenderer(synth, cache, VOICE).start()
    try:
        with renderer.interactive():
            renderer.submit(note, BACKGROUND)
            time.sleep(0.5)
            assert synth.count == 0  # held: the CPU belongs to the interactive request
        assert renderer.wait_idle(10)
        assert synth.count == 6
    finally:
        renderer.stop()


def test_the_edited_sentence_is_synthesized_before_uncached_old_ones(tmp_path, synth, cache):
    note = tmp_path / "note.md"
    note.write_text(_note(20), encoding="utf-8")
    renderer = NoteRenderer(synth, cache, VOICE)
    renderer.update(note)
    for i in (2, 3, 4):  # evicted from the cache meanwhile: they must be redone, but later
        old = f"Sentence number {i} is the original one."
        (cache.path_for(VOICE.key(old, "en"))).unlink()
    note.write_text(_note(20, edit=15), encoding="utf-8")
    calls_before = len(synth.calls)
    result = renderer.update(note)
    assert result.synthesized == 4
    assert synth.calls[calls_before] == ("Sentence number 15 is the changed one.", "en")
