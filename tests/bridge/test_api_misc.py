"""Notes rendering (containment), the OpenAPI document, the OpenAI endpoint and the typed client."""

from __future__ import annotations

import base64
import io
import os

import pytest
import soundfile as sf

from ownvoice.bridge.app import all_routes, make_app
from ownvoice.bridge.client import Client, DaemonDown
from ownvoice.bridge.errors import Unauthorized
from ownvoice.errors import Busy, NotFound


def test_note_renders_by_root_relative_path_with_utf16_offsets(make_daemon, serve, notes_root):
    d = make_daemon(notes_roots=[str(notes_root)])
    note = (notes_root / "folder" / "note.md").read_text()

    async def go(client, raw):
        r = await client.post("/api/notes/render", json={"root": "vault", "path": "folder/note.md"})
        return r.status, await r.json()

    status, body = serve(d, go)
    assert status == 200 and body["ok"] is True
    assert sf.info(io.BytesIO(base64.b64decode(body["audio_base64"]))).samplerate == 24000
    units = note.encode("utf-16-le")
    texts = [units[2 * s["start"] : 2 * s["end"]].decode("utf-16-le") for s in body["sentences"]]
    assert texts[-1] == "Second one!"


def test_note_paths_cannot_escape_the_root(make_daemon, serve, notes_root, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("Top secret.")
    if hasattr(os, "symlink"):
        (notes_root / "escape.md").symlink_to(secret)
        (notes_root / "dirlink").symlink_to(tmp_path)
    d = make_daemon(notes_roots=[str(notes_root)])

    async def go(client, raw):
        out = {}
        for path in (
            "../secret.md",
            "folder/../../secret.md",
            str(secret),
            "/etc/passwd",
            "C:/x.md",
            "escape.md",
            "dirlink/secret.md",
            "folder/missing.md",
            "folder",
            "..\\secret.md",
        ):
            r = await client.post("/api/notes/render", json={"root": "vault", "path": path})
            out[path] = r.status
        r = await client.post("/api/notes/render", json={"root": "other", "path": "folder/note.md"})
        out["unknown root"] = r.status
        return out

    out = serve(d, go)
    for path in (
        "../secret.md",
        "folder/../../secret.md",
        str(secret),
        "/etc/passwd",
        "C:/x.md",
        "..\\secret.md",
    ):
        assert out[path] == 400, path
    if hasattr(os, "symlink"):
        assert out["escape.md"] == 403 and out["dirlink/secret.md"] == 403
    assert out["folder/missing.md"] == 404 and out["folder"] == 404 and out["unknown root"] == 404


def test_openapi_documents_exactly_the_served_routes(make_daemon, serve):
    d = make_daemon()
    app = make_app(d)
    served = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method not in ("HEAD", "OPTIONS")
    }

    async def go(client, raw):
        return await (await client.get("/api/openapi.json")).json()

    doc = serve(d, go)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
    assert (
        doc["openapi"].startswith("3.")
        and doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    )
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["summary"] and ("200" in op["responses"] or "202" in op["responses"])
            for name in [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]:
                assert any(p["name"] == name and p["in"] == "path" for p in op["parameters"])
    # Every endpoint of the contract (docs/API.md) is served.
    for method, path in [
        ("POST", "/api/script"),
        ("POST", "/api/speak"),
        ("POST", "/api/play"),
        ("POST", "/api/stop"),
        ("GET", "/api/playback"),
        ("GET", "/api/voices"),
        ("GET", "/api/voices/{id}"),
        ("PATCH", "/api/voices/{id}"),
        ("DELETE", "/api/voices/{id}"),
        ("POST", "/api/voices/{id}/export"),
        ("POST", "/api/voices/import"),
        ("POST", "/api/voices"),
        ("GET", "/api/jobs/{id}"),
        ("GET", "/api/jobs/{id}/events"),
        ("POST", "/api/jobs/{id}/cancel"),
        ("POST", "/api/notes/render"),
        ("GET", "/api/status"),
        ("GET", "/api/openapi.json"),
        ("POST", "/v1/audio/speech"),
        ("GET", "/v1/models"),
    ]:
        assert (method, path) in served, (method, path)
    assert len(all_routes()) == len(served)


def test_status_reports_version_queue_and_token_path(make_daemon, serve):
    d = make_daemon()

    async def go(client, raw):
        return await (await client.get("/api/status")).json()

    body = serve(d, go)
    assert body["ok"] is True and isinstance(body["version"], str)
    assert body["queue"] == {"pending": 0, "running": 0, "max": 32}
    assert body["model"]["state"] == "ready"
    assert body["paths"]["token_file"] == str(d.paths.token_file)


def test_openai_client_speaks_through_v1_with_the_bearer_token(make_daemon, live_server):
    openai = pytest.importorskip("openai")
    d = make_daemon()
    with live_server(d) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=d.token, max_retries=0)
        models = client.models.list()
        assert [m.id for m in models.data] == ["ownvoice"]
        out = {}
        for fmt in ("wav", "flac", "mp3", "opus"):
            out[fmt] = client.audio.speech.create(
                model="ownvoice", input="Hello there. Bye now.", voice="alloy", response_format=fmt
            ).read()
        pcm = client.audio.speech.create(
            model="ownvoice", input="Hello.", voice="default", response_format="pcm"
        ).read()
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
        with pytest.raises(openai.NotFoundError):
            client.audio.speech.create(
                model="ownvoice", input="Hi.", voice="nobody-here", response_format="wav"
            )
    for fmt, data in out.items():
        audio, sr = sf.read(io.BytesIO(data))
        assert sr in (24000, 48000) and len(audio) > 0.5 * sr, fmt
    assert len(pcm) % 2 == 0 and len(pcm) > 2000


def test_typed_client_maps_statuses_to_error_classes(make_daemon, live_server):
    d = make_daemon(queue_max=1)
    with live_server(d) as url:
        c = Client(url, token_file=d.paths.token_file, timeout=30)
        assert c.status()["ok"] is True
        assert c.voices()["voices"][0]["id"] == "default"
        sentences = c.script("One. Two.")
        assert [s["text"] for s in sentences] == ["One.", "Two."]
        assert c.speak("One.").headers["content-type"] == "audio/wav"
        lines = list(c.speak_stream("One. Two."))
        assert [x["type"] for x in lines] == ["sentence", "sentence", "done"]
        with pytest.raises(NotFound):
            c.speak("Hi.", voice="missing-voice")
        with pytest.raises(Unauthorized):
            Client(url, token="x" * 43).status()
        d.speaker.hold_after = 0
        import threading

        t = threading.Thread(target=lambda: c.speak("Held."))
        t.start()
        import time

        time.sleep(0.3)
        with pytest.raises(Busy) as e:
            c.speak("Refused.")
        assert e.value.retry_after >= 1
        d.speaker.release.set()
        t.join(10)
    with pytest.raises(DaemonDown):
        Client(url, token="x" * 43, timeout=2).status()
