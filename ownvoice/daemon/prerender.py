"""Pre-render notes as they change: a ``NoteWatcher`` over the configured notes roots feeding a
``NoteRenderer`` that synthesizes, in the default voice at the configured speed, only the
sentences the shared audio cache does not hold yet.

The cache and its keys are the ``Speaker``'s, so when an editor plugin then asks to hear the note
(or a selection of it) the pre-rendered sentences come from the cache without a model call. Notes
already on disk when the daemon starts are not rendered (a large vault would keep the CPU busy
for hours); a note is rendered once it is saved. While a request is being served
(the shared ``YieldGate`` is held) background rendering waits, and a sentence it was
synthesizing is stopped and redone afterwards.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..notes.render import NoteRenderer, VoiceKey
from ..notes.rules import ReadingRules
from ..notes.watch import NoteWatcher
from ..yield_gate import YieldGate

_LOGGER = logging.getLogger(__name__)


class NotePrerender:
    """Watches ``roots`` and keeps their changed notes' sentences in ``speaker``'s cache."""

    def __init__(
        self, speaker, roots: list[Path], gate: YieldGate | None = None, debounce: float = 0.5
    ) -> None:
        self.speaker = speaker
        self.roots = roots
        config = speaker.config
        self.voice = str(config.default_voice)
        self.speed = float(config.speed)
        self.renderer = NoteRenderer(
            self._synthesize,
            speaker.cache,
            self._voice_key,
            ReadingRules.from_config(config),
            gate=gate,
        )
        self.gate = self.renderer.gate
        self.watcher = NoteWatcher(
            roots, self.renderer.on_note_changed, self.renderer.on_note_deleted, debounce=debounce
        )

    def _voice_key(self, lang: str) -> VoiceKey:
        # resolved per sentence, so a retrained voice (new version) gets fresh audio
        return self.speaker.voice_key(self.speaker.resolve_voice(self.voice, lang), self.speed)

    def _synthesize(self, text: str, lang: str):
        voice = self.speaker.resolve_voice(self.voice, lang)
        with self.gate.working() as interrupt:
            return self.speaker.synthesize_uncached(text, lang, voice, self.speed, interrupt)

    def start(self) -> NotePrerender:
        self.renderer.start()
        self.watcher.start()
        known = self.watcher.scan(notify=False)  # remember what is there; render what changes
        _LOGGER.info(
            "watching %d note(s) under %s", len(known), ", ".join(str(r) for r in self.roots)
        )
        return self

    def stop(self) -> None:
        self.watcher.stop()
        self.renderer.stop()

    def status(self) -> dict:
        last = self.renderer.results[-1] if self.renderer.results else None
        return {
            "roots": [str(r) for r in self.roots],
            "synthesized": self.renderer.synth_calls,
            "last": None
            if last is None
            else {"note": Path(last.path).name, "sentences": last.sentences,
                  "synthesized": last.synthesized, "complete": last.complete},
        }
