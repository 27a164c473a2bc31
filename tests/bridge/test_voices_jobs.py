"""/api/voices (read, rename, delete, export, import, upload-to-train) and /api/jobs (+ SSE), over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import aiohttp
import numpy as np
import soundfile as sf

from ownvoice.config import load_config
from ownvoice.voice_store import VoiceStore


def _wav_bytes(seconds: float = 1.0) -> bytes:
    t = np.arange(int(seconds * 16000)) / 16000
    buf = io.BytesIO()
    sf.write(buf, (0.2 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


def _user_voice(name="Mine"):
    store = VoiceStore(load_config().paths.voices)
    return store.create(
        name, languages=["en"], consent="I agree.", style=np.zeros((1, 256), np.float32)
    )


def test_voice_list_offers_the_default_alias_first(make_daemon, serve):
    v = _user_voice()

    async def go(client, raw):
        return await (await client.get("/api/voices")).json()

    body = serve(make_daemon(), go)
    ids = [x["id"] for x in body["voices"]]
    assert ids[0] == "default" and v.id in ids and "jf_alpha" in ids
    assert body["default"] == "default"
    for x in body["voices"]:
        assert {"id", "name", "languages", "builtin", "licence"} <= set(x)


def test_rename_export_import_delete_round_trip(make_daemon, serve):
    v = _user_voice("Before")

    async def go(client, raw):
        got = await (await client.get(f"/api/voices/{v.id}")).json()
        renamed = await (await client.patch(f"/api/voices/{v.id}", json={"name": "After"})).json()
        bad_patch = await client.patch(f"/api/voices/{v.id}", json={"id": "x"})
        exp = await client.post(f"/api/voices/{v.id}/export")
        archive = await exp.read()
        imported = await (
            await client.post(
                "/api/voices/import", data=archive, headers={"Content-Type": "application/zip"}
            )
        ).json()
        deleted = await client.delete(f"/api/voices/{v.id}")
        gone = await client.get(f"/api/voices/{v.id}")
        builtin = await client.delete("/api/voices/jf_alpha")
        return (
            got,
            renamed,
            bad_patch.status,
            exp.headers["Content-Type"],
            archive,
            imported,
            deleted.status,
            gone.status,
            builtin.status,
        )

    got, renamed, bad_patch, ctype, archive, imported, deleted, gone, builtin = serve(
        make_daemon(), go
    )
    assert got["name"] == "Before" and renamed["name"] == "After" and renamed["version"] == 2
    assert bad_patch == 400
    assert (
        ctype == "application/zip"
        and "voice.json" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    )
    assert imported["id"] != v.id and imported["name"] == "After"
    assert (deleted, gone, builtin) == (200, 404, 409)


def test_import_refuses_garbage_and_oversized_archives(make_daemon, serve):
    d = make_daemon(max_upload_mb=1)

    async def go(client, raw):
        a = await client.post("/api/voices/import", data=b"not a zip at all")
        b = await client.post("/api/voices/import", data=b"\0" * (2 << 20))
        return a.status, b.status

    assert serve(d, go) == (400, 413)


def _form(files, **fields):
    form = aiohttp.FormData()
    for k, v in fields.items():
        form.add_field(k, v)
    for name, data in files:
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


def test_upload_queues_a_training_job_that_reaches_done(make_daemon, serve):
    d = make_daemon()

    async def go(client, raw):
        form = _form(
            [("take1.wav", _wav_bytes()), ("take1.txt", b"hello there")],
            name="My voice",
            consent="I am the speaker and I agree.",
            lang="en",
            denoise="auto",
        )
        r = await client.post("/api/voices", data=form)
        body = await r.json()
        for _ in range(100):
            job = await (await client.get(f"/api/jobs/{body['job_id']}")).json()
            if job["state"] in ("done", "failed", "cancelled"):
                break
            await asyncio.sleep(0.05)
        voices = await (await client.get("/api/voices")).json()
        return r.status, body, job, voices

    status, body, job, voices = serve(d, go)
    assert status == 202 and body["ok"] is True and body["job_id"]
    assert job["state"] == "done" and job["progress"] == 1.0 and job["kind"] == "train"
    assert job["result"]["files"] == ["take1.wav"]  # the transcript rides along, not as a recording
    assert job["result"]["denoise"] == "auto"  # the form's word reaches the trainer
    assert "consent" not in json.dumps(job)
    assert any(v["id"] == job["result"]["voice_id"] for v in voices["voices"])
    assert not (d.paths.staging / body["job_id"]).exists()  # uploaded copies are cleaned up


def test_upload_is_refused_without_consent_recordings_or_with_bad_files(make_daemon, serve):
    d = make_daemon(max_upload_mb=1)

    async def go(client, raw):
        out = {}
        out["no consent"] = await client.post(
            "/api/voices", data=_form([("a.wav", _wav_bytes())], name="x")
        )
        out["no files"] = await client.post("/api/voices", data=_form([], name="x", consent="ok"))
        out["exe"] = await client.post(
            "/api/voices", data=_form([("a.exe", b"MZ")], name="x", consent="ok")
        )
        out["corrupt"] = await client.post(
            "/api/voices", data=_form([("a.wav", b"RIFFjunk")], name="x", consent="ok")
        )
        out["orphan txt"] = await client.post(
            "/api/voices",
            data=_form([("a.wav", _wav_bytes()), ("b.txt", b"hi")], name="x", consent="ok"),
        )
        out["bad lang"] = await client.post(
            "/api/voices", data=_form([("a.wav", _wav_bytes())], name="x", consent="ok", lang="fr")
        )
        out["bad denoise"] = await client.post(
            "/api/voices",
            data=_form([("a.wav", _wav_bytes())], name="x", consent="ok", denoise="loud"),
        )
        out["too big"] = await client.post(
            "/api/voices", data=_form([("a.wav", _wav_bytes(40))], name="x", consent="ok")
        )
        out["json"] = await client.post("/api/voices", json={"name": "x"})
        return {k: r.status for k, r in out.items()}

    statuses = serve(d, go)
    assert statuses == {
        "no consent": 400,
        "no files": 400,
        "exe": 400,
        "corrupt": 400,
        "orphan txt": 400,
        "bad lang": 400,
        "bad denoise": 400,
        "too big": 413,
        "json": 400,
    }
    assert not any(d.paths.staging.iterdir())  # refused uploads leave nothing behind
    assert d.jobs.list() == []


def test_upload_longer_than_the_audio_cap_is_413(make_daemon, serve):
    async def go(client, raw):
        r = await client.post(
            "/api/voices", data=_form([("a.wav", _wav_bytes(3))], name="x", consent="ok")
        )
        return r.status, (await r.json())["error"]

    status, error = serve(make_daemon(max_audio_seconds=2), go)
    assert status == 413 and "max_audio_seconds" in error


def test_sse_streams_progress_then_end(make_daemon, serve, fake_trainer_factory):
    d = make_daemon(trainer=fake_trainer_factory(steps=4, step_seconds=0.1))

    async def go(client, raw):
        r = await client.post(
            "/api/voices", data=_form([("a.wav", _wav_bytes())], name="x", consent="ok")
        )
        job_id = (await r.json())["job_id"]
        ev = await client.get(f"/api/jobs/{job_id}/events")
        assert ev.headers["Content-Type"].startswith("text/event-stream")
        events, name = [], None
        async for raw_line in ev.content:
            line = raw_line.decode().rstrip("\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line[5:])))
        return events

    events = serve(d, go)
    names = [n for n, _ in events]
    assert names[-1] == "end" and set(names[:-1]) == {"progress"} and len(names) >= 3
    assert events[-1][1]["state"] == "done"
    progress = [e["progress"] for n, e in events if n == "progress"]
    assert progress == sorted(progress)


def test_cancel_a_running_job_ends_cancelled_and_unknown_jobs_are_404(
    make_daemon, serve, fake_trainer_factory
):
    d = make_daemon(trainer=fake_trainer_factory(steps=200, step_seconds=0.05))

    async def go(client, raw):
        r = await client.post(
            "/api/voices", data=_form([("a.wav", _wav_bytes())], name="x", consent="ok")
        )
        job_id = (await r.json())["job_id"]
        await asyncio.sleep(0.2)
        c = await client.post(f"/api/jobs/{job_id}/cancel")
        for _ in range(100):
            job = await (await client.get(f"/api/jobs/{job_id}")).json()
            if job["state"] == "cancelled":
                break
            await asyncio.sleep(0.05)
        again = await client.post(f"/api/jobs/{job_id}/cancel")
        missing = await client.get("/api/jobs/0123456789abcdef")
        invalid = await client.get("/api/jobs/..%2Fetc")
        return c.status, job, again.status, missing.status, invalid.status

    cancel_status, job, again, missing, invalid = serve(d, go)
    assert cancel_status == 200 and job["state"] == "cancelled"
    assert again == 409 and missing == 404 and invalid in (400, 404)
