"""The drop folder: recordings put in ``inbox/<voice-name>/`` become a training job.

The watcher polls (portable, and robust to editors' and browsers' odd write patterns), waits until
every file in a voice folder has kept its size and mtime for ``settle`` seconds, then moves the
batch into ``staging/<job>/`` and queues training. Nothing a user dropped is ever deleted:
unusable files go to ``inbox/<voice>/rejected/`` with a ``<file>.reason.txt``; after training the
recordings go to ``inbox/<voice>/trained/`` (or back to ``rejected/`` when training failed).

Staging is crash-safe: ``staging/<job>/.origin.json`` (the inbox folder) is written before the
first file moves and the job record only after the last, so a staging folder without a job record
is an interrupted hand-over; on start its files go back to ``inbox/<voice>/`` and are taken anew.

Optional files in a voice folder: ``consent.txt`` (the speaker's consent statement; else the
``consent`` setting) and ``lang.txt`` (``en``, ``zh`` or ``ja``; default ``en``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .. import atomic
from ..errors import BadInput, OwnvoiceError
from ..voice_store import schema
from .jobs import Job, JobManager, new_job_id
from .recordings import AUDIO_SUFFIXES, is_temp_name, kind_of, probe_seconds

_LOGGER = logging.getLogger(__name__)

SETTLE_SECONDS = 2.0  # a file must keep its size this long before we touch it
POLL_SECONDS = 1.0
EMPTY_GRACE = 5  # × settle: a 0-byte file may be a copy that has not started writing yet
REJECTED, TRAINED = "rejected", "trained"
SPECIAL = {"consent.txt", "lang.txt"}
ORIGIN = ".origin.json"  # in staging/<job>/: which inbox folder the files came from


@dataclass
class _Seen:
    size: int
    mtime: int
    since: float


class DropFolder:
    """Polls the inbox and turns settled voice folders into training jobs."""

    def __init__(
        self,
        inbox: Path,
        jobs: JobManager,
        *,
        consent: str = "",
        max_bytes: int = 200 << 20,
        settle: float = SETTLE_SECONDS,
        poll: float = POLL_SECONDS,
        lora: bool = True,
        max_minutes: float | None = None,
    ) -> None:
        self.inbox = Path(inbox)
        self.jobs = jobs
        self.consent = consent
        self.max_bytes = max_bytes
        self.settle = settle
        self.poll = poll
        self.lora = lora
        self.max_minutes = max_minutes
        self._seen: dict[Path, _Seen] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        jobs.on_finished(self._job_finished)

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Give back recordings of interrupted hand-overs, then watch (call after ``jobs.start``)."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        try:
            self.recover()
        except OSError:  # the watcher must run even when one staging folder cannot be read
            _LOGGER.exception("drop folder: recovering interrupted staging failed")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="dropfolder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # a transient file system error must not kill the watcher
                _LOGGER.exception("drop folder scan failed")
            self._stop.wait(self.poll)

    # ---- scanning -------------------------------------------------------------------------------
    def scan(self, now: float | None = None) -> list[str]:
        """One pass over the inbox; returns the ids of jobs started."""
        now = time.monotonic() if now is None else now
        started: list[str] = []
        alive: set[Path] = set()
        if not self.inbox.is_dir():
            return started
        for folder in sorted(self.inbox.iterdir()):
            if not folder.is_dir() or folder.is_symlink() or is_temp_name(folder.name):
                continue
            files = [
                p
                for p in sorted(folder.iterdir())
                if p.is_file() and not p.is_symlink() and not is_temp_name(p.name)
            ]
            if not any(kind_of(p) == "audio" for p in files):
                continue  # consent.txt alone, or nothing yet: wait for recordings
            settled = True
            for p in files:
                alive.add(p)
                try:
                    st = p.stat()
                except FileNotFoundError:
                    settled = False
                    continue
                seen = self._seen.get(p)
                if seen is None or (seen.size, seen.mtime) != (st.st_size, st.st_mtime_ns):
                    self._seen[p] = _Seen(st.st_size, st.st_mtime_ns, now)
                    settled = False
                    continue
                wait = self.settle * (EMPTY_GRACE if st.st_size == 0 else 1)
                if now - seen.since < wait:
                    settled = False
            if settled:
                job_id = self._take(folder, files)
                if job_id:
                    started.append(job_id)
                for p in files:
                    self._seen.pop(p, None)
        for p in list(self._seen):
            if p not in alive:
                del self._seen[p]
        return started

    def _take(self, folder: Path, files: list[Path]) -> str | None:
        """Validate a settled batch, reject what cannot be used, queue training for the rest."""
        name = folder.name
        try:
            name = schema.clean_name(name)
        except BadInput as e:
            for p in files:
                self._reject(p, f"the folder name cannot be a voice name: {e}")
            return None
        consent, lang = self.consent.strip(), "en"
        usable: list[Path] = []
        audio_stems: set[str] = set()
        for p in files:
            low = p.name.lower()
            if low == "consent.txt":
                consent = _read_small(p) or consent
                usable.append(p)
            elif low == "lang.txt":
                lang = (_read_small(p) or "en").strip().lower()
                usable.append(p)
        if lang not in schema.LANGS:
            for p in files:
                self._reject(p, f"lang.txt says {lang!r}; use one of {', '.join(schema.LANGS)}")
            return None
        total_seconds = 0.0
        for p in files:
            if p.name.lower() in SPECIAL:
                continue
            reason = self._check(p)
            if reason is None and kind_of(p) == "audio":
                try:
                    total_seconds += probe_seconds(p) or 0.0
                except BadInput as e:
                    reason = str(e)
            if reason:
                self._reject(p, reason)
            elif kind_of(p) == "audio":
                usable.append(p)
                audio_stems.add(p.stem)
        for p in files:
            if kind_of(p) == "transcript" and p.name.lower() not in SPECIAL:
                if p.stem in audio_stems:
                    usable.append(p)
                elif p.exists():
                    self._reject(
                        p,
                        "a transcript needs a recording of the same name (e.g. take1.wav + take1.txt)",
                    )
        recordings = [p for p in usable if kind_of(p) == "audio"]
        if not recordings:
            return None
        if not consent:
            for p in usable:
                self._reject(
                    p,
                    "no consent statement: put the speaker's consent in consent.txt in this "
                    "folder (or set `consent` in config.toml), then move the files back",
                )
            return None
        job_id = new_job_id()
        staging = self.jobs.staging_for(job_id)
        staging.mkdir(parents=True)
        # Before any file moves: a crash until the job record exists leaves a folder that
        # ``recover`` can give back to the right inbox folder.
        atomic.write_text(staging / ORIGIN, json.dumps({"inbox": folder.name}))
        for p in usable:
            _move(p, staging / p.name)
        try:
            self.jobs.submit_training(
                job_id,
                name=name,
                lang=lang,
                consent=consent,
                source="inbox",
                lora=self.lora,
                max_minutes=self.max_minutes,
                extra={"inbox": folder.name, "seconds": round(total_seconds, 2)},
            )
        except OwnvoiceError as e:
            for p in _staged_files(staging):
                self._reject(p, f"could not queue training: {e}", folder=folder)
            shutil.rmtree(staging, ignore_errors=True)  # only the origin note is left
            return None
        (staging / ORIGIN).unlink(missing_ok=True)  # the job record says it now
        _LOGGER.info(
            "drop folder %s: %d recordings → training job %s", folder.name, len(recordings), job_id
        )
        return job_id

    def _check(self, p: Path) -> str | None:
        kind = kind_of(p)
        if kind == "other":
            exts = ", ".join(sorted(s.lstrip(".") for s in AUDIO_SUFFIXES))
            return f"not a recording this daemon reads ({exts}) or a .txt transcript"
        size = p.stat().st_size
        if size == 0:
            return "the file is empty"
        if size > self.max_bytes:
            return f"the file is {size >> 20} MiB; the limit is {self.max_bytes >> 20} MiB (setting max_upload_mb)"
        return None

    # ---- moving files (never deleting) ------------------------------------------------------------
    def _reject(self, p: Path, reason: str, folder: Path | None = None) -> None:
        folder = folder or p.parent
        dest_dir = folder / REJECTED
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = _free_name(dest_dir / p.name)
        _move(p, dest)
        (dest_dir / f"{dest.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        _LOGGER.warning("drop folder: rejected %s: %s", p.name, reason)

    def _job_finished(self, job: Job) -> None:
        """Give a dropped batch back to its folder: trained/ when done, rejected/ otherwise."""
        if job.params.get("source") != "inbox":
            return
        folder = self.inbox / job.params.get("inbox", job.params["name"])
        staging = self.jobs.staging_for(job.id)
        if not staging.is_dir():
            return
        files = _staged_files(staging)
        if job.state == "done":
            dest_dir = folder / TRAINED
            dest_dir.mkdir(parents=True, exist_ok=True)
            for p in files:
                _move(p, _free_name(dest_dir / p.name))
            self._reject_listed(folder, job)
        else:
            reason = f"training {job.state}: {job.error or job.message}"
            for p in files:
                self._reject(p, reason, folder=folder)
        shutil.rmtree(staging, ignore_errors=True)

    # ---- crash recovery ---------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Move the files of staging folders that have no job (a crash mid hand-over) back to
        their inbox folder, never over an existing file; returns the names given back."""
        given_back: list[str] = []
        staging_dir = self.jobs.staging_dir
        if not staging_dir.is_dir():
            return given_back
        for staging in sorted(staging_dir.iterdir()):
            if not staging.is_dir() or self.jobs.has(staging.name):
                continue
            origin = _read_origin(staging)
            if origin is None:
                # Not ours (an upload cut short, whose client still has the files): keep it.
                if any(staging.iterdir()):
                    _LOGGER.warning("staging folder %s has no job; left as it is", staging)
                continue
            folder = self.inbox / origin
            folder.mkdir(parents=True, exist_ok=True)
            files = _staged_files(staging)
            for p in files:
                _move(p, _free_name(folder / p.name))
                given_back.append(p.name)
            shutil.rmtree(staging, ignore_errors=True)  # only the origin note is left
            _LOGGER.warning(
                "drop folder: an interrupted hand-over left %d files in staging; moved back to %s",
                len(files),
                folder,
            )
        return given_back

    def _reject_listed(self, folder: Path, job: Job) -> None:
        """Write reason files for recordings the trainer skipped (they sit in trained/ too)."""
        rejected = (job.result or {}).get("rejected") or {}
        if isinstance(rejected, dict):
            for path, reason in rejected.items():
                name = Path(str(path)).name
                if (folder / TRAINED / name).exists():
                    (folder / TRAINED / f"{name}.reason.txt").write_text(
                        f"not used: {reason}\n", encoding="utf-8"
                    )


def _staged_files(staging: Path) -> list[Path]:
    """The user's files in a staging folder (not the origin note, not the trainer's work)."""
    return sorted(p for p in staging.iterdir() if p.is_file() and p.name != ORIGIN)


def _read_origin(staging: Path) -> str | None:
    """The inbox folder name a staging folder's files came from, if it says one safely."""
    try:
        origin = json.loads((staging / ORIGIN).read_text(encoding="utf-8")).get("inbox")
    except (OSError, ValueError, AttributeError):
        return None
    # One plain path component: the note lives on disk and must not steer a move elsewhere.
    if not isinstance(origin, str) or origin in ("", ".", "..") or Path(origin).name != origin:
        return None
    return origin


def _read_small(p: Path, limit: int = 4000) -> str:
    with open(p, encoding="utf-8", errors="replace") as f:
        return f.read(limit).strip()


def _free_name(dest: Path) -> Path:
    """``dest`` or ``dest`` with a counter, so a move never overwrites an earlier file."""
    if not dest.exists():
        return dest
    for i in range(1, 10_000):
        cand = dest.with_name(f"{dest.stem}-{i}{dest.suffix}")
        if not cand.exists():
            return cand
    raise BadInput(f"too many files named like {dest.name}")


def _move(src: Path, dest: Path) -> None:
    try:
        os.replace(src, dest)
    except OSError:
        shutil.move(str(src), str(dest))  # another file system: copy, then remove the original
