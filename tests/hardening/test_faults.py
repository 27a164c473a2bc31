"""Fault injection: SIGKILL the daemon inside its writes, fill the disk; nothing may be lost.

Crash points are exact: ``fake_serve.py --crash-at TARGET:N`` makes the daemon SIGKILL itself on
the N-th call of a write primitive (the version-folder rename, a tensor write, the current.json
switch, a drop-folder move), so every run hits the same instant. Random-time SIGKILLs from outside
cover the rest (cache writes, training). After each fault the data on disk is checked directly
and through a restarted daemon: 0 corrupt voices, 0 lost recordings, jobs resumed or failed with
a reason, no half-written file visible.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile as sf

HERE = Path(__file__).resolve().parent


# ---- helpers ------------------------------------------------------------------------------------
def _store_problems(voices_root: Path) -> list[str]:
    """Every way a voice on disk could be damaged: unreadable, files missing or not matching."""
    from ownvoice.hashing import sha256_file
    from ownvoice.voice_store import VoiceStore, schema

    problems = []
    store = VoiceStore(voices_root)
    store.recover()  # what the daemon does at start: drop leftovers of interrupted writes
    for d in sorted(voices_root.iterdir()):
        if not d.is_dir() or not schema.ID_RE.match(d.name):
            continue
        try:
            voice = store.get(d.name)
            voice.style()
        except Exception as e:  # noqa: BLE001 - any failure to read is damage
            problems.append(f"{d.name}: unreadable ({type(e).__name__}: {e})")
            continue
        for rel, digest in (voice.meta.get("files") or {}).items():
            p = voice.path / rel
            if not p.is_file() or sha256_file(p) != digest:
                problems.append(f"{d.name}: {rel} missing or not matching its checksum")
        leftovers = [p.name for p in d.iterdir() if p.name.startswith(".tmp-")]
        if leftovers:
            problems.append(f"{d.name}: leftovers after recovery {leftovers}")
    return problems


def _create_voice(home: Path, name: str) -> str:
    code = (
        "import sys, numpy as np; from ownvoice.config import load_config; "
        "from ownvoice.voice_store import VoiceStore; "
        "s = VoiceStore(load_config().paths.voices); "
        "print(s.create(sys.argv[1], languages=['en'], consent='test', "
        "style=np.full((1, 256), 0.5, np.float32), embedding=np.ones(256, np.float32)).id)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, name],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OWNVOICE_HOME": str(home)},
    )
    return out.stdout.strip()


def _wav_bytes(seconds: float = 1.0, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    x = 0.1 * np.random.default_rng(seed).standard_normal(int(16000 * seconds))
    sf.write(buf, x.astype(np.float32), 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _send_expecting_death(daemon, method: str, path: str, **kw) -> None:
    """Send a request during which the daemon SIGKILLs itself; wait for it to be gone."""
    try:
        r = daemon.api(method, path, timeout=30, **kw)
        pytest.fail(f"the crash point was not reached: {r.status_code} {r.text[:200]}")
    except requests.RequestException:
        pass
    assert daemon.wait_exit(30) == -9, daemon.tail()


def _wait_job(daemon, job_id: str, timeout: float = 90.0, until=("done", "failed", "cancelled")):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = daemon.api("GET", f"/api/jobs/{job_id}").json()
        if job["state"] in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


# ---- (a) voice store writes ---------------------------------------------------------------------
STORE_CRASH_POINTS = [
    ("store.save_file:1", "PATCH"),  # while writing the new version's tensors
    ("store.replace:1", "PATCH"),  # before the finished version folder is moved in place
    ("atomic.replace:2", "PATCH"),  # before current.json switches (call 1 is the pid file)
    ("store.replace:1", "DELETE"),  # before the voice folder is renamed away
]


def test_sigkill_inside_voice_store_writes_leaves_old_or_new_voice(spawn, tmp_path, tally):
    home = tmp_path / "home"
    spawn(home).kill()  # first start: token and folders exist from here on
    vid = _create_voice(home, "Before")
    for crash, method in STORE_CRASH_POINTS:
        d = spawn(home, args=("--crash-at", crash))
        body = {"json": {"name": "After"}} if method == "PATCH" else {}
        _send_expecting_death(d, method, f"/api/voices/{vid}", **body)
        tally.add("faults_injected")
        problems = _store_problems(home / "data" / "voices")
        tally.add("data_lost", len(problems))
        assert not problems, (crash, problems)
    d = spawn(home)  # the restarted daemon serves the voice, whole, under its old or new name
    r = d.api("GET", f"/api/voices/{vid}")
    assert r.status_code == 200 and r.json()["name"] in ("Before", "After"), r.text
    assert d.api("POST", f"/api/voices/{vid}/export").status_code == 200


@pytest.mark.hardening_full
def test_random_sigkills_during_voice_renames_never_corrupt_a_voice(spawn, tmp_path, tally):
    home = tmp_path / "home"
    spawn(home).kill()
    ids = [_create_voice(home, f"Voice {i}") for i in range(3)]
    rng = random.Random(10)
    for round_ in range(12):
        d = spawn(home)
        stop = time.monotonic() + rng.uniform(0.3, 2.0)
        i = 0
        while time.monotonic() < stop:
            try:
                d.api(
                    "PATCH", f"/api/voices/{ids[i % 3]}", json={"name": f"R{round_}-{i}"}, timeout=5
                )
            except requests.RequestException:
                break
            i += 1
        d.kill()
        tally.add("faults_injected")
        problems = _store_problems(home / "data" / "voices")
        tally.add("data_lost", len(problems))
        assert not problems, (round_, problems)
    d = spawn(home)
    names = {v["id"] for v in d.api("GET", "/api/voices").json()["voices"]}
    assert set(ids) <= names


# ---- (b) training -------------------------------------------------------------------------------
def _upload(d, name: str = "Trainee") -> str:
    files = [("file", (f"take{i}.wav", _wav_bytes(1.0, i), "audio/wav")) for i in range(2)]
    r = d.api(
        "POST", "/api/voices", files=files, data={"name": name, "consent": "test", "lang": "en"}
    )
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


def _sigkill_mid_training_then_resume(spawn, home: Path, tally, kill_at: float) -> dict:
    args = ("--train-steps", "20", "--step-seconds", "0.1")
    d = spawn(home, args=args)
    job_id = _upload(d)
    deadline = time.monotonic() + 60
    while d.api("GET", f"/api/jobs/{job_id}").json()["progress"] < kill_at:
        assert time.monotonic() < deadline, d.tail()
        time.sleep(0.05)
    d.kill()
    tally.add("faults_injected")
    on_disk = json.loads((home / "data" / "jobs" / f"{job_id}.json").read_text())
    assert on_disk["state"] in ("running", "queued"), on_disk
    d = spawn(home, args=args)
    job = _wait_job(d, job_id)
    if job["state"] != "done":  # a job may fail, but only with a reason the user can read
        assert job["state"] == "failed" and job["error"], job
    else:
        voice = d.api("GET", f"/api/voices/{job['result']['voice_id']}")
        assert voice.status_code == 200, voice.text
    problems = _store_problems(home / "data" / "voices")
    tally.add("data_lost", len(problems))
    assert not problems, problems
    d.term()
    return job


def test_sigkill_during_training_resumes_the_job(spawn, tmp_path, tally):
    job = _sigkill_mid_training_then_resume(spawn, tmp_path / "home", tally, kill_at=0.3)
    assert job["state"] == "done", job


@pytest.mark.hardening_full
def test_repeated_sigkills_during_training_end_done_or_failed_with_reason(spawn, tmp_path, tally):
    rng = random.Random(3)
    for i in range(6):
        job = _sigkill_mid_training_then_resume(
            spawn, tmp_path / f"home{i}", tally, kill_at=rng.uniform(0.05, 0.9)
        )
        assert job["state"] in ("done", "failed"), job


# ---- (c) cache writes ---------------------------------------------------------------------------
def _cache_rounds(tmp_path: Path, rounds: int, tally) -> dict:
    spec_path = HERE / "cache_writer.py"
    root = tmp_path / "cache"
    rng = random.Random(5)
    start = 0
    for _ in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, str(spec_path), str(root), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = proc.stdout.readline()  # at least one entry is written
        assert first.strip(), "the cache writer did not start"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.kill()
        out, _ = proc.communicate()
        written = [int(x) for x in (first + out).split()]
        start = written[-1] + 1 if written else start
        tally.add("faults_injected")
    return _check_cache(root, start + 2)


def _check_cache(root: Path, upto: int) -> dict:
    import importlib.util

    from ownvoice.notes.cache import AudioCache

    spec = importlib.util.spec_from_file_location("hz_cache_writer", HERE / "cache_writer.py")
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    keys = {writer.entry_key(i): i for i in range(upto)}
    cache = AudioCache(root, max_bytes=1 << 30)
    entries = [p for p in root.rglob("*.wav") if not p.name.startswith(".")]
    temps = [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]
    corrupt = []
    for p in entries:
        i = keys.get(p.stem)
        hit = cache.get_with_rate(p.stem)
        if i is None or hit is None or not np.array_equal(hit[0], writer.entry_samples(i)):
            corrupt.append(p.name)
    return {"entries": len(entries), "temp_files": len(temps), "corrupt": corrupt}


def test_sigkill_during_cache_writes_leaves_no_corrupt_entry(tmp_path, tally):
    res = _cache_rounds(tmp_path, 3, tally)
    tally.add("data_lost", len(res["corrupt"]))
    assert res["entries"] >= 3 and not res["corrupt"], res


@pytest.mark.hardening_full
def test_many_sigkills_during_cache_writes_leave_no_corrupt_entry(tmp_path, tally):
    res = _cache_rounds(tmp_path, 25, tally)
    tally.add("data_lost", len(res["corrupt"]))
    tally.figure("cache_entries_checked_after_kills", res["entries"])
    assert res["entries"] >= 25 and not res["corrupt"], res


# ---- (d) drop-folder staging ---------------------------------------------------------------------
def _recordings_visible(home: Path, names: set[str]) -> set[str]:
    """Recordings a user or the daemon can still find: in the inbox (any sub-folder) or staged
    for a job that exists."""
    found = {p.name for p in (home / "data" / "inbox").rglob("*.wav")}
    jobs = home / "data" / "jobs"
    for staged in (home / "data" / "staging").glob("*"):
        if (jobs / f"{staged.name}.json").exists():
            found |= {p.name for p in staged.glob("*.wav")}
    return names & found


def _drop_and_crash(spawn, home: Path, crash: str, tally) -> set[str]:
    folder = home / "data" / "inbox" / "Dropped voice"
    folder.mkdir(parents=True)
    names = {f"take{i}.wav" for i in range(4)}
    for i, name in enumerate(sorted(names)):
        (folder / name).write_bytes(_wav_bytes(1.0, i))
    (folder / "consent.txt").write_text("I agree to having my voice cloned (test).\n")
    args = ("--inbox", "--settle", "0.2", "--train-steps", "2")
    d = spawn(home, args=(*args, "--crash-at", crash))
    assert d.wait_exit(60) == -9, d.tail()
    tally.add("faults_injected")
    d = spawn(home, args=args)
    time.sleep(3.0)  # a few drop-folder scans
    lost = names - _recordings_visible(home, names)
    tally.add("data_lost", len(lost))
    d.term()
    return lost


def test_sigkill_during_drop_folder_staging_loses_no_recording(spawn, tmp_path, tally):
    lost = _drop_and_crash(spawn, tmp_path / "home", "dropfolder.move:3", tally)
    assert not lost, f"recordings no longer visible anywhere: {sorted(lost)}"


@pytest.mark.hardening_full
def test_sigkill_before_drop_folder_staging_loses_nothing(spawn, tmp_path, tally):
    lost = _drop_and_crash(spawn, tmp_path / "home", "dropfolder.move:1", tally)
    assert not lost, f"recordings no longer visible anywhere: {sorted(lost)}"


# ---- disk full ----------------------------------------------------------------------------------
def test_full_disk_during_a_voice_write_is_a_clean_507(spawn, tmp_path, tally):
    home = tmp_path / "home"
    spawn(home).kill()
    vid = _create_voice(home, "Before")
    d = spawn(home, args=("--enospc-at", "store.save_file:1"))
    r = d.api("PATCH", f"/api/voices/{vid}", json={"name": "After"})
    tally.add("faults_injected")
    assert r.status_code == 507 and r.json()["ok"] is False and "disk is full" in r.json()["error"]
    assert d.api("GET", f"/api/voices/{vid}").json()["name"] == "Before"
    vdir = home / "data" / "voices" / vid
    leftovers = [p.name for p in vdir.iterdir() if p.name.startswith(".tmp-")]
    tally.add("data_lost", len(leftovers) + len(_store_problems(home / "data" / "voices")))
    assert not leftovers and not _store_problems(home / "data" / "voices")


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs (needs mount rights: root in a container); skipped where not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)],
        check=False,
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({r.stderr.strip()}); the patched-write "
            "test covers the error path"
        )
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mnt: Path) -> Path:
    """Fill the file system to the last byte (unbuffered: a buffered close would fail late)."""
    filler = mnt / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass
    return filler


def test_a_really_full_disk_changes_nothing_and_recovers(spawn, small_disk, tmp_path, tally):
    home = small_disk / "home"
    logs = tmp_path / "logs"
    logs.mkdir()
    spawn(home, log_dir=logs).kill()
    vid = _create_voice(home, "Before")
    d = spawn(home, log_dir=logs)
    filler = _fill(small_disk)
    results = {
        "rename": d.api("PATCH", f"/api/voices/{vid}", json={"name": "After"}),
        "upload": d.api(
            "POST",
            "/api/voices",
            data={"name": "New", "consent": "ok"},
            files=[("file", ("a.wav", _wav_bytes(2.0), "audio/wav"))],
        ),
    }
    tally.add("faults_injected", len(results))
    for what, r in results.items():
        assert r.status_code in (507, 413), (what, r.status_code, r.text)
        assert r.json()["ok"] is False
    assert d.api("GET", f"/api/voices/{vid}").json()["name"] == "Before"
    staged = list((home / "data" / "staging").glob("*"))
    problems = _store_problems(home / "data" / "voices")
    tally.add("data_lost", len(staged) + len(problems))
    assert not staged and not problems, (staged, problems)
    filler.unlink()  # space again: the same request now works
    assert d.api("PATCH", f"/api/voices/{vid}", json={"name": "After"}).json()["name"] == "After"
    d.term()
    shutil.rmtree(home, ignore_errors=True)


def test_safetensors_disk_full_is_reported_as_oserror_enospc(tmp_path, monkeypatch, tally):
    """safetensors wraps ENOSPC in its own error type; the store turns it back into OSError so
    the bridge answers 507 instead of a 500, and the half-written version folder is removed."""
    import errno

    from ownvoice.voice_store import VoiceStore
    from ownvoice.voice_store import store as store_mod

    def full(tensors, path):
        with open(path, "wb") as f:
            f.write(b"\0" * 10)  # a torn file, as a real full disk leaves one
        raise RuntimeError("Error while serializing: I/O error: No space left (os error 28)")

    monkeypatch.setattr(store_mod, "save_file", full)
    store = VoiceStore(tmp_path / "voices")
    with pytest.raises(OSError) as err:
        store.create("Full", languages=["en"], consent="ok", style=np.zeros((1, 256), np.float32))
    tally.add("faults_injected")
    assert err.value.errno == errno.ENOSPC
    assert not [p for p in (tmp_path / "voices").rglob("*") if p.name != ".lock" and p.is_file()]
