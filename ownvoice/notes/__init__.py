"""Notes → speech: Markdown to a speakable script with source offsets, sentence audio cache,
folder watcher, incremental renderer and export.

    from ownvoice.notes import build_script, split_sentences
    build_script("# Intro\nHello *world*. See [[Other note|this]].")
    # [Sentence(index=0, text='Intro.', lang='en', start=2, end=7, heading='Intro', ...), ...]
    split_sentences("Dr. Smith came. 你好。")   # [(0, 15), (16, 19)]

Heavier parts (cache, watcher, renderer, export) are imported lazily so that importing this
package stays cheap for the speech pipeline.
"""

from __future__ import annotations

import importlib
from typing import Any

from .rules import ReadingRules
from .script import MAX_NOTE_CHARS, Sentence, build_script, group_by_heading, utf16_offsets
from .sentences import MAX_SENTENCE_CHARS, split_sentences

__all__ = [
    "MAX_NOTE_CHARS",
    "MAX_SENTENCE_CHARS",
    "AudioCache",
    "NoteRenderer",
    "NoteWatcher",
    "ReadingRules",
    "RenderedNote",
    "Sentence",
    "build_script",
    "cache_key",
    "export_note",
    "group_by_heading",
    "read_note",
    "render_note",
    "split_sentences",
    "utf16_offsets",
    "write_timings",
]

_LAZY = {
    "AudioCache": ("ownvoice.notes.cache", "AudioCache"),
    "cache_key": ("ownvoice.notes.cache", "cache_key"),
    "NoteWatcher": ("ownvoice.notes.watch", "NoteWatcher"),
    "NoteRenderer": ("ownvoice.notes.render", "NoteRenderer"),
    "RenderedNote": ("ownvoice.notes.render", "RenderedNote"),
    "render_note": ("ownvoice.notes.render", "render_note"),
    "export_note": ("ownvoice.notes.render", "export_note"),
    "read_note": ("ownvoice.notes.source", "read_note"),
    "write_timings": ("ownvoice.notes.timings", "write_timings"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'ownvoice.notes' has no attribute {name!r}")
