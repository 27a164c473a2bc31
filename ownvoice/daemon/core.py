"""``Daemon``: the long-lived parts the bridge serves, wired together and started/stopped as one."""

from __future__ import annotations

import contextlib
import logging
import threading

from ..config import Config
from ..notes.source import notes_roots
from ..speech import Speaker
from ..yield_gate import YieldGate
from .dropfolder import DropFolder
from .jobs import JobManager, Trainer
from .playback import Player, detect_backend
from .prerender import NotePrerender
from .refine import Refiner
from .synthq import SynthQueue
from .training import clone_trainer

_LOGGER = logging.getLogger(__name__)
WARM_TEXT = "Ready."


class Daemon:
    """Speaker, voice store, synthesis queue, training jobs, drop folder, background synthesis
    (note pre-rendering, whole re-renders of chunked sentences) and player for one process."""

    def __init__(
        self,
        config: Config,
        *,
        speaker: Speaker | None = None,
        trainer: Trainer | None = None,
        player: Player | None = None,
        token: str | None = None,
        watch_inbox: bool = True,
        watch_notes: bool | None = None,
        settle_seconds: float | None = None,
    ) -> None:
        self.config = config
        self.paths = config.paths.ensure()
        self.paths.runtime.mkdir(parents=True, exist_ok=True)
        if token is None:
            from ..bridge.security import ensure_token

            token = ensure_token(self.paths.token_file)
        self.token = token
        self.speaker = speaker or Speaker(config)
        self.synth = SynthQueue(int(config.queue_max))
        self.jobs = JobManager(
            self.paths.jobs,
            self.paths.staging,
            trainer or clone_trainer(lambda: self.speaker.store, config),
        )
        self.player = player if player is not None else Player(detect_backend(), self.paths.runtime)
        self.dropfolder: DropFolder | None = None
        if watch_inbox:
            kwargs = {"settle": settle_seconds} if settle_seconds is not None else {}
            self.dropfolder = DropFolder(
                self.paths.inbox,
                self.jobs,
                consent=str(config.consent),
                max_bytes=self.upload_cap,
                **kwargs,
            )
        # Background synthesis, which every request comes before (``serving`` holds the gate).
        self.gate = YieldGate()
        self.refiner = Refiner(self.speaker, self.gate)
        self.speaker.on_chunked_cached = self.refiner.add
        self.prerender: NotePrerender | None = None
        roots = list(notes_roots(config).values())
        if (config.watch_notes if watch_notes is None else watch_notes) and roots:
            self.prerender = NotePrerender(self.speaker, roots, self.gate)
        self.synth.hold = self.serving
        self._started = False
        self._warm_thread: threading.Thread | None = None

    @property
    def store(self):
        return self.speaker.store

    @property
    def json_cap(self) -> int:
        """Bytes a JSON body may take: the text limit, JSON-escaped (≤ 6 bytes a character), plus slack."""
        return int(self.config.max_text_chars) * 6 + (1 << 20)

    @property
    def upload_cap(self) -> int:
        return int(self.config.max_upload_mb) << 20

    def start(self) -> None:
        """Recover from a crash, resume queued jobs, watch the inbox and the notes roots."""
        if self._started:
            return
        self._started = True
        try:
            removed = self.store.recover()
            if removed:
                _LOGGER.info(
                    "voice store: removed leftovers of an interrupted write: %s", ", ".join(removed)
                )
        except Exception as e:  # a damaged store must not keep the daemon from answering
            _LOGGER.error("voice store recovery failed: %s", e)
        self.jobs.start()
        if self.dropfolder is not None:
            self.dropfolder.start()
        self.refiner.start()
        if self.prerender is not None:
            try:
                self.prerender.start()
            except Exception as e:  # e.g. out of inotify watches: the daemon still serves
                _LOGGER.error("cannot watch the notes roots, notes are not pre-rendered: %s", e)

    def stop(self) -> None:
        """Stop background work; a running training job stays queued and resumes next start."""
        if not self._started:
            return
        self._started = False
        if self.dropfolder is not None:
            self.dropfolder.stop()
        if self.prerender is not None:
            self.prerender.stop()
        self.refiner.stop()
        self.jobs.stop()
        self.player.stop()
        self.synth.shutdown()

    def serving(self) -> contextlib.AbstractContextManager[None]:
        """Around a request's work: background synthesis waits (and stops mid-sentence)."""
        return self.gate.hold()

    def warm_up(self) -> threading.Thread:
        """Load G2P and the model and say one short sentence in the background.

        The first request is then as fast as any other; English first (the common case), the
        other languages' G2P after the model, so `serve` answers at once and English is ready soonest.
        """

        def run() -> None:
            from ..engine import g2p

            try:
                self.speaker.engine  # first: /api/status reports ready (or failed) as soon as it is
                g2p.warm_up(("en",))
                for _ in self.speaker.stream(WARM_TEXT, self.config.default_voice, "en"):
                    pass
                _LOGGER.info("model warm")
            except (
                Exception
            ) as e:  # the daemon still serves status, voices and jobs without a model
                _LOGGER.error("model warm-up failed: %s", e)
            for lang in g2p.LANGS:
                if lang == "en":
                    continue
                try:
                    g2p.warm_up((lang,))
                except Exception as e:  # an optional language missing is not the daemon's failure
                    _LOGGER.warning("G2P warm-up for %s failed: %s", lang, e)

        # before the thread starts, so no status request sees "idle" while the model is coming
        self.speaker.model_coming()
        t = threading.Thread(target=run, name="warm-up", daemon=True)
        t.start()
        self._warm_thread = t
        return t

    def unfinished_work(self) -> list[str]:
        """Background threads still in native model code after ``stop`` (training, warm-up).

        Interpreter shutdown under such a thread aborts the process (SIGABRT from the C++
        runtime), so ``serve`` then exits at once; their state on disk is safe to resume.
        """
        busy = []
        if self.jobs.worker_alive:
            busy.append("training")
        if self._warm_thread is not None and self._warm_thread.is_alive():
            busy.append("warm-up")
        return busy
