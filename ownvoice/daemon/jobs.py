"""The persisted training job queue: one job at a time, states on disk, resumed after a restart.

Each job is a JSON file ``jobs/<id>.json`` (written atomically); its recordings live in
``staging/<id>/`` and the trainer's checkpoints in ``staging/<id>/.work/``. A job found ``running``
at start-up was interrupted (crash, SIGKILL, shutdown) and goes back to the queue: the trainer
resumes from its last checkpoint in the same work folder.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import atomic
from ..errors import BadInput, Cancelled, Conflict, NotFound, OwnvoiceError
from .recordings import kind_of

_LOGGER = logging.getLogger(__name__)

STATES = ("queued", "running", "done", "failed", "cancelled")
TERMINAL = frozenset({"done", "failed", "cancelled"})
JOB_ID_RE = re.compile(r"^[a-z0-9]{6,40}$")
WORK_DIR = ".work"
KEEP_FINISHED = 200  # finished job records kept on disk; older ones are pruned
PERSIST_EVERY = 1.0  # seconds: progress is written at most this often (state changes always)
# The trainer reports each phase's own fraction; the job's progress bar spans all of them.
# Shares are rough wall-time shares of a short run on 2 cores (preparation dominates those).
PHASE_SPANS = {
    "load": (0.0, 0.02),
    "prepare": (0.02, 0.25),
    "align": (0.25, 0.45),
    "init": (0.45, 0.5),
    "train": (0.5, 0.97),
    "save": (0.97, 0.99),
    "done": (0.99, 0.99),
}


@dataclass(frozen=True)
class TrainRequest:
    """Everything a trainer needs for one job."""

    job_id: str
    name: str
    lang: str
    consent: str
    files: list[Path]
    workdir: Path
    lora: bool = True
    max_minutes: float | None = None
    denoise: str | None = None  # off | auto | on; None: the train_denoise setting


Progress = Callable[..., None]
Trainer = Callable[[TrainRequest, Progress, Callable[[], bool]], dict]


@dataclass
class Job:
    id: str
    kind: str
    state: str
    params: dict
    created: float
    updated: float
    progress: float = 0.0
    message: str = ""
    detail: dict = field(default_factory=dict)
    result: dict | None = None
    error: str | None = None
    cancel_requested: bool = False
    attempts: int = 0

    def public(self) -> dict:
        """The job as the API shows it (no consent text, no server paths)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": round(self.progress, 4),
            "message": self.message,
            "detail": self.detail,
            "result": self.result or {},
            "error": self.error,
            "name": self.params.get("name"),
            "source": self.params.get("source"),
            "created": self.created,
            "updated": self.updated,
        }


def new_job_id() -> str:
    return secrets.token_hex(8)


def check_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not JOB_ID_RE.match(job_id):
        raise BadInput(f"invalid job id {job_id!r}")
    return job_id


class JobManager:
    """Queue, run (one at a time), cancel and persist jobs; notifies subscribers of every change."""

    def __init__(self, jobs_dir: Path, staging_dir: Path, trainer: Trainer) -> None:
        self.jobs_dir = Path(jobs_dir)
        self.staging_dir = Path(staging_dir)
        self.trainer = trainer
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, Job] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._current: str | None = None
        self._listeners: list[Callable[[dict], None]] = []
        self._finished_hooks: list[Callable[[Job], None]] = []
        self._last_persist: dict[str, float] = {}

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Load persisted jobs, re-queue interrupted ones, start the worker thread."""
        with self._cond:
            finished = self._load()
            self._stopping = False
        for job in finished:
            self._after_finish(job)
        self._thread = threading.Thread(target=self._work, name="jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the running job to stop at its next checkpoint; it stays queued for the next start."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                _LOGGER.warning(
                    "training did not stop within %.0f s; it resumes on next start", timeout
                )
                self._requeue_current()
            else:
                self._thread = None

    @property
    def worker_alive(self) -> bool:
        """Whether the worker thread still runs (a trainer that did not reach a cancel check)."""
        return self._thread is not None and self._thread.is_alive()

    def _requeue_current(self) -> None:
        """Record the running job as queued now: the process may exit before the trainer returns."""
        with self._cond:
            job = self._jobs.get(self._current or "")
            if job is None or job.state != "running":
                return
            job.state, job.message = "queued", "interrupted by shutdown; resumes on next start"
            job.updated = time.time()
            self._persist(job)

    def _load(self) -> list[Job]:
        finished: list[Job] = []
        for p in sorted(self.jobs_dir.glob("*.json")):
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
                job = Job(**data)
                check_job_id(job.id)
                if job.state not in STATES:
                    raise ValueError(f"unknown state {job.state!r}")
            except (OSError, ValueError, TypeError, OwnvoiceError) as e:
                _LOGGER.error("ignoring unreadable job file %s: %s", p, e)
                continue
            if job.state == "running":
                if job.cancel_requested:
                    job.state, job.message = "cancelled", "cancelled"
                    finished.append(job)
                else:
                    job.state = "queued"
                    job.message = "interrupted; resumes from its last checkpoint"
                self._persist(job)
            elif job.state in TERMINAL and self._left_in_staging(job):
                # The process died while handing a finished job's files back: finish that now.
                finished.append(job)
            self._jobs[job.id] = job
        self._prune()
        return finished

    def _left_in_staging(self, job: Job) -> bool:
        """Whether a dropped batch's recordings still sit in its staging folder."""
        if job.params.get("source") != "inbox":
            return False
        folder = self.staging_dir / job.id
        return folder.is_dir() and any(p.is_file() for p in folder.iterdir())

    # ---- submitting and reading -------------------------------------------------------------------
    def staging_for(self, job_id: str) -> Path:
        return self.staging_dir / check_job_id(job_id)

    def submit_training(
        self,
        job_id: str,
        *,
        name: str,
        lang: str,
        consent: str,
        source: str,
        lora: bool = True,
        max_minutes: float | None = None,
        denoise: str | None = None,
        extra: dict | None = None,
    ) -> dict:
        """Queue a training job for the recordings already in ``staging_for(job_id)``."""
        check_job_id(job_id)
        folder = self.staging_for(job_id)
        if not any(kind_of(p) == "audio" for p in folder.iterdir() if p.is_file()):
            raise BadInput("no recordings to train on")
        now = time.time()
        job = Job(
            id=job_id,
            kind="train",
            state="queued",
            created=now,
            updated=now,
            params={
                "name": name,
                "lang": lang,
                "consent": consent,
                "source": source,
                "lora": bool(lora),
                "max_minutes": max_minutes,
                "denoise": denoise,
                **(extra or {}),
            },
            message="waiting for the trainer",
        )
        with self._cond:
            if job_id in self._jobs:
                raise Conflict(f"job {job_id} exists already")
            self._jobs[job_id] = job
            self._persist(job)
            self._cond.notify_all()
        self._notify(job)
        return job.public()

    def has(self, job_id: str) -> bool:
        """Whether a job record exists (loaded or on disk) for ``job_id``; False for non-ids."""
        if not isinstance(job_id, str) or not JOB_ID_RE.match(job_id):
            return False
        with self._cond:
            return job_id in self._jobs or (self.jobs_dir / f"{job_id}.json").exists()

    def get(self, job_id: str) -> dict:
        with self._cond:
            return self._get(job_id).public()

    def _get(self, job_id: str) -> Job:
        check_job_id(job_id)
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    def list(self) -> list[dict]:
        with self._cond:
            return [j.public() for j in sorted(self._jobs.values(), key=lambda j: j.created)]

    def counts(self) -> dict[str, int]:
        with self._cond:
            states = [j.state for j in self._jobs.values()]
        return {s: states.count(s) for s in ("queued", "running")}

    def cancel(self, job_id: str) -> dict:
        """Cancel a queued job at once, a running one at the trainer's next step."""
        with self._cond:
            job = self._get(job_id)
            if job.state in TERMINAL:
                raise Conflict(f"job {job_id} is already {job.state}")
            job.cancel_requested = True
            finished = job.state == "queued"
            if finished:
                self._finish(job, "cancelled", "cancelled before it started")
            else:
                job.message = "cancelling…"
                job.updated = time.time()
                self._persist(job)
            snapshot = job.public()
        if finished:
            self._after_finish(job)
        else:
            self._notify_snapshot(snapshot)
        return snapshot

    # ---- events -----------------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Call ``listener(job_snapshot)`` on every change (from any thread); returns unsubscribe."""
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def on_finished(self, hook: Callable[[Job], None]) -> None:
        """Run ``hook(job)`` after a job reaches a final state (in the worker thread)."""
        self._finished_hooks.append(hook)

    def _notify(self, job: Job) -> None:
        with self._cond:
            snapshot = job.public()
        self._notify_snapshot(snapshot)

    def _notify_snapshot(self, snapshot: dict) -> None:
        with self._cond:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(snapshot)
            except Exception:  # a broken listener must not stop training
                _LOGGER.exception("job listener failed")

    # ---- the worker -------------------------------------------------------------------------------
    def _next(self) -> Job | None:
        queued = [j for j in self._jobs.values() if j.state == "queued"]
        return min(queued, key=lambda j: j.created) if queued else None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._next()
                while job is None and not self._stopping:
                    self._cond.wait()
                    job = self._next()
                if self._stopping:
                    return
                job.state, job.message = "running", "starting"
                job.attempts += 1
                job.updated = time.time()
                self._current = job.id
                self._persist(job)
            self._notify(job)
            self._run(job)

    def _run(self, job: Job) -> None:
        folder = self.staging_for(job.id)
        workdir = folder / WORK_DIR
        workdir.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in folder.iterdir() if p.is_file() and kind_of(p) == "audio")
        p = job.params
        req = TrainRequest(
            job.id,
            p["name"],
            p.get("lang", "en"),
            p["consent"],
            files,
            workdir,
            bool(p.get("lora", True)),
            p.get("max_minutes"),
            p.get("denoise"),
        )

        def cancelled() -> bool:
            return job.cancel_requested or self._stopping

        try:
            result = self.trainer(req, lambda *a, **k: self._progress(job, *a, **k), cancelled)
        except Cancelled:
            with self._cond:
                interrupted = self._stopping and not job.cancel_requested
                if interrupted:
                    job.state, job.message = (
                        "queued",
                        "interrupted by shutdown; resumes on next start",
                    )
                    job.updated = time.time()
                    self._persist(job)
                    self._current = None
                else:
                    self._finish(job, "cancelled", "cancelled")
            if interrupted:
                self._notify(job)
            else:
                self._after_finish(job)
            return
        except OwnvoiceError as e:
            with self._cond:
                if job.cancel_requested:  # the user asked it to stop; how it stopped is a detail
                    self._finish(job, "cancelled", f"cancelled ({e})")
                else:
                    self._finish(job, "failed", str(e), error=str(e))
            self._after_finish(job)
            return
        except Exception as e:  # the trainer crashed: keep the daemon up, tell the user why
            _LOGGER.exception("training job %s crashed", job.id)
            msg = f"training crashed: {type(e).__name__}: {e}"
            with self._cond:
                self._finish(job, "failed", msg, error=msg)
            self._after_finish(job)
            return
        with self._cond:
            if job.cancel_requested:
                self._finish(
                    job,
                    "cancelled",
                    "cancelled (the voice was saved before the cancel arrived)",
                    result=result,
                )
            else:
                self._finish(job, "done", "voice ready", result=result)
        self._after_finish(job)

    def _finish(
        self,
        job: Job,
        state: str,
        message: str,
        *,
        error: str | None = None,
        result: dict | None = None,
    ) -> None:
        """Move a job to a final state (caller holds the lock; then call ``_after_finish``)."""
        job.state, job.message, job.error = state, message, error
        if result is not None:
            job.result = result
        if state == "done":
            job.progress = 1.0
        job.updated = time.time()
        self._persist(job)
        self._current = None if self._current == job.id else self._current
        self._prune()

    def _after_finish(self, job: Job) -> None:
        """Clean up and run the hooks of a finished job, outside the lock (they move files)."""
        if job.state in ("done", "cancelled"):
            folder = self.staging_for(job.id)
            # Uploaded recordings are copies the client still has; dropped ones are the user's own.
            target = folder if job.params.get("source") == "upload" else folder / WORK_DIR
            shutil.rmtree(target, ignore_errors=True)
        for hook in self._finished_hooks:
            try:
                hook(job)
            except Exception:
                _LOGGER.exception("finished-job hook failed for %s", job.id)
        self._notify(job)

    def _progress(self, job: Job, *args: Any, **kwargs: Any) -> None:
        """Trainer progress, as a dict (step, total, loss, val_loss, eta_s, phase, message) or positionally."""
        if len(args) == 1 and isinstance(args[0], dict) and not kwargs:
            info = dict(args[0])
        else:
            info = dict(zip(("step", "total", "loss", "eta_s", "message"), args))
            info.update(kwargs)
        frac = info.get("progress")
        step, total = info.get("step"), info.get("total")
        if (
            frac is None
            and isinstance(step, (int, float))
            and isinstance(total, (int, float))
            and total > 0
        ):
            frac = step / total
        span = PHASE_SPANS.get(str(info.get("phase")))
        if span is not None:  # a phase's own fraction → the whole job's
            lo, hi = span
            frac = lo + (hi - lo) * min(1.0, max(0.0, float(frac))) if _number(frac) else lo
        with self._cond:
            if isinstance(frac, (int, float)):
                job.progress = float(min(0.999, max(job.progress, frac)))
            if info.get("message"):
                job.message = str(info["message"])[:500]
            job.detail = {k: v for k, v in info.items() if k != "message" and _jsonable(v)}
            job.updated = time.time()
            if time.monotonic() - self._last_persist.get(job.id, 0.0) >= PERSIST_EVERY:
                self._persist(job)
        self._notify(job)

    # ---- disk -------------------------------------------------------------------------------------
    def _persist(self, job: Job) -> None:
        self._last_persist[job.id] = time.monotonic()
        atomic.write_text(
            self.jobs_dir / f"{job.id}.json", json.dumps(asdict(job), ensure_ascii=False)
        )

    def _prune(self) -> None:
        finished = sorted(
            (j for j in self._jobs.values() if j.state in TERMINAL), key=lambda j: j.updated
        )
        for job in finished[:-KEEP_FINISHED] if len(finished) > KEEP_FINISHED else []:
            self._jobs.pop(job.id, None)
            (self.jobs_dir / f"{job.id}.json").unlink(missing_ok=True)
            if job.params.get("source") == "upload":
                shutil.rmtree(self.staging_for(job.id), ignore_errors=True)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _jsonable(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool, type(None)))
