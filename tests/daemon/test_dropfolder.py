"""The drop folder: waits for files to settle, moves them to staging, rejects with reasons, deletes nothing."""

from __future__ import annotations

import json
import os
import time

import pytest

from ownvoice.config import load_config
from ownvoice.daemon.dropfolder import DropFolder
from ownvoice.daemon.jobs import JobManager


def _setup(trainer, **kw):
    paths = load_config().paths.ensure()
    jm = JobManager(paths.jobs, paths.staging, trainer)
    return paths, jm, DropFolder(paths.inbox, jm, settle=2.0, **kw)


def _all_files(*roots):
    return sorted(
        p.name
        for r in roots
        for p in r.rglob("*")
        if p.is_file() and ".work" not in p.parts and not p.name.endswith(".reason.txt")
    )


def test_growing_file_is_not_taken_until_its_size_is_stable(step_trainer, make_wav):
    paths, jm, drop = _setup(step_trainer())
    folder = paths.inbox / "Me"
    folder.mkdir()
    (folder / "consent.txt").write_text("I am the speaker and agree to cloning my voice.")
    rec = folder / "take1.wav"
    data = make_wav(2.0)
    rec.write_bytes(data[: len(data) // 2])
    assert drop.scan(now=0.0) == []
    assert drop.scan(now=1.0) == []
    with open(rec, "ab") as f:  # still being copied
        f.write(data[len(data) // 2 :])
    assert drop.scan(now=2.5) == []  # changed since last look: the clock restarts
    assert drop.scan(now=4.0) == []  # stable for 1.5 s only
    started = drop.scan(now=4.6)
    assert len(started) == 1
    staged = jm.staging_for(started[0])
    assert sorted(p.name for p in staged.iterdir()) == ["consent.txt", "take1.wav"]
    assert (staged / "take1.wav").read_bytes() == data
    job = jm.get(started[0])
    assert job["state"] == "queued" and job["name"] == "Me" and job["source"] == "inbox"


def test_unusable_files_are_moved_to_rejected_with_a_reason_and_nothing_is_deleted(
    step_trainer, make_wav
):
    paths, jm, drop = _setup(step_trainer(), consent="Standing consent from config.")
    folder = paths.inbox / "Voice A"
    folder.mkdir()
    (folder / "good.wav").write_bytes(make_wav())
    (folder / "good.txt").write_text("the words")
    (folder / "orphan.txt").write_text("no recording")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00garbage")
    (folder / "empty.flac").write_bytes(b"")
    (folder / "download.wav.part").write_bytes(b"partial")  # a browser still downloading: ignored
    before = _all_files(paths.inbox)
    drop.scan(now=0.0)
    drop.scan(now=2.1)  # the empty file needs longer: it may be a copy that has not started
    started = drop.scan(now=10.5)
    assert len(started) == 1
    rejected = folder / "rejected"
    reasons = {p.name[: -len(".reason.txt")]: p.read_text() for p in rejected.glob("*.reason.txt")}
    assert set(reasons) == {"orphan.txt", "notes.pdf", "broken.wav", "empty.flac"}
    assert "same name" in reasons["orphan.txt"] and "not a recording" in reasons["notes.pdf"]
    assert "readable" in reasons["broken.wav"] and "empty" in reasons["empty.flac"]
    assert sorted(p.name for p in jm.staging_for(started[0]).iterdir()) == ["good.txt", "good.wav"]
    assert (folder / "download.wav.part").exists()
    assert (
        _all_files(paths.inbox, paths.staging) == before
    )  # every byte the user dropped still exists


def test_without_consent_recordings_are_rejected_with_instructions(step_trainer, make_wav):
    paths, jm, drop = _setup(step_trainer())
    folder = paths.inbox / "Nobody asked"
    folder.mkdir()
    (folder / "a.wav").write_bytes(make_wav())
    drop.scan(now=0.0)
    assert drop.scan(now=3.0) == []
    reason = (folder / "rejected" / "a.wav.reason.txt").read_text()
    assert "consent.txt" in reason
    assert (folder / "rejected" / "a.wav").exists() and jm.list() == []


@pytest.mark.parametrize("fail,sub", [(None, "trained"), ("too little speech", "rejected")])
def test_trained_recordings_go_to_trained_and_failed_ones_back_to_rejected(
    step_trainer, make_wav, wait, fail, sub
):
    paths, jm, drop = _setup(step_trainer(fail=fail), consent="ok")
    folder = paths.inbox / f"v-{sub}"
    folder.mkdir()
    (folder / "a.wav").write_bytes(make_wav())
    jm.start()
    try:
        drop.scan(now=0.0)
        (job_id,) = drop.scan(now=3.0)
        wait(lambda: jm.get(job_id)["state"] in ("done", "failed"))
        wait(lambda: (folder / sub / "a.wav").exists())
    finally:
        jm.stop()
    assert not jm.staging_for(job_id).exists()
    if fail:
        assert fail in (folder / sub / "a.wav.reason.txt").read_text()


def test_watcher_thread_picks_up_a_dropped_folder(step_trainer, make_wav, wait):
    paths = load_config().paths.ensure()
    jm = JobManager(paths.jobs, paths.staging, step_trainer())
    drop = DropFolder(paths.inbox, jm, consent="ok", settle=0.3, poll=0.1)
    jm.start()
    drop.start()
    try:
        folder = paths.inbox / "Threaded"
        folder.mkdir()
        (folder / "x.wav").write_bytes(make_wav())
        wait(lambda: any(j["state"] == "done" for j in jm.list()), timeout=15)
    finally:
        drop.stop()
        jm.stop()
    assert (folder / "trained" / "x.wav").exists()


def test_symlinked_files_and_folders_are_ignored(step_trainer, make_wav, tmp_path):
    if not hasattr(os, "symlink"):
        return
    paths, _jm, drop = _setup(step_trainer(), consent="ok")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.wav").write_bytes(make_wav())
    (paths.inbox / "linked").symlink_to(outside)
    folder = paths.inbox / "real"
    folder.mkdir()
    (folder / "y.wav").symlink_to(outside / "x.wav")
    drop.scan(now=0.0)
    assert drop.scan(now=5.0) == []
    assert (outside / "x.wav").exists() and (folder / "y.wav").is_symlink()


def _interrupted_hand_over(paths, jm, folder_name: str, names: list[str], make_wav) -> None:
    """A staging folder as a crash mid-move leaves it: origin note, some files, no job record."""
    from ownvoice.daemon.dropfolder import ORIGIN

    staging = jm.staging_for("abcdef0123456789")
    staging.mkdir(parents=True)
    (staging / ORIGIN).write_text(json.dumps({"inbox": folder_name}))
    for name in names:
        (staging / name).write_bytes(make_wav() if name.endswith(".wav") else b"consent")


def test_a_crash_mid_staging_gives_the_recordings_back_to_their_inbox_folder(
    step_trainer, make_wav
):
    paths, jm, drop = _setup(step_trainer(), consent="ok")
    folder = paths.inbox / "Crashed"
    folder.mkdir()
    (folder / "take2.wav").write_bytes(make_wav())  # not moved yet when the crash came
    newer = make_wav(0.5)
    (folder / "take1.wav").write_bytes(newer)  # a newer file of the same name
    _interrupted_hand_over(paths, jm, "Crashed", ["take1.wav", "consent.txt"], make_wav)
    jm.start()
    try:
        drop.start()  # recovery runs before the watcher's first scan
        drop.stop()
        assert sorted(p.name for p in folder.iterdir()) == [
            "consent.txt",
            "take1-1.wav",
            "take1.wav",
            "take2.wav",
        ]
        assert (folder / "take1.wav").read_bytes() == newer
        assert not any(paths.staging.iterdir())
        t = time.monotonic() + 10  # after the watcher's own look at the folder
        (job_id,) = drop.scan(now=t) + drop.scan(now=t + 5)  # taken again as if never cut
        staged = sorted(p.name for p in jm.staging_for(job_id).iterdir())
        assert staged == ["consent.txt", "take1-1.wav", "take1.wav", "take2.wav"]
    finally:
        jm.stop()


def test_recovery_leaves_job_folders_and_foreign_staging_alone(step_trainer, make_wav):
    paths, jm, drop = _setup(step_trainer(), consent="ok")
    foreign = jm.staging_for("0123456789abcdef")  # e.g. an upload cut short: no origin note
    foreign.mkdir(parents=True)
    (foreign / "up.wav").write_bytes(make_wav())
    folder = paths.inbox / "Queued"
    folder.mkdir()
    (folder / "q.wav").write_bytes(make_wav())
    drop.scan(now=0.0)
    (job_id,) = drop.scan(now=5.0)
    assert drop.recover() == []
    assert (foreign / "up.wav").exists()
    assert (jm.staging_for(job_id) / "q.wav").exists()


def test_an_origin_note_cannot_steer_files_out_of_the_inbox(step_trainer, make_wav):
    paths, jm, drop = _setup(step_trainer(), consent="ok")
    _interrupted_hand_over(paths, jm, "../outside", ["x.wav"], make_wav)
    assert drop.recover() == []
    assert (jm.staging_for("abcdef0123456789") / "x.wav").exists()


def test_a_crash_while_handing_back_a_finished_job_is_finished_on_restart(
    step_trainer, make_wav, wait
):
    paths, jm, drop = _setup(step_trainer(), consent="ok")
    folder = paths.inbox / "Handed back"
    folder.mkdir()
    (folder / "a.wav").write_bytes(make_wav())
    jm.start()
    try:
        drop.scan(now=0.0)
        (job_id,) = drop.scan(now=3.0)
        wait(lambda: (folder / "trained" / "a.wav").exists())
    finally:
        jm.stop()
    # As if the process died after the job was recorded done but before b.wav was moved back.
    jm.staging_for(job_id).mkdir()
    (jm.staging_for(job_id) / "b.wav").write_bytes(make_wav())
    paths, jm2, _drop2 = _setup(step_trainer(), consent="ok")
    jm2.start()
    try:
        wait(lambda: (folder / "trained" / "b.wav").exists())
    finally:
        jm2.stop()
    assert not jm2.staging_for(job_id).exists()
