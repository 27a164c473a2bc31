"""The note watcher with real file operations: editors' save styles, bursts, renames, ignores."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from ownvoice.notes.watch import NoteWatcher, is_note_path

DEBOUNCE = 0.15
QUIET = 0.4  # time with no further callbacks before we call a scenario finished


class Recorder:
    """Collects callbacks (with the content seen at callback time) and waits for them."""

    def __init__(self) -> None:
        self.changed: list[tuple[str, str]] = []
        self.deleted: list[str] = []
        self._cond = threading.Condition()

    def on_changed(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = "<unreadable>"
        with self._cond:
            self.changed.append((path.name, text))
            self._cond.notify_all()

    def on_deleted(self, path: Path) -> None:
        with self._cond:
            self.deleted.append(path.name)
            self._cond.notify_all()

    def wait(self, predicate, timeout: float = 5.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self), timeout), (
                self.changed,
                self.deleted,
            )
        time.sleep(QUIET)  # and nothing more arrives


@pytest.fixture
def vault(tmp_path):
    root = tmp_path / "vault"
    root.mkdir()
    rec = Recorder()
    watcher = NoteWatcher([root], rec.on_changed, rec.on_deleted, debounce=DEBOUNCE, max_delay=3.0)
    watcher.start()
    time.sleep(0.1)  # let the observer settle its watches
    yield root, rec, watcher
    watcher.stop()


def names(rec: Recorder) -> list[str]:
    return [n for n, _ in rec.changed]


def test_new_note_is_reported_once(vault):
    root, rec, _ = vault
    (root / "a.md").write_text("hello", encoding="utf-8")
    rec.wait(lambda r: r.changed)
    assert rec.changed == [("a.md", "hello")] and rec.deleted == []


def test_vim_style_save_rename_write_delete_is_one_change(vault):
    root, rec, _ = vault
    note = root / "note.md"
    note.write_text("v1", encoding="utf-8")
    rec.wait(lambda r: r.changed)
    (root / ".note.md.swp").write_bytes(b"\0swap")  # vim's swap file while editing
    probe = root / "4913"  # vim checks it may create files in the folder
    probe.write_bytes(b"")
    probe.unlink()
    os.rename(note, root / "note.md~")  # backupcopy=no: move the old file away...
    note.write_text("v2", encoding="utf-8")  # ...write the new one...
    (root / "note.md~").unlink()  # ...and drop the backup
    (root / ".note.md.swp").unlink()
    rec.wait(lambda r: len(r.changed) >= 2)
    assert rec.changed == [("note.md", "v1"), ("note.md", "v2")] and rec.deleted == []


def test_delete_then_create_save_is_a_change_not_a_delete(vault):
    root, rec, _ = vault
    note = root / "note.md"
    note.write_text("v1", encoding="utf-8")
    rec.wait(lambda r: r.changed)
    note.unlink()
    note.write_text("v2", encoding="utf-8")
    rec.wait(lambda r: len(r.changed) >= 2)
    assert names(rec) == ["note.md", "note.md"] and rec.changed[-1][1] == "v2" and rec.deleted == []


def test_vscode_style_saves_in_place_and_via_temp_file(vault):
    root, rec, _ = vault
    note = root / "note.md"
    with open(note, "w", encoding="utf-8") as f:  # in place, written in pieces
        for i in range(5):
            f.write(f"line {i}\n")
            f.flush()
    rec.wait(lambda r: r.changed)
    tmp = root / "note.md.tmp"  # atomic save: temp file renamed over the note
    tmp.write_text("new content", encoding="utf-8")
    os.replace(tmp, note)
    rec.wait(lambda r: len(r.changed) >= 2)
    assert rec.changed == [
        ("note.md", "".join(f"line {i}\n" for i in range(5))),
        ("note.md", "new content"),
    ]
    assert rec.deleted == []


def test_burst_of_100_saves_is_debounced(vault):
    root, rec, watcher = vault
    note = root / "busy.md"
    for i in range(100):
        note.write_text(f"version {i}", encoding="utf-8")
        time.sleep(0.005)
    rec.wait(lambda r: r.changed and r.changed[-1][1] == "version 99", timeout=8)
    assert 1 <= len(rec.changed) <= 3, rec.changed
    assert watcher.events_seen >= 100  # the raw events really were a burst


def _first_change(rec: Recorder, timeout: float) -> float:
    """Seconds until the recorder saw a change (or the timeout)."""
    t = time.monotonic()
    with rec._cond:
        rec._cond.wait_for(lambda: rec.changed, timeout)
    return time.monotonic() - t


def test_a_save_that_closed_the_file_settles_before_the_debounce(tmp_path):
    rec = Recorder()
    with NoteWatcher([tmp_path], rec.on_changed, debounce=2.0, settle=0.1, max_delay=10.0):
        time.sleep(0.1)
        note = tmp_path / "n.md"
        with open(note, "w", encoding="utf-8") as f:
            f.write("half")
            f.flush()
            time.sleep(0.8)  # still open: the editor may write more, so nothing is reported yet
            assert rec.changed == []
            f.write(" and whole")
        assert _first_change(rec, 5.0) < 1.0  # the close says the save is done: no 2 s wait
        assert rec.changed == [("n.md", "half and whole")]
        tmp = tmp_path / "n.md.tmp"  # an atomic save (rename onto the note) is whole too
        tmp.write_text("renamed in", encoding="utf-8")
        rec.changed.clear()
        os.replace(tmp, note)
        assert _first_change(rec, 5.0) < 1.0
        assert rec.changed == [("n.md", "renamed in")]


def test_delete_and_rename_are_reported(vault):
    root, rec, _ = vault
    (root / "a.md").write_text("A", encoding="utf-8")
    (root / "b.md").write_text("B", encoding="utf-8")
    rec.wait(lambda r: len(r.changed) >= 2)
    (root / "a.md").unlink()
    os.rename(root / "b.md", root / "c.md")
    rec.wait(lambda r: len(r.deleted) >= 2 and len(r.changed) >= 3)
    assert sorted(rec.deleted) == ["a.md", "b.md"]
    assert rec.changed[-1] == ("c.md", "B")


def test_renamed_folder_moves_its_notes(vault):
    root, rec, _ = vault
    (root / "old").mkdir()
    (root / "old" / "n.md").write_text("N", encoding="utf-8")
    rec.wait(lambda r: r.changed)
    os.rename(root / "old", root / "new")
    rec.wait(lambda r: r.deleted and len(r.changed) >= 2)
    assert rec.deleted == ["n.md"] and rec.changed[-1] == ("n.md", "N")


def test_ignored_folders_and_temp_files_are_never_reported(vault):
    root, rec, _ = vault
    for d in (".obsidian", ".trash", ".git", "sub/.hidden"):
        (root / d).mkdir(parents=True)
        (root / d / "x.md").write_text("no", encoding="utf-8")
    for name in (
        ".note.md.swp",
        "4913",
        "note.md~",
        ".#note.md",
        "note.tmp",
        "note.txt",
        "x.md.tmp",
    ):
        (root / name).write_text("no", encoding="utf-8")
    (root / "sub" / "real.md").write_text("yes", encoding="utf-8")
    rec.wait(lambda r: r.changed)
    assert rec.changed == [("real.md", "yes")] and rec.deleted == []


def test_unchanged_touch_is_not_a_change_but_a_real_edit_is(vault):
    root, rec, _ = vault
    note = root / "n.md"
    note.write_text("same", encoding="utf-8")
    rec.wait(lambda r: r.changed)
    fd = os.open(note, os.O_RDONLY)  # opening/reading produces events but no change
    os.read(fd, 10)
    os.close(fd)
    time.sleep(QUIET)
    assert len(rec.changed) == 1


def test_scan_reports_existing_notes(tmp_path):
    (tmp_path / "a.md").write_text("A", encoding="utf-8")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.md").write_text("B", encoding="utf-8")
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "c.md").write_text("C", encoding="utf-8")
    rec = Recorder()
    with NoteWatcher(
        [tmp_path, tmp_path / "missing"], rec.on_changed, rec.on_deleted, debounce=DEBOUNCE
    ) as w:
        found = w.scan()
        rec.wait(lambda r: len(r.changed) >= 2)
    assert sorted(p.name for p in found) == ["a.md", "b.md"]
    assert sorted(names(rec)) == ["a.md", "b.md"]


def test_is_note_path_rules(tmp_path):
    assert is_note_path(tmp_path / "a.md", tmp_path)
    assert is_note_path(tmp_path / "Folder" / "My Note.MD", tmp_path)
    for bad in (".a.md", "a.md.swp", "a.md~", ".#a.md", "~$a.md", "4913", "a.txt", "a.md.tmp"):
        assert not is_note_path(tmp_path / bad, tmp_path), bad
    assert not is_note_path(tmp_path / ".obsidian" / "a.md", tmp_path)
    assert is_note_path(Path("/home/u/.vaults/v/a.md"), Path("/home/u/.vaults/v"))


def test_watcher_and_renderer_rerender_only_what_changed(tmp_path, synth):
    from ownvoice.notes import AudioCache
    from ownvoice.notes.render import NoteRenderer, VoiceKey

    root = tmp_path / "vault"
    root.mkdir()
    renderer = NoteRenderer(
        synth, AudioCache(tmp_path / "cache", 10**8), VoiceKey("me", 1, "e1")
    ).start()
    watcher = NoteWatcher(
        [root], renderer.on_note_changed, renderer.on_note_deleted, debounce=DEBOUNCE
    )
    body = "\n\n".join(f"Paragraph {i} says something." for i in range(20))
    try:
        watcher.start()
        time.sleep(0.2)
        (root / "a.md").write_text(body, encoding="utf-8")
        _settle(renderer, lambda: synth.count >= 20)
        os.rename(root / "a.md", root / "b.md")
        _settle(renderer, lambda: renderer.script_for(root / "b.md") is not None)
        assert synth.count == 20 and renderer.script_for(root / "a.md") is None
        (root / "b.md").write_text(
            body.replace("Paragraph 7 says", "Paragraph 7 now says"), encoding="utf-8"
        )
        _settle(renderer, lambda: synth.count >= 21)
        assert synth.calls[-1][0] == "Paragraph 7 now says something." and synth.count == 21
    finally:
        watcher.stop()
        renderer.stop()


def _settle(renderer, predicate, timeout: float = 8.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)
    time.sleep(QUIET)
    assert renderer.wait_idle(5)
