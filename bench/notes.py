"""Benchmark of the notes pipeline: Markdown → script throughput and edit-to-audio latency.

    .venv/bin/python bench/notes.py [--sizes 1,4] [--latency-sentences 12] [--engine auto|none]

* Parse throughput: ``build_script`` on generated, realistic Obsidian notes of about 1 and 4 MB
  (headings, paragraphs with emphasis/links/wikilinks/tags, lists, tasks, tables, code, math,
  callouts, Chinese and Japanese paragraphs, footnotes), and ``split_sentences`` on plain text.
* Edit-to-audio latency: a note is pre-rendered through the watcher + NoteRenderer + AudioCache,
  then one sentence is edited on disk; we time the save → new sentence audio in the cache, and a
  direct ``NoteRenderer.update`` (no watcher debounce), and save → first audio when the edited
  sentence is read aloud at once from the cursor (``Speaker.stream``, chunked as the bridge's
  streamed answers are, before the watcher has rendered it). With ``--engine auto`` the real engine
  (``ownvoice.speech.Speaker``) is used when it loads; otherwise a stand-in that returns silence
  of a plausible length is used and the result says so (it then measures pipeline overhead only).

Prints a table and writes ``bench/results/notes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ownvoice.notes import AudioCache, build_script, split_sentences
from ownvoice.notes.render import NoteRenderer, VoiceKey
from ownvoice.notes.watch import NoteWatcher

_WORDS = [
    "voice",
    "note",
    "model",
    "sentence",
    "cache",
    "audio",
    "daemon",
    "render",
    "offline",
    "local",
    "speech",
    "train",
    "style",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "market",
    "river",
    "science",
    "garden",
    "window",
    "music",
]
_ZH = "我们今天在图书馆学习了很多新的知识，然后一起去公园散步。"
_JA = "今日は朝から雨が降っていたので、家で本を読みました。"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
    k = rng.randrange(len(words))
    decor = rng.random()
    if decor < 0.15:
        words[k] = f"*{words[k]}*"
    elif decor < 0.25:
        words[k] = f"[{words[k]}](https://example.com/{words[k]})"
    elif decor < 0.35:
        words[k] = f"[[{words[k].title()} note|{words[k]}]]"
    elif decor < 0.40:
        words[k] = f"#{words[k]}"
    elif decor < 0.45:
        words[k] = f"`{words[k]}()`"
    elif decor < 0.48:
        words[k] = "$x^2 + y$"
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"])


def generate_note(target_chars: int, seed: int = 0) -> str:
    """A realistic Obsidian note of about ``target_chars`` characters."""
    rng = random.Random(seed)
    parts = ["---\ntitle: Generated\ntags: [bench]\n---\n"]
    size = len(parts[0])
    n = 0
    while size < target_chars:
        n += 1
        block = [f"## Section {n}\n"]
        block.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 6))) + f"[^{n}]\n")
        block.append(
            "\n".join(f"- {'[ ] ' if rng.random() < 0.3 else ''}{_sentence(rng)}" for _ in range(3))
            + "\n"
        )
        if n % 3 == 0:
            block.append(
                "| Name | Value |\n|---|---|\n"
                + "".join(f"| item {i} | {rng.randint(1, 99)} |\n" for i in range(3))
            )
        if n % 4 == 0:
            block.append("```python\nfor i in range(10):\n    print(i)\n```\n")
        if n % 5 == 0:
            block.append(f"> [!note] Remember\n> {_sentence(rng)}\n")
        if n % 6 == 0:
            block.append(_ZH + "\n\n" + _JA + "\n")
        block.append(f"%%private comment {n}%%\n[^{n}]: Footnote {_sentence(rng)}\n")
        text = "\n".join(block) + "\n"
        parts.append(text)
        size += len(text)
    return "".join(parts)


def bench_parse(sizes_mb: list[float]) -> list[dict]:
    rows = []
    for mb in sizes_mb:
        note = generate_note(int(mb * 1_000_000), seed=int(mb * 10))
        nbytes = len(note.encode("utf-8"))
        t = time.perf_counter()
        script = build_script(note)
        dt = time.perf_counter() - t
        rows.append(
            {
                "what": "build_script",
                "mb": round(nbytes / 1e6, 2),
                "seconds": round(dt, 3),
                "mb_per_s": round(nbytes / 1e6 / dt, 3),
                "sentences": len(script),
            }
        )
        plain = " ".join(s.text for s in script)
        pbytes = len(plain.encode("utf-8"))
        t = time.perf_counter()
        spans = split_sentences(plain)
        dt = time.perf_counter() - t
        rows.append(
            {
                "what": "split_sentences",
                "mb": round(pbytes / 1e6, 2),
                "seconds": round(dt, 3),
                "mb_per_s": round(pbytes / 1e6 / dt, 3),
                "sentences": len(spans),
            }
        )
    return rows


def _real_engine():
    """(synthesize, VoiceKey, description, Speaker) using the real engine, or raise if it cannot
    load."""
    import torch

    torch.set_num_threads(2)
    from ownvoice.engine import ENGINE_VERSION
    from ownvoice.engine.g2p import to_phonemes
    from ownvoice.speech import Speaker

    speaker = Speaker()
    voices = {lang: speaker.resolve_voice("default", lang) for lang in ("en", "zh", "ja")}
    engine = speaker.engine

    def synthesize(text: str, lang: str) -> np.ndarray:
        phonemes = to_phonemes(text, lang)
        if not phonemes.strip():
            return np.zeros(0, dtype=np.float32)
        return engine.speak_phonemes(phonemes, voices.get(lang, voices["en"]), 1.0)

    synthesize("Warm up.", "en")
    v = voices["en"]
    return (
        synthesize,
        VoiceKey(v.id, getattr(v, "version", 1), ENGINE_VERSION),
        "real engine (Speaker)",
        speaker,
    )


def _stand_in():
    def synthesize(text: str, lang: str) -> np.ndarray:
        return np.zeros(int(24000 * 0.06 * len(text)), dtype=np.float32)  # ~ speech-length silence

    return (
        synthesize,
        VoiceKey("stand-in", 1, "none"),
        ("stand-in (silent audio; the real engine did not load) - pipeline overhead only"),
        None,
    )


def bench_latency(n_sentences: int, engine: str) -> dict:
    why = None
    if engine == "auto":
        try:
            synthesize, voice, used, speaker = _real_engine()
        except Exception as e:  # noqa: BLE001 - any failure: report it, use the stand-in
            why = f"{type(e).__name__}: {e}"
            synthesize, voice, used, speaker = _stand_in()
    else:
        synthesize, voice, used, speaker = _stand_in()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        root.mkdir()
        note = root / "note.md"
        lines = [
            f"Line {i} of the note talks about {_WORDS[i % len(_WORDS)]} today."
            for i in range(n_sentences)
        ]
        note.write_text("# Latency\n\n" + "\n\n".join(lines), encoding="utf-8")
        renderer = NoteRenderer(synthesize, AudioCache(Path(tmp) / "cache", 10**9), voice).start()
        watcher = NoteWatcher(
            [root], renderer.on_note_changed, renderer.on_note_deleted, debounce=0.5
        ).start()
        try:
            t = time.perf_counter()
            first = renderer.update(note)
            prerender = time.perf_counter() - t
            before = len(renderer.results)
            lines[n_sentences // 2] = "This one sentence was edited just now."
            t_save = time.perf_counter()
            note.write_text("# Latency\n\n" + "\n\n".join(lines), encoding="utf-8")
            while not any(r.complete for r in renderer.results[before:]):
                time.sleep(0.005)
            via_watcher = time.perf_counter() - t_save
            watched = next(r for r in renderer.results[before:] if r.complete)
            watcher.stop()  # or the watcher renders the next save too, alongside the direct update
            lines[1] = "Another edited sentence, rendered directly."
            note.write_text("# Latency\n\n" + "\n\n".join(lines), encoding="utf-8")
            t = time.perf_counter()
            direct = renderer.update(note)
            direct_s = time.perf_counter() - t
            renderer.wait_idle(60)
            read_from_cursor = []
            for k, edit in enumerate(READ_EDITS if speaker is not None else ()):
                lines[2 + 3 * k] = edit
                read_from_cursor.append(_edit_then_read(note, lines, edit, speaker))
        finally:
            watcher.stop()
            renderer.stop()
    return {
        "engine": used,
        "engine_error": why,
        "sentences": first.sentences,
        "prerender_s": round(prerender, 3),
        "edit_to_audio_via_watcher_s": round(via_watcher, 3),
        "watcher_debounce_s": 0.5,
        "synthesized_after_edit": watched.synthesized,
        "edit_to_audio_direct_s": round(direct_s, 3),
        "synthesized_direct": direct.synthesized,
        "edit_to_first_audio_read_from_cursor_s": read_from_cursor,
    }


# Edits read aloud at once from the cursor, the way the editor plugins ask (streamed speech).
READ_EDITS = [
    "A third sentence changed, and read aloud from the cursor at once.",
    "The writer fixed this line and pressed play before the watcher woke.",
    "Edits near the end are heard as quickly as the ones at the start.",
]


def _edit_then_read(note: Path, lines: list[str], edit: str, speaker) -> float:
    """Save the note, read it back and stream it from the edited sentence: seconds from the save
    to the first audio (the first chunk of the uncached sentence)."""
    t = time.perf_counter()
    note.write_text("# Latency\n\n" + "\n\n".join(lines), encoding="utf-8")
    text = note.read_text(encoding="utf-8")
    chunks = speaker.stream(text[text.index(edit) :], markdown=True, chunk_first=True)
    try:
        first = next(chunks)
    finally:
        chunks.close()
    assert first.samples.size, "no audio"
    return round(time.perf_counter() - t, 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,4", help="note sizes in MB, comma separated")
    ap.add_argument("--latency-sentences", type=int, default=12)
    ap.add_argument("--engine", choices=["auto", "none"], default="auto")
    args = ap.parse_args()
    os.environ.setdefault("OWNVOICE_HOME", tempfile.mkdtemp(prefix="ownvoice-bench-"))
    sizes = [float(s) for s in args.sizes.split(",") if s]
    parse_rows = bench_parse(sizes)
    latency = bench_latency(args.latency_sentences, args.engine)

    print(f"{'what':<16} {'MB':>6} {'seconds':>8} {'MB/s':>7} {'sentences':>9}")
    for r in parse_rows:
        print(
            f"{r['what']:<16} {r['mb']:>6} {r['seconds']:>8} {r['mb_per_s']:>7} {r['sentences']:>9}"
        )
    print()
    print(f"edit-to-audio latency, one sentence changed in a {latency['sentences']}-sentence note")
    print(f"  engine: {latency['engine']}")
    if latency["engine_error"]:
        print(f"  (real engine unavailable: {latency['engine_error']})")
    print(f"  pre-render of the whole note:         {latency['prerender_s']:.3f} s")
    print(
        f"  save → audio via watcher (0.5 s debounce): {latency['edit_to_audio_via_watcher_s']:.3f} s, "
        f"{latency['synthesized_after_edit']} sentence(s) synthesized"
    )
    print(
        f"  direct NoteRenderer.update:           {latency['edit_to_audio_direct_s']:.3f} s, "
        f"{latency['synthesized_direct']} sentence(s) synthesized"
    )
    if latency["edit_to_first_audio_read_from_cursor_s"]:
        print(
            "  save → first audio, read from cursor (streamed): "
            + ", ".join(f"{x:.3f}" for x in latency["edit_to_first_audio_read_from_cursor_s"])
            + " s"
        )

    out = REPO / "bench" / "results" / "notes.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor(),
        },
        "parse": parse_rows,
        "latency": latency,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
