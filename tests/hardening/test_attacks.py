"""Attacks on the daemon's port, each refused: against a real daemon process over a real socket.

tests/bridge/test_security.py checks each rule in-process; here the same rules (and more hostile
variants: encodings, smuggling, slow bodies, archive tricks) are tried against the daemon as a
browser page or a local program would reach it, with raw sockets where an HTTP library would
"fix" the request. Each attack counts in the session tally (tried / refused).
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import time
import zipfile


def _raw(
    daemon,
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes | None = None,
    token: bool = True,
) -> tuple[int, dict, bytes]:
    """One request sent byte-exact (no path normalization, our own Host)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        hdrs = {"Host": f"127.0.0.1:{daemon.port}"}
        if token:
            hdrs["Authorization"] = f"Bearer {daemon.token}"
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            if v is not None:
                conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def _refused(tally, results: list[tuple[str, int]], allowed: set[int]) -> list[str]:
    """Count attacks; return those not answered with one of the ``allowed`` statuses."""
    bad = [f"{what}: {status}" for what, status in results if status not in allowed]
    tally.add("attacks_tried", len(results))
    tally.add("attacks_refused", len(results) - len(bad))
    return bad


def _error_shape(body: bytes, status: int) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return data.get("ok") is False and data.get("status") == status and bool(data.get("error"))


# ---- who may talk -----------------------------------------------------------------------------
def test_dns_rebinding_hosts_are_refused_even_with_the_token(shared_daemon, tally):
    port = shared_daemon.port
    hosts = [
        "evil.example",
        f"evil.example:{port}",
        "127.0.0.1",
        f"127.0.0.1:{port + 1}",
        f"127.0.0.1.evil.example:{port}",
        f"localhost.:{port}",
        f"0.0.0.0:{port}",
        f"[::ffff:127.0.0.1]:{port}",
        f"127.1:{port}",
        f"2130706433:{port}",
        f"LOCALHOST:{port}x",
    ]
    results = []
    for h in hosts:
        status, _, body = _raw(shared_daemon, "GET", "/api/status", {"Host": h})
        assert status != 421 or _error_shape(body, 421)
        results.append((f"Host {h}", status))
    assert not _refused(tally, results, {421}), results


def test_foreign_origins_are_refused_and_get_no_cors_grant(shared_daemon, tally):
    origins = [
        "https://evil.example",
        "null",
        f"http://127.0.0.1:{shared_daemon.port}",
        "http://localhost:3000",
        "app://obsidian.md.evil.example",
        "vscode-webview://a/b",
        "file://",
        "APP://OBSIDIAN.MD",
        "app://obsidian.md\r\nX-Injected: 1",
    ]
    results = []
    for o in origins:
        try:
            status, headers, _ = _raw(shared_daemon, "POST", "/api/stop", {"Origin": o}, b"{}")
        except (ValueError, http.client.HTTPException):  # http.client refuses CR/LF itself
            status, headers = 403, {}
        assert "Access-Control-Allow-Origin" not in headers, (o, headers)
        results.append((f"Origin {o!r}", status))
        pre, pre_headers, _ = (
            _raw(
                shared_daemon,
                "OPTIONS",
                "/api/speak",
                {"Origin": o, "Access-Control-Request-Method": "POST"},
                token=False,
            )
            if "\r" not in o
            else (403, {}, b"")
        )
        assert "Access-Control-Allow-Origin" not in pre_headers
        results.append((f"preflight from {o!r}", pre))
    assert not _refused(tally, results, {403}), results


def test_missing_wrong_or_misplaced_tokens_are_refused(shared_daemon, tally):
    t = shared_daemon.token
    cases = [
        ("no token", {}, "/api/status"),
        ("wrong token", {"Authorization": "Bearer " + "x" * len(t)}, "/api/status"),
        ("token prefix", {"Authorization": "Bearer " + t[:-1]}, "/api/status"),
        ("token plus one", {"Authorization": "Bearer " + t + "x"}, "/api/status"),
        ("basic scheme", {"Authorization": "Basic " + t}, "/api/status"),
        ("token without scheme", {"Authorization": t}, "/api/status"),
        ("empty bearer", {"Authorization": "Bearer "}, "/api/status"),
        ("token as cookie", {"Cookie": f"token={t}"}, "/api/status"),
        ("token in query", {}, f"/api/status?token={t}"),
        ("access_token in query", {}, f"/api/status?access_token={t}"),
        ("api_key in query", {}, f"/api/voices?api_key={t}"),
        ("upper-case key in query", {}, f"/api/voices?TOKEN={t}"),
    ]
    results = []
    for what, headers, path in cases:
        status, hdrs, body = _raw(shared_daemon, "GET", path, headers, token=False)
        assert status != 401 or (_error_shape(body, 401) and hdrs.get("WWW-Authenticate"))
        results.append((what, status))
    # a token in the URL is refused even next to a valid header: URLs end up in logs
    status, _, _ = _raw(shared_daemon, "GET", f"/api/status?token={t}")
    results.append(("query token beside a valid header", status))
    assert not _refused(tally, results, {401}), results


# ---- ids and paths ----------------------------------------------------------------------------
TRAVERSALS = [
    "..",
    "..%2F..%2Fconfig%2Ftoken",
    "%2e%2e%2f%2e%2e%2fconfig",
    "%252e%252e%252fconfig",
    "..%5c..%5cconfig",
    "..;",
    "%00",
    "a%00b",
    "%c0%ae%c0%ae%c0%af",
    "....%2F%2F",
    ".lock",
    "%2Fetc%2Fpasswd",
    "default%2F..%2F..%2Fconfig",
    "~root",
    "con",
    "x" * 300,
]


def test_path_traversal_in_every_id_parameter_is_refused(shared_daemon, tally):
    home = shared_daemon.home
    token_before = (home / "config" / "token").read_bytes()
    voices_before = sorted(p.name for p in (home / "data" / "voices").iterdir())
    templates = [
        ("GET", "/api/voices/{}"),
        ("PATCH", "/api/voices/{}"),
        ("DELETE", "/api/voices/{}"),
        ("POST", "/api/voices/{}/export"),
        ("GET", "/api/jobs/{}"),
        ("GET", "/api/jobs/{}/events"),
        ("POST", "/api/jobs/{}/cancel"),
    ]
    results = []
    for method, template in templates:
        for t in TRAVERSALS:
            body = b'{"name": "x"}' if method == "PATCH" else None
            headers = {"Content-Type": "application/json"} if body else {}
            status, _, resp = _raw(shared_daemon, method, template.format(t), headers, body)
            assert status < 500, (method, template, t, resp[:300])
            results.append((f"{method} {template.format(t)}", status))
    assert not _refused(tally, results, {400, 404, 405}), results
    assert (home / "config" / "token").read_bytes() == token_before
    assert sorted(p.name for p in (home / "data" / "voices").iterdir()) == voices_before


def test_note_paths_and_symlinks_cannot_leave_the_notes_root(shared_daemon, tally):
    d = shared_daemon
    secret = str(d.secret)
    paths = {
        "../secret.md": 400,
        "folder/../../secret.md": 400,
        secret: 400,
        "/etc/passwd": 400,
        "C:/Windows/win.ini": 400,
        "..\\secret.md": 400,
        "folder\\..\\..\\secret.md": 400,
        "escape.md": 403,
        "dirlink/secret.md": 403,
        "%2e%2e/secret.md": 404,
        "folder/note.md\x00.md": 400,
        "folder/./../../secret.md": 400,
    }
    results = []
    for path, expected in paths.items():
        r = d.api("POST", "/api/notes/render", json={"root": "vault", "path": path})
        assert "Top secret" not in r.text
        results.append((f"note path {path!r}", r.status_code if r.status_code == expected else -1))
    r = d.api("POST", "/api/notes/render", json={"root": "..", "path": "secret.md"})
    results.append(("notes root '..'", r.status_code))
    assert not _refused(tally, results, {400, 403, 404}), results
    ok = d.api("POST", "/api/notes/render", json={"root": "vault", "path": "folder/note.md"})
    assert ok.status_code == 200, ok.text  # the legitimate note still reads


def test_upload_file_names_cannot_escape_the_staging_folder(shared_daemon, tally, tmp_path):
    import numpy as np
    import soundfile as sf

    wav = io.BytesIO()
    sf.write(wav, np.zeros(1600, np.float32), 16000, format="WAV")
    names = [
        "../../evil.wav",
        "/tmp/evil_abs.wav",
        "..\\..\\evil_win.wav",
        "%2e%2e%2fevil.wav",
        "....//evil2.wav",
    ]
    results = []
    for name in names:
        files = [("file", (name, wav.getvalue(), "audio/wav"))]
        data = {"name": "Upload test", "consent": "test consent", "lang": "en"}
        r = shared_daemon.api("POST", "/api/voices", files=files, data=data)
        assert r.status_code in (202, 400), r.text
        results.append((f"upload named {name!r}", 0))
        if r.status_code == 202:
            shared_daemon.api("POST", f"/api/jobs/{r.json()['job_id']}/cancel")
    home = shared_daemon.home
    escaped = [
        p for p in home.rglob("evil*") if "staging" not in p.parts and "inbox" not in p.parts
    ]
    escaped += [p for p in (home.parent, home / "data", home / "config") for p in p.glob("evil*")]
    import glob

    escaped += [p for p in glob.glob("/tmp/evil_abs*")]
    assert not escaped, escaped
    assert not _refused(tally, results, {0})


# ---- bodies -----------------------------------------------------------------------------------
def test_oversized_bodies_are_refused_before_being_read(shared_daemon, tally):
    d = shared_daemon
    results = []
    # declared too large: refused from the Content-Length alone
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn.putrequest("POST", "/api/speak", skip_host=True)
    for k, v in {
        "Host": f"127.0.0.1:{d.port}",
        "Authorization": f"Bearer {d.token}",
        "Content-Type": "application/json",
        "Content-Length": str(10 << 30),
    }.items():
        conn.putheader(k, v)
    conn.endheaders()
    t0 = time.monotonic()
    results.append(("10 GiB Content-Length", conn.getresponse().status))
    assert time.monotonic() - t0 < 10
    conn.close()

    def chunks(total: int, size: int = 1 << 16):
        for _ in range(total // size):
            yield b"a" * size

    r = d.api(
        "POST", "/api/script", data=chunks(40 << 20), headers={"Content-Type": "application/json"}
    )
    results.append(("40 MiB chunked JSON", r.status_code))
    r = d.api("POST", "/api/voices/import", data=chunks(8 << 20))
    results.append(("8 MiB chunked archive (cap 2 MiB)", r.status_code))
    big = b"\0" * (3 << 20)
    r = d.api(
        "POST",
        "/api/voices",
        files=[("file", ("a.wav", big, "audio/wav"))],
        data={"name": "big", "consent": "ok"},
    )
    results.append(("3 MiB multipart upload (cap 2 MiB)", r.status_code))
    r = d.api("POST", "/api/speak", json={"text": "word " * 10000})
    results.append(("text over max_text_chars", r.status_code))
    status, _, _ = _raw(d, "GET", "/api/status", {"X-Big": "a" * 70000})
    results.append(("70 kB header", status))
    assert not _refused(tally, results, {400, 413, 431}), results
    assert d.api("GET", "/api/status").status_code == 200


def test_request_smuggling_shapes_are_rejected(shared_daemon, tally):
    d = shared_daemon
    payloads = {
        "CL and TE": (
            f"POST /api/script HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\nAuthorization: Bearer "
            f"{d.token}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        "two Content-Length": (
            f"POST /api/script HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\nAuthorization: Bearer "
            f"{d.token}\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{{}}"
        ),
        "bad chunk size": (
            f"POST /api/script HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\nAuthorization: Bearer "
            f"{d.token}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
        ),
        "two Host headers": (
            f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\nHost: evil.example\r\n"
            f"Authorization: Bearer {d.token}\r\n\r\n"
        ),
    }
    results = []
    for what, raw in payloads.items():
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            s.sendall(raw.encode())
            reply = s.recv(4096).split(b"\r\n", 1)[0]
        status = int(reply.split()[1]) if reply.startswith(b"HTTP/") else 0
        results.append((what, status))
    assert not _refused(tally, results, {400, 421}), results


def test_slow_bodies_are_cut_off_and_do_not_block_others(spawn, tmp_path, tally):
    d = spawn(tmp_path / "home", args=("--body-idle", "2"))
    socks = []
    head = (
        f"POST /api/speak HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\nAuthorization: Bearer "
        f"{d.token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=1)
        s.sendall(head + b'{"text": "')
        socks.append(s)
    # while 20 slow bodies hang, others are served at once
    t0 = time.monotonic()
    assert d.api("GET", "/api/status").status_code == 200
    assert time.monotonic() - t0 < 2.0
    results = []
    deadline = time.monotonic() + 30
    for s in socks:  # stalled: cut off after the idle timeout with 408 (or a close)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            reply = s.recv(4096)
        except TimeoutError:
            reply = b"(still open)"
        results.append(
            ("stalled body", 408 if reply.startswith(b"HTTP/1.1 408") or not reply else 0)
        )
        s.close()
    # trickling one byte per second is cut off at the whole-body deadline (3 × idle here)
    s = socket.create_connection(("127.0.0.1", d.port), timeout=1)
    s.sendall(head)
    t0, reply = time.monotonic(), b""
    while time.monotonic() - t0 < 30 and not reply:
        try:
            s.sendall(b"a")
            reply = s.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            reply = b"(closed)"
    s.close()
    results.append(
        ("trickling body", 408 if reply.startswith((b"HTTP/1.1 408", b"(closed)")) else 0)
    )
    tally.figure("slow_body_cut_after_s", round(time.monotonic() - t0, 1))
    assert not _refused(tally, results, {408}), results
    assert d.api("GET", "/api/status").status_code == 200


def test_slow_request_headers_are_cut_off(spawn, tmp_path):
    d = spawn(tmp_path / "home", args=("--body-idle", "2"))
    s = socket.create_connection(("127.0.0.1", d.port), timeout=1)
    s.sendall(f"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\n".encode())
    t0, closed = time.monotonic(), False
    while time.monotonic() - t0 < 10 and not closed:
        try:
            s.sendall(b"X")
            closed = s.recv(4096) == b""
        except TimeoutError:
            continue
        except OSError:
            closed = True
    s.close()
    assert closed


# ---- state and archives -----------------------------------------------------------------------
def test_get_never_changes_state(shared_daemon, tally):
    d = shared_daemon
    vid = _make_voice(d)
    results = []
    for path in (
        "/api/stop",
        "/api/play",
        f"/api/voices/{vid}/export",
        "/api/jobs/abcdef12/cancel",
        "/api/voices/import",
        "/api/notes/render",
    ):
        results.append((f"GET {path}", d.api("GET", path).status_code))
    for override in ("DELETE", "PATCH"):
        r = d.api("GET", f"/api/voices/{vid}", headers={"X-HTTP-Method-Override": override})
        results.append((f"GET with X-HTTP-Method-Override {override}", 405 if r.ok else 0))
        r = d.api("GET", f"/api/voices/{vid}?_method={override}")
        results.append((f"GET ?_method={override}", 405 if r.ok else 0))
    for method in ("TRACE", "CONNECT", "PROPFIND"):
        status, _, _ = _raw(d, method, f"/api/voices/{vid}")
        results.append((method, status))
    assert not _refused(tally, results, {400, 404, 405}), results
    assert d.api("GET", f"/api/voices/{vid}").json()["name"] == "Attack target"


def _make_voice(d) -> str:
    """A voice in the daemon's store, created the way the trainer does (no HTTP create)."""
    existing = [
        v for v in d.api("GET", "/api/voices").json()["voices"] if v["name"] == "Attack target"
    ]
    if existing:
        return existing[0]["id"]
    import subprocess
    import sys

    code = (
        "import numpy as np; from ownvoice.config import load_config; "
        "from ownvoice.voice_store import VoiceStore; "
        "s = VoiceStore(load_config().paths.voices); "
        "print(s.create('Attack target', languages=['en'], consent='test', "
        "style=np.zeros((1, 256), np.float32)).id)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "OWNVOICE_HOME": str(d.home)},
    )
    return out.stdout.strip()


def _zip(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def test_hostile_voice_archives_are_refused_over_http(shared_daemon, tally):
    d = shared_daemon
    vid = _make_voice(d)
    good = d.api("POST", f"/api/voices/{vid}/export")
    assert good.status_code == 200
    with zipfile.ZipFile(io.BytesIO(good.content)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["voice.json"])
    attacks = {
        "zip slip": _zip({**members, "../../evil.safetensors": b"x"}),
        "absolute member": _zip({**members, "/tmp/evil_abs.safetensors": b"x"}),
        "symlink member": _zip(members, symlink="lora/adapter_model.safetensors"),
        "code member": _zip({**members, "run.py": b"import os"}),
        "zip bomb": _zip({**members, "extra.safetensors": b"\0" * (30 << 20)}),
        "not a zip": b"PK\x03\x04 this is not a zip",
        "empty body": b"",
        "id as a path": _zip(
            {**members, "voice.json": json.dumps({**meta, "id": "../../x"}).encode()}
        ),
        "checksum mismatch": _zip(
            {**members, "style.safetensors": members["style.safetensors"][:-4] + b"abcd"}
        ),
        "pickle instead of safetensors": _zip(
            {**members, "style.safetensors": b"\x80\x04\x95cos\nsystem\n."}
        ),
        "too many members": _zip(
            {
                **members,
                **{
                    f"x{chr(97 + i)}{chr(97 + j)}.safetensors": b""
                    for i in range(6)
                    for j in range(6)
                },
            }
        ),
        "zip inside zip": _zip({"voice.json": _zip(members)}),
    }
    before = sorted(p.name for p in (d.home / "data" / "voices").iterdir())
    results = []
    for what, data in attacks.items():
        r = d.api(
            "POST", "/api/voices/import", data=data, headers={"Content-Type": "application/zip"}
        )
        assert r.status_code < 500, (what, r.text)
        results.append((what, r.status_code))
    r = d.api("POST", "/api/voices/import?name=..%2F..%2Fevil", data=good.content)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:  # the name is a display name, never a path
        assert r.json()["id"] != vid and "/" not in r.json()["id"]
        d.api("DELETE", f"/api/voices/{r.json()['id']}")
    results.append(("import with a path-like name", 400))
    assert not _refused(tally, results, {400, 413}), results
    assert sorted(p.name for p in (d.home / "data" / "voices").iterdir()) == before
    assert not list(d.home.rglob("evil*"))


def test_malformed_multipart_part_headers_are_a_400_not_a_crash(shared_daemon, tally):
    """Found by schemathesis: a part header with control bytes made aiohttp's parser raise
    inside the handler, which used to end as a 500."""
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="J\x02\xc4"\r\n\r\nx\r\n'
        f"--{boundary}--\r\n"
    ).encode("latin-1")
    status, _, resp = _raw(
        shared_daemon,
        "POST",
        "/api/voices",
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        body,
    )
    assert status == 400 and _error_shape(resp, 400), resp
    assert not _refused(tally, [("broken multipart part header", status)], {400})
