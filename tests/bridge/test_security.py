"""Every security rule of the bridge, one test each."""

from __future__ import annotations

import os
import stat

import pytest

from ownvoice.bridge.security import ensure_token


def test_token_file_is_created_with_mode_0600_and_reused(ownvoice_home, make_daemon):
    d = make_daemon()
    path = d.paths.token_file
    assert path.read_text().strip() == d.token and len(d.token) >= 40
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_token(path) == d.token


def test_token_file_readable_by_others_is_tightened(tmp_path):
    path = tmp_path / "token"
    path.write_text("a" * 43)
    os.chmod(path, 0o644)
    assert ensure_token(path) == "a" * 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_requests_without_a_token_get_401_with_the_error_shape(make_daemon, serve):
    async def go(client, raw):
        r = await raw.get("/api/status")
        body = await r.json()
        return r.status, body, r.headers.get("WWW-Authenticate")

    status, body, www = serve(make_daemon(), go)
    assert status == 401 and www == "Bearer"
    assert body["ok"] is False and body["status"] == 401 and "token" in body["error"]


def test_wrong_token_and_wrong_scheme_are_refused(make_daemon, serve):
    async def go(client, raw):
        a = await raw.get("/api/status", headers={"Authorization": "Bearer " + "x" * 43})
        b = await raw.get("/api/status", headers={"Authorization": "Basic abc"})
        return a.status, b.status

    assert serve(make_daemon(), go) == (401, 401)


def test_token_in_query_string_is_refused_even_when_correct(make_daemon, serve):
    d = make_daemon()

    async def go(client, raw):
        out = []
        for key in ("token", "access_token", "api_key"):
            r = await raw.get(f"/api/status?{key}={d.token}")
            out.append((r.status, (await r.json())["error"]))
        # Even alongside a valid header: a token in a URL leaks into logs, so it is refused.
        r = await client.get(f"/api/status?token={d.token}")
        out.append((r.status, (await r.json())["error"]))
        return out

    for status, error in serve(d, go):
        assert status == 401 and "URL" in error


def test_foreign_host_header_is_refused_against_dns_rebinding(make_daemon, serve):
    async def go(client, raw):
        port = client.server.port
        bad = [
            await client.get("/api/status", headers={"Host": h})
            for h in (
                "evil.com",
                f"evil.com:{port}",
                "127.0.0.1",
                f"127.0.0.1:{port + 1}",
                f"127.0.0.1.evil.com:{port}",
            )
        ]
        good = [
            await client.get("/api/status", headers={"Host": h})
            for h in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}")
        ]
        return [r.status for r in bad], [r.status for r in good]

    bad, good = serve(make_daemon(), go)
    assert bad == [421] * 5
    assert good == [200] * 3


def test_allowed_origins_get_cors_headers_and_others_are_refused(make_daemon, serve):
    async def go(client, raw):
        out = {}
        for origin in (
            "app://obsidian.md",
            "vscode-webview://1a2b3c",
            "vscode-file://vscode-app",
            "https://evil.com",
            "null",
            "app://obsidian.md.evil.com",
            "vscode-webview://a/b",
        ):
            r = await client.get("/api/status", headers={"Origin": origin})
            out[origin] = (r.status, r.headers.get("Access-Control-Allow-Origin"))
        return out

    out = serve(make_daemon(), go)
    for ok in ("app://obsidian.md", "vscode-webview://1a2b3c", "vscode-file://vscode-app"):
        assert out[ok] == (200, ok)
    for bad in ("https://evil.com", "null", "app://obsidian.md.evil.com", "vscode-webview://a/b"):
        assert out[bad] == (403, None)


def test_cors_preflight_needs_no_token_but_an_allowed_origin_and_method(make_daemon, serve):
    async def go(client, raw):
        def pre(origin, method, path="/api/speak"):
            headers = {
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization",
            }
            if origin:
                headers["Origin"] = origin
            return raw.options(path, headers=headers)

        ok = await pre("app://obsidian.md", "POST")
        ok_headers = dict(ok.headers)
        evil = await pre("https://evil.com", "POST")
        no_origin = await pre(None, "POST")
        wrong_method = await pre("app://obsidian.md", "DELETE")
        unknown = await pre("app://obsidian.md", "GET", "/api/nope")
        return (
            ok.status,
            ok_headers,
            evil.status,
            no_origin.status,
            wrong_method.status,
            unknown.status,
        )

    status, headers, evil, no_origin, wrong_method, unknown = serve(make_daemon(), go)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "app://obsidian.md"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert (evil, no_origin, wrong_method, unknown) == (403, 403, 403, 404)


def test_error_answers_to_allowed_origins_carry_cors_headers(make_daemon, serve):
    async def go(client, raw):
        r = await raw.get("/api/status", headers={"Origin": "app://obsidian.md"})
        return r.status, r.headers.get("Access-Control-Allow-Origin")

    assert serve(make_daemon(), go) == (401, "app://obsidian.md")


def test_oversized_bodies_get_413_before_being_read(make_daemon, serve):
    d = make_daemon(max_text_chars=1000)

    async def go(client, raw):
        big = b'{"text": "' + b"a" * (d.json_cap + 10) + b'"}'
        r1 = await client.post("/api/speak", data=big, headers={"Content-Type": "application/json"})

        async def chunks():  # no Content-Length: the cap applies while reading
            for _ in range(20):
                yield b"a" * (d.json_cap // 10)

        r2 = await client.post(
            "/api/script", data=chunks(), headers={"Content-Type": "application/json"}
        )
        r3 = await client.get("/api/status", data=b"x" * (70 * 1024))
        return r1.status, (await r1.json())["status"], r2.status, r3.status

    assert serve(d, go) == (413, 413, 413, 413)


def test_text_longer_than_the_limit_is_413(make_daemon, serve):
    async def go(client, raw):
        r = await client.post("/api/speak", json={"text": "word " * 30})
        return r.status, (await r.json())["error"]

    status, error = serve(make_daemon(max_text_chars=100), go)
    assert status == 413 and "limit" in error


def test_no_get_route_changes_state(make_daemon, serve):
    from ownvoice.bridge.app import all_routes

    mutating = {r.path for r in all_routes() if r.method == "GET"} & {
        "/api/stop",
        "/api/play",
        "/api/voices/{id}/export",
        "/api/jobs/{id}/cancel",
        "/api/voices/import",
    }
    assert not mutating

    async def go(client, raw):
        return [
            (await client.get(p)).status
            for p in ("/api/stop", "/api/play", "/api/jobs/abcdef12/cancel")
        ]

    assert serve(make_daemon(), go) == [405, 405, 405]


def test_voice_ids_are_never_paths(make_daemon, serve):
    async def go(client, raw):
        out = []
        for vid in ("..%2F..%2Fetc", "%2E%2E", "a.b", "UPPER", "x" * 80):
            r = await client.get(f"/api/voices/{vid}")
            out.append(r.status)
        r = await client.delete("/api/voices/..%2Fconfig")
        out.append(r.status)
        return out

    assert all(s in (400, 404) for s in serve(make_daemon(), go))


def test_default_bind_is_loopback():
    from ownvoice.config import load_config

    assert load_config().host == "127.0.0.1"


def test_token_comparison_is_constant_time(monkeypatch):
    from ownvoice.bridge import security
    from ownvoice.bridge.errors import Unauthorized

    calls = []
    real = security.secrets.compare_digest
    monkeypatch.setattr(
        security.secrets, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b)
    )
    security.check_token("Bearer right-token-123456789", "right-token-123456789")
    with pytest.raises(Unauthorized):
        security.check_token("Bearer wrong", "right-token-123456789")
    assert len(calls) == 2 and all(isinstance(a, bytes) for a, _ in calls)


def test_synthesized_answers_are_capped_in_duration(make_daemon):
    from ownvoice.bridge.render import SpeakParams, synthesize
    from ownvoice.errors import TooLarge

    d = make_daemon()
    params = SpeakParams(
        "First sentence here. Second sentence here. Third one.",
        "default",
        "auto",
        1.0,
        False,
        None,
        "wav",
    )
    assert synthesize(d.speaker, params).duration > 1.0
    with pytest.raises(TooLarge, match="ndjson"):
        synthesize(d.speaker, params, max_seconds=1.0)


def test_concurrent_uploads_and_event_streams_are_bounded():
    from ownvoice.bridge.routing import Limiter
    from ownvoice.errors import Busy

    lim = Limiter(1, "uploads")
    with lim:
        with pytest.raises(Busy, match="too many uploads"):
            with lim:
                pass
    with lim:  # released again
        pass
