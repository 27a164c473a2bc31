"""The persisted job queue: states on disk, resume after restart, cancel, progress events."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ownvoice.config import load_config
from ownvoice.daemon.jobs import JobManager, new_job_id
from ownvoice.errors import Cancelled


def _manager(trainer):
    paths = load_config().paths.ensure()
    return JobManager(paths.jobs, paths.staging, trainer)


def _submit(jm, make_wav, name="Voice"):
    job_id = new_job_id()
    folder = jm.staging_for(job_id)
    folder.mkdir(parents=True)
    (folder / "a.wav").write_bytes(make_wav())
    (folder / "a.txt").write_text("hello")
    jm.submit_training(job_id, name=name, lang="en", consent="I agree.", source="upload")
    return job_id


def test_job_runs_to_done_and_its_state_is_persisted(step_trainer, make_wav, wait):
    jm = _manager(step_trainer())
    events = []
    jm.subscribe(events.append)
    jm.start()
    try:
        job_id = _submit(jm, make_wav)
        job = wait(lambda: (j := jm.get(job_id))["state"] == "done" and j)
    finally:
        jm.stop()
    on_disk = json.loads((jm.jobs_dir / f"{job_id}.json").read_text())
    assert on_disk["state"] == "done" and on_disk["progress"] == 1.0
    assert job["result"]["files"] == ["a.wav"]
    states = [e["state"] for e in events]
    assert states[0] == "queued" and "running" in states and states[-1] == "done"
    fractions = [e["progress"] for e in events]
    assert fractions == sorted(fractions)


def test_interrupted_job_resumes_from_its_checkpoint_after_restart(step_trainer, make_wav, wait):
    slow = step_trainer(steps=50, step_seconds=0.05)
    jm = _manager(slow)
    jm.start()
    job_id = _submit(jm, make_wav)
    wait(lambda: jm.get(job_id)["progress"] >= 0.1)
    jm.stop()  # graceful shutdown: the job goes back to the queue
    assert jm.get(job_id)["state"] == "queued"
    ckpt = int((jm.staging_for(job_id) / ".work" / "step").read_text())
    assert ckpt >= 5

    fast = step_trainer(steps=50, step_seconds=0.0)
    jm2 = _manager(fast)
    jm2.start()
    try:
        wait(lambda: jm2.get(job_id)["state"] == "done")
    finally:
        jm2.stop()
    assert fast.started_at[0] >= ckpt  # resumed, not restarted from step 0


def test_job_left_running_by_a_crash_is_requeued_on_start(step_trainer, make_wav, wait):
    jm = _manager(step_trainer())
    job_id = _submit(jm, make_wav)  # not started: stays queued
    path = jm.jobs_dir / f"{job_id}.json"
    data = json.loads(path.read_text())
    data["state"] = "running"  # what a SIGKILL mid-training leaves on disk
    path.write_text(json.dumps(data))
    (jm.jobs_dir / "garbage.json").write_text("{not json")
    jm2 = _manager(step_trainer())
    jm2.start()
    try:
        wait(lambda: jm2.get(job_id)["state"] == "done")
    finally:
        jm2.stop()


def test_cancel_queued_and_running_jobs(step_trainer, make_wav, wait):
    trainer = step_trainer(steps=1000, step_seconds=0.01)
    jm = _manager(trainer)
    jm.start()
    try:
        first = _submit(jm, make_wav, "one")
        second = _submit(jm, make_wav, "two")
        trainer.running.wait(5)
        assert jm.get(second)["state"] == "queued"  # one at a time
        assert jm.cancel(second)["state"] == "cancelled"
        jm.cancel(first)
        wait(lambda: jm.get(first)["state"] == "cancelled")
    finally:
        jm.stop()
    assert trainer.calls == 1  # the cancelled queued job never started
    assert not (jm.staging_for(first)).exists()  # uploaded copies removed once cancelled


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"fail": "all recordings were silent"}, "all recordings were silent"),
        ({"crash": True}, "training crashed: RuntimeError: boom"),
    ],
)
def test_failing_and_crashing_trainers_mark_the_job_failed_with_a_reason(
    step_trainer, make_wav, wait, kwargs, expected
):
    jm = _manager(step_trainer(**kwargs))
    jm.start()
    try:
        job_id = _submit(jm, make_wav)
        job = wait(lambda: (j := jm.get(job_id))["state"] == "failed" and j)
    finally:
        jm.stop()
    assert job["error"] == expected and job["message"] == expected


def test_restart_with_a_running_and_a_queued_job_finishes_both_in_order(
    step_trainer, make_wav, wait
):
    jm = _manager(step_trainer(steps=200, step_seconds=0.02))
    jm.start()
    first = _submit(jm, make_wav, "one")
    second = _submit(jm, make_wav, "two")
    wait(lambda: jm.get(first)["progress"] > 0)
    jm.stop()
    assert jm.get(first)["state"] == "queued" and jm.get(second)["state"] == "queued"

    fast = step_trainer(steps=200, step_seconds=0.0)
    jm2 = _manager(fast)
    jm2.start()
    try:
        wait(lambda: all(jm2.get(j)["state"] == "done" for j in (first, second)))
    finally:
        jm2.stop()
    assert fast.calls == 2 and fast.started_at[0] > 0 and fast.started_at[1] == 0


def test_a_trainer_that_misses_the_stop_is_recorded_as_queued_on_disk(make_wav, wait):
    import threading

    release = threading.Event()

    def stubborn(req, progress, cancel):  # busy in code that has no cancel check
        progress({"phase": "init", "message": "choosing the starting voice"})
        release.wait(10)
        raise Cancelled("stopped late")

    jm = _manager(stubborn)
    jm.start()
    job_id = _submit(jm, make_wav)
    wait(lambda: jm.get(job_id)["state"] == "running")
    jm.stop(timeout=0.2)
    try:
        assert jm.worker_alive
        on_disk = json.loads((jm.jobs_dir / f"{job_id}.json").read_text())
        assert on_disk["state"] == "queued" and "resumes" in on_disk["message"]
    finally:
        release.set()
    wait(lambda: not jm.worker_alive)
    assert json.loads((jm.jobs_dir / f"{job_id}.json").read_text())["state"] == "queued"


def test_phase_fractions_become_one_monotone_job_progress(make_wav, wait):
    seen = []

    def phased(req, progress, cancel):
        progress({"phase": "prepare", "progress": 0.9, "message": "transcribing"})
        seen.append(jm.get(req.job_id)["progress"])
        progress({"phase": "align", "progress": 1.0, "message": "aligning"})
        seen.append(jm.get(req.job_id)["progress"])
        progress({"phase": "train", "step": 1, "total": 4, "loss": 2.0, "eta_s": 9.0})
        seen.append(jm.get(req.job_id)["progress"])
        return {"voice_id": "x"}

    jm = _manager(phased)
    jm.start()
    try:
        job_id = _submit(jm, make_wav)
        wait(lambda: jm.get(job_id)["state"] == "done")
    finally:
        jm.stop()
    # Preparation at 90 % is not "almost done": the training phase still lies ahead.
    assert seen[0] < 0.25 and seen[1] <= 0.45 and 0.5 < seen[2] < 0.7, seen
    assert seen == sorted(seen)


def test_train_max_steps_setting_caps_the_real_trainer_call(monkeypatch, make_wav, tmp_path):
    from ownvoice.daemon import training
    from ownvoice.daemon.jobs import TrainRequest
    from ownvoice.daemon.training import clone_trainer
    from ownvoice.errors import BadInput

    calls = []

    class Voice:
        id, meta = "v1", {"training": {}}

        def summary(self):
            return {"id": self.id}

    def train_voice(store, name, files, **kw):  # records the call; the real one is slow
        calls.append(kw)
        return Voice()

    from ownvoice.engine import clone

    monkeypatch.setattr(clone, "train_voice", train_voice)
    req = TrainRequest("abcdef12", "V", "en", "I agree.", [tmp_path / "a.wav"], tmp_path)
    config = load_config().with_values(train_max_steps=3)
    clone_trainer(lambda: None, config)(req, lambda *a: None, lambda: False)
    clone_trainer(lambda: None, load_config())(req, lambda *a: None, lambda: False)
    assert calls[0]["steps"] == 3 and "steps" not in calls[1]
    with pytest.raises(BadInput, match="train_max_steps"):
        training.max_steps(load_config().with_values(train_max_steps=-1))
    # the drop folder and uploads denoise as the train_denoise setting says (default off)
    clone_trainer(lambda: None, load_config().with_values(train_denoise="auto"))(req, lambda *a: None, lambda: False)
    assert [c["options"].denoise for c in calls] == [False, False, None]
    with pytest.raises(BadInput, match="'train_denoise' must be one of off, auto, on"):
        clone_trainer(lambda: None, load_config().with_values(train_denoise="yes"))(req, lambda *a: None, lambda: False)
    # an upload's own 'denoise' field beats the setting
    own = dataclasses.replace(req, denoise="on")
    clone_trainer(lambda: None, load_config().with_values(train_denoise="off"))(own, lambda *a: None, lambda: False)
    assert calls[-1]["options"].denoise is True
