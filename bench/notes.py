"""Benchmark of the notes pipeline: Markdown → script throughput and edit-to-audio latency.

    .venv/bin/python bench/notes.py [--sizes 1,4] [--latency-sentences 12] [--engine auto|none]

* Parse throughput: ``build_script`` on generated, realistic Obsidian notes of about 1 and 4 MB
  (headings, paragraphs with emphasis/links/wikilinks/tags, lists, tasks, tables, code, math,
  callouts, Chinese and Japanese paragraphs, footnotes), and ``split_sentences`` on plain text.
* Edit-to-audio latency, through the daemon's pre-rendering (``ownvoice.daemon.prerender``: the
  watcher, ``NoteRenderer`` and the Speaker's audio cache): a note is pre-rendered, then one
  sentence at a time is edited on disk; we time save → the new sentence's audio in the cache
  (three short edits, then a long one), a direct ``NoteRenderer.update`` (no watcher), and save → first audio when the
  edited sentence is read aloud at once from the cursor (``Speaker.stream``, chunked as the
  bridge's streamed answers are). With ``--engine auto`` the real engine is used when it loads;
  otherwise a stand-in that returns silence of a plausible length is used and the result says so
  (it then measures pipeline overhead only).

Prints a table and writes ``bench/results/notes.json``.
"""

from __future__ import annotations

import argparse
import contextlib
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


class _SilentEngine:
    """Stand-in when the real engine cannot load: silence of a plausible length (overhead only)."""

    def speak_phonemes(self, phonemes: str, voice, speed: float = 1.0) -> np.ndarray:
        return np.zeros(int(24000 * 0.06 * len(phonemes)), dtype=np.float32)


def _speaker(engine: str, cache_dir: Path):
    """(Speaker, description, error) with the real engine when it loads, else the stand-in."""
    from ownvoice.config import load_config
    from ownvoice.engine.g2p import to_phonemes
    from ownvoice.speech import Speaker

    cache = AudioCache(cache_dir, 10**9)
    if engine == "auto":
        try:
            import torch

            torch.set_num_threads(2)
            speaker = Speaker(load_config(), cache=cache)
            voice = speaker.resolve_voice("default", "en")
            speaker.engine.speak_phonemes(to_phonemes("Warm up.", "en"), voice)
            return speaker, "real engine (Speaker)", None
        except Exception as e:  # noqa: BLE001 - any failure: report it, use the stand-in
            why = f"{type(e).__name__}: {e}"
    else:
        why = None
    speaker = Speaker(load_config(), engine=_SilentEngine(), cache=cache)
    return speaker, "stand-in (silent audio; the real engine did not load) - pipeline overhead only", why


def _write(note: Path, lines: list[str]) -> None:
    note.write_text("# Latency\n\n" + "\n\n".join(lines), encoding="utf-8")


def _cached(speaker, text: str) -> bool:
    return speaker.is_cached(text, "en", speaker.resolve_voice("default", "en"))


def _wait(predicate, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > end:
            raise TimeoutError("the edit was not rendered")
        time.sleep(0.002)


def bench_latency(n_sentences: int, engine: str) -> dict:
    """The daemon's pre-rendering (``NotePrerender``: watcher + renderer + the Speaker's cache)."""
    from ownvoice.daemon.prerender import NotePrerender

    with tempfile.TemporaryDirectory() as tmp:
        speaker, used, why = _speaker(engine, Path(tmp) / "cache")
        root = Path(tmp) / "vault"
        root.mkdir()
        note = root / "note.md"
        lines = [
            f"Line {i} of the note talks about {_WORDS[i % len(_WORDS)]} today."
            for i in range(n_sentences)
        ]
        pre = NotePrerender(speaker, [root]).start()
        try:
            time.sleep(0.2)
            t = time.perf_counter()
            _write(note, lines)
            _wait(lambda: all(_cached(speaker, x) for x in lines))
            prerender = time.perf_counter() - t
            before = pre.renderer.synth_calls
            via_watcher = []
            for k, edit in enumerate(WATCHED_EDITS):
                lines[n_sentences // 2 + k] = edit
                t_save = time.perf_counter()
                _write(note, lines)
                _wait(lambda e=edit: _cached(speaker, e))
                via_watcher.append(round(time.perf_counter() - t_save, 3))
                time.sleep(0.3)  # the renderer has finished the note
            synthesized = pre.renderer.synth_calls - before
            lines[n_sentences // 2 + len(WATCHED_EDITS)] = LONG_EDIT
            t_save = time.perf_counter()
            _write(note, lines)
            _wait(lambda: _cached(speaker, LONG_EDIT))
            long_edit = round(time.perf_counter() - t_save, 3)
            time.sleep(0.3)
            while_busy = []
            for k, edit in enumerate(BUSY_EDITS if why is None and engine == "auto" else ()):
                lines[n_sentences - 1 - k] = edit
                while_busy.append(_edit_then_read(note, lines, edit, speaker, pre, after=0.4))
                time.sleep(1.5)  # the pre-renderer redoes the stopped note
            pre.watcher.stop()  # or the watcher renders the next save too, alongside the direct update
            lines[1] = "Another edited sentence, rendered directly."
            _write(note, lines)
            t = time.perf_counter()
            direct = pre.renderer.update(note)
            direct_s = time.perf_counter() - t
            read_from_cursor = []
            for k, edit in enumerate(READ_EDITS if why is None and engine == "auto" else ()):
                lines[2 + 3 * k] = edit
                read_from_cursor.append(_edit_then_read(note, lines, edit, speaker))
        finally:
            pre.stop()
    return {
        "engine": used,
        "engine_error": why,
        "sentences": direct.sentences,
        "prerender_s": round(prerender, 3),
        "edit_to_audio_via_watcher_s": via_watcher,
        "watcher_debounce_s": pre.watcher.debounce,
        "watcher_settle_s": pre.watcher.settle,
        "synthesized_per_edit": synthesized / len(WATCHED_EDITS),
        "edit_to_audio_long_sentence_s": long_edit,
        "long_sentence_words": len(LONG_EDIT.split()),
        "edit_to_audio_direct_s": round(direct_s, 3),
        "synthesized_direct": direct.synthesized,
        "edit_to_first_audio_read_from_cursor_s": read_from_cursor,
        "play_to_first_audio_while_prerendering_s": while_busy,
    }


# One sentence changed per save, pre-rendered by the watcher (about 2.5-3 s of speech each).
WATCHED_EDITS = [
    "This one sentence was edited just now.",
    "The second edit changes a few words here.",
    "A third small change, saved from the editor.",
]
# A long sentence: cached audio takes longer (synthesis scales with its length), first audio does not.
LONG_EDIT = (
    "This much longer sentence was edited just now, and it keeps going for quite a while before it ends."
)
# Edits read aloud 0.4 s after the save, while the pre-renderer is synthesizing them.
BUSY_EDITS = [
    "Pressing play while the background renderer works stops it at once.",
    "The request gets the model, and the note is rendered again afterwards.",
    "So reading never waits for a background sentence to finish.",
]

# Edits read aloud at once from the cursor, the way the editor plugins ask (streamed speech).
READ_EDITS = [
    "A third sentence changed, and read aloud from the cursor at once.",
    "The writer fixed this line and pressed play before the watcher woke.",
    "Edits near the end are heard as quickly as the ones at the start.",
]


def _edit_then_read(note: Path, lines: list[str], edit: str, speaker, pre=None, after: float = 0.0) -> float:
    """Save the note, read it back and stream it from the edited sentence: seconds from the save
    to the first audio (the first chunk of the uncached sentence). With ``pre`` (the watcher
    running), play is pressed ``after`` seconds after the save, while the pre-renderer is busy
    with that very sentence, and the request is served as the daemon serves it (``interactive``):
    then the time is from pressing play."""
    t = time.perf_counter()
    _write(note, lines)
    if pre is not None:
        time.sleep(after)
        t = time.perf_counter()
    text = note.read_text(encoding="utf-8")
    with pre.interactive() if pre is not None else contextlib.nullcontext():
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
        f"  save → audio cached via the watcher (settle {latency['watcher_settle_s']} s after a "
        f"closed save): " + ", ".join(f"{x:.3f}" for x in latency["edit_to_audio_via_watcher_s"])
        + f" s, {latency['synthesized_per_edit']:g} sentence(s) synthesized per save"
    )
    print(
        f"  the same for a {latency['long_sentence_words']}-word sentence:"
        f"       {latency['edit_to_audio_long_sentence_s']:.3f} s"
    )
    print(
        f"  direct NoteRenderer.update:           {latency['edit_to_audio_direct_s']:.3f} s, "
        f"{latency['synthesized_direct']} sentence(s) synthesized"
    )
    if latency["play_to_first_audio_while_prerendering_s"]:
        print(
            "  play pressed 0.4 s after a save, pre-renderer busy with that sentence → first audio: "
            + ", ".join(f"{x:.3f}" for x in latency["play_to_first_audio_while_prerendering_s"])
            + " s"
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
