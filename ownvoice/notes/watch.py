"""Watch folders of notes and report changed/deleted ``*.md`` files, debounced per path.

Editors save in many ways: in place (VS Code), write a temp file and rename it over the note, or
rename the note away, write a new one and delete the old (vim). Every raw event only marks a path
"dirty"; once a path has been quiet for ``debounce`` seconds (or dirty for ``max_delay``), its
final state decides: the file exists → ``on_note_changed(path)`` (unless size and mtime are what
we last reported), it is gone → ``on_note_deleted(path)``. Swap/backup/temp files and the
``.obsidian``, ``.trash`` and ``.git`` folders are ignored.

A save that announces its end settles sooner: when a path's latest event is the writer closing
the file (inotify's close-after-write) or a file renamed onto it (an atomic save), the note is
whole, and it is reported after ``settle`` seconds of quiet instead of ``debounce``. Platforms
without close events (macOS, Windows) wait the full debounce.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

_LOGGER = logging.getLogger(__name__)

IGNORED_DIRS = frozenset({".obsidian", ".trash", ".git", ".hg", ".svn", "node_modules"})
_TEMP_SUFFIXES = (".tmp", ".swp", ".swx", ".swo", ".bak", ".part", ".crdownload", "~")

NoteCallback = Callable[[Path], None]
SETTLE = 0.1  # seconds of quiet after a save that announced its end (close or rename onto)


def is_note_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> bool:
    """True for ``*.md`` files that are notes, not editor swap/backup/temp files or hidden ones."""
    p = Path(path)
    name = p.name
    low = name.lower()
    if not low.endswith(".md") or name.startswith((".", "~")) or low.endswith(_TEMP_SUFFIXES):
        return False  # ".#note.md" (emacs lock), ".note.md.swp" (vim), "~$note.md" (office)
    try:
        parts = p.relative_to(root).parts[:-1] if root is not None else p.parts[:-1]
    except ValueError:
        parts = p.parts[:-1]
    return not any(part in IGNORED_DIRS or part.startswith(".") for part in parts)


def _signature(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: NoteWatcher) -> None:
        self.watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        if isinstance(event, (FileOpenedEvent, FileClosedNoWriteEvent)):
            return  # reads change nothing
        w = self.watcher
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(getattr(event, "dest_path", "") or "")
        if event.is_directory:
            if isinstance(event, (DirMovedEvent, DirDeletedEvent)):
                w._touch_known_under(src)  # notes inside a moved/deleted folder are gone
            if isinstance(event, DirMovedEvent) and dest:
                for note in w._walk(dest):
                    w._mark(note)
            return
        whole = isinstance(event, FileClosedEvent)  # the writer closed it: this save is done
        for p in (src, dest):
            if p and w._is_note(p):
                w._mark(p, whole=whole or (p == dest and isinstance(event, FileMovedEvent)))


class NoteWatcher:
    """Debounced ``*.md`` watcher over several roots (watchdog; polling fallback)."""

    def __init__(
        self,
        roots: Iterable[str | os.PathLike[str]],
        on_note_changed: NoteCallback,
        on_note_deleted: NoteCallback | None = None,
        debounce: float = 0.5,
        max_delay: float = 5.0,
        polling: bool = False,
        settle: float = SETTLE,
    ) -> None:
        self.roots = [Path(os.path.abspath(os.fspath(r))) for r in roots]
        self.on_note_changed = on_note_changed
        self.on_note_deleted = on_note_deleted
        self.debounce = float(debounce)
        self.max_delay = max(float(max_delay), self.debounce)
        self.settle = min(float(settle), self.debounce)
        self.polling = polling
        self.events_seen = 0
        # path -> (first event, last event, whether the last event said the save was done)
        self._dirty: dict[str, tuple[float, float, bool]] = {}
        self._known: dict[str, tuple[int, int]] = {}  # path -> signature last reported
        self._known_lock = threading.Lock()  # the observer and dispatcher threads both use it
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._observer = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> NoteWatcher:
        handler = _Handler(self)
        self._observer = self._make_observer(handler, self.polling)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ownvoice-note-watcher", daemon=True)
        self._thread.start()
        return self

    def _make_observer(self, handler: _Handler, polling: bool):
        observer = PollingObserver(timeout=1.0) if polling else Observer()
        scheduled = 0
        for root in self.roots:
            if not root.is_dir():
                _LOGGER.warning("notes folder %s does not exist; not watching it", root)
                continue
            observer.schedule(handler, str(root), recursive=True)
            scheduled += 1
        try:
            observer.start()
        except OSError as e:  # inotify watch/instance limits: fall back to polling
            if polling:
                raise
            _LOGGER.warning("native file watching failed (%s); polling instead", e)
            return self._make_observer(handler, True)
        _LOGGER.info("watching %d notes folder(s)%s", scheduled, " (polling)" if polling else "")
        return observer

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self):  # returns the started watcher
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scanning -----------------------------------------------------------------------------
    def _root_of(self, path: str) -> Path | None:
        for root in self.roots:
            if path == str(root) or path.startswith(str(root) + os.sep):
                return root
        return None

    def _is_note(self, path: str) -> bool:
        root = self._root_of(path)
        return root is not None and is_note_path(path, root)

    def _walk(self, folder: str | os.PathLike[str]) -> list[str]:
        notes: list[str] = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS and not d.startswith(".")]
            notes.extend(p for f in filenames if self._is_note(p := os.path.join(dirpath, f)))
        return notes

    def scan(self, notify: bool = True) -> list[Path]:
        """All notes under the roots now; with ``notify`` each is reported as changed (pre-render)."""
        notes: list[str] = []
        for root in self.roots:
            if root.is_dir():
                notes.extend(self._walk(root))
        for note in notes:
            if notify:
                self._mark(note, now=time.monotonic() - self.max_delay)
            elif (sig := _signature(note)) is not None:
                with self._known_lock:
                    self._known[note] = sig
        return [Path(n) for n in notes]

    # ---- debouncing ---------------------------------------------------------------------------
    def _mark(self, path: str, now: float | None = None, whole: bool = False) -> None:
        now = time.monotonic() if now is None else now
        with self._cond:
            self.events_seen += 1
            first = self._dirty.get(path, (now,))[0]
            self._dirty[path] = (first, now, whole)
            self._cond.notify_all()

    def _touch_known_under(self, folder: str) -> None:
        prefix = folder.rstrip(os.sep) + os.sep
        with self._known_lock:
            inside = [p for p in self._known if p.startswith(prefix)]
        for path in inside:
            self._mark(path)

    def _due_at(self, first: float, last: float, whole: bool = False) -> float:
        return min(last + (self.settle if whole else self.debounce), first + self.max_delay)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                now = time.monotonic()
                due = [p for p, mark in self._dirty.items() if self._due_at(*mark) <= now]
                for p in due:
                    del self._dirty[p]
                if not due:
                    wait = min(
                        (self._due_at(*mark) - now for mark in self._dirty.values()),
                        default=1.0,
                    )
                    self._cond.wait(max(0.01, min(wait, 1.0)))
                    continue
            for path in due:
                self._settle(path)

    def _settle(self, path: str) -> None:
        """Report the path's final state after its events went quiet."""
        sig = _signature(path)
        with self._known_lock:
            if sig is not None and self._known.get(path) == sig:
                return  # metadata-only event or a save that changed nothing
            if sig is not None:
                self._known[path] = sig
            else:
                self._known.pop(path, None)
        try:
            if sig is not None:
                self.on_note_changed(Path(path))
            elif self.on_note_deleted is not None:
                self.on_note_deleted(Path(path))
        except Exception:  # a failing callback must not stop the watcher
            _LOGGER.exception("note callback failed for %s", path)
