"""Re-render, whole, the sentences that streamed answers decoded in chunks.

A streamed answer decodes its first uncached sentence in growing chunks, so audio starts after
~0.3 s; joined, the chunks sound a little worse than the sentence decoded whole (DNSMOS 3.33 vs
3.39 in ``bench/stream.py``), and that is what the cache got. Once no request has been served
for ``IDLE`` seconds, ``Refiner`` decodes each such sentence whole and replaces its cache entry,
so a replay sounds like every other sentence. Like the note pre-renderer (and through the same
``YieldGate``) it yields to requests: it waits while one is served and stops a sentence in
mid-synthesis when one arrives (redone later).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from ..audio_constants import SAMPLE_RATE
from ..errors import Cancelled
from ..yield_gate import YieldGate

_LOGGER = logging.getLogger(__name__)

IDLE = 2.0  # seconds without a request before a sentence is re-rendered
LIMIT = 64  # sentences remembered; the oldest are dropped (they stay as they are)


class Refiner:
    def __init__(
        self, speaker, gate: YieldGate | None = None, idle: float = IDLE, limit: int = LIMIT
    ) -> None:
        self.speaker = speaker
        self.gate = gate or YieldGate()
        self.idle = idle
        self.limit = limit
        self.refined = 0
        self._todo: OrderedDict[str, tuple] = OrderedDict()  # cache key -> (text, lang, voice, speed)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, text: str, lang: str, voice, speed: float) -> None:
        """Remember a sentence whose cached audio was decoded in chunks."""
        key = self.speaker.voice_key(voice, speed).key(text, lang)
        with self._cond:
            self._todo[key] = (text, lang, voice, speed)
            self._todo.move_to_end(key)
            while len(self._todo) > self.limit:
                self._todo.popitem(last=False)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._todo)

    def start(self) -> Refiner:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ownvoice-refiner", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.gate.stop_working()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _next(self) -> tuple[str, tuple] | None:
        """The next sentence once the daemon has been quiet for ``idle`` seconds (None: stopping)."""
        while not self._stop.is_set():
            with self._cond:
                if not self._todo:
                    self._cond.wait(1.0)
                    continue
            if not self.gate.wait(self._stop, self.idle):
                break
            with self._cond:
                if self._todo:
                    return self._todo.popitem(last=False)
        return None

    def _run(self) -> None:
        cache = self.speaker.cache
        while (job := self._next()) is not None:
            key, (text, lang, voice, speed) = job
            try:
                if key not in cache:
                    continue  # evicted meanwhile: a later request synthesizes it whole anyway
                with self.gate.working() as interrupt:
                    audio = self.speaker.synthesize_uncached(text, lang, voice, speed, interrupt)
                cache.put(key, audio, SAMPLE_RATE)
                self.refined += 1
            except Cancelled:
                if self._stop.is_set():
                    return
                with self._cond:  # a request came: redo it first once things are quiet again
                    self._todo[key] = (text, lang, voice, speed)
                    self._todo.move_to_end(key, last=False)
            except Exception:  # a voice deleted meanwhile, a full disk: the chunked audio stays
                _LOGGER.exception("could not re-render %r whole", text[:40])
