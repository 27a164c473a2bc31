"""A small typed client for the daemon's HTTP API (used by the CLI, the benchmarks and the tests).

Standard library only (``http.client``): it must work wherever ownvoice is installed.
"""

from __future__ import annotations

import http.client
import json
import mimetypes
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import BadInput, Busy, Conflict, NotFound, OwnvoiceError, TooLarge
from .errors import Forbidden, MisdirectedHost, Unauthorized

_BY_STATUS: dict[int, type[OwnvoiceError]] = {
    400: BadInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: TooLarge,
    421: MisdirectedHost,
    422: BadInput,
}


class DaemonDown(OwnvoiceError):
    """Nothing answers at the daemon's address."""


class ApiError(OwnvoiceError):
    """An error answer with a status this client has no class for."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Talks to one daemon with one token."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        token_file: Path | None = None,
        timeout: float = 120.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise BadInput(f"daemon URL must be http://host:port, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or 80
        self._token = token
        self._token_file = Path(token_file) if token_file else None
        self.timeout = timeout

    @classmethod
    def from_config(cls, config=None, timeout: float = 120.0) -> Client:
        """The running daemon of this user (pid file), else the configured address."""
        from ..config import load_config
        from ..daemon.lifecycle import read_pid_file

        config = config or load_config()
        info = read_pid_file(config.paths) or {}
        host = str(config.host)
        url = info.get("url") or f"http://{'[' + host + ']' if ':' in host else host}:{config.port}"
        return cls(url, token_file=config.paths.token_file, timeout=timeout)

    @property
    def token(self) -> str:
        if self._token is None:
            if self._token_file is None:
                raise BadInput("no token given")
            try:
                self._token = self._token_file.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                raise DaemonDown(
                    f"no token file at {self._token_file}: the daemon has never started"
                ) from None
        return self._token

    # ---- transport ----------------------------------------------------------------------------
    def _open(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        all_headers = {"Authorization": f"Bearer {self.token}", **headers}
        try:
            conn.request(method, path, body=body, headers=all_headers)
            return conn.getresponse()
        except (ConnectionRefusedError, socket.gaierror) as e:
            conn.close()
            raise DaemonDown(
                f"the daemon is not running at {self.base_url} (`ownvoice start`)"
            ) from e
        except (TimeoutError, ConnectionError, http.client.HTTPException) as e:
            conn.close()
            raise DaemonDown(f"no answer from {self.base_url}: {e}") from e

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One request; non-2xx answers raise the matching ``ownvoice.errors`` class."""
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        resp = self._open(method, path, data, headers)
        try:
            body = resp.read()
        finally:
            resp.close()
        out = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        if resp.status >= 400:
            raise _error(out)
        return out

    def _stream(self, method: str, path: str, payload: Any) -> Iterator[bytes]:
        """Yield response lines as they arrive (ndjson, SSE)."""
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        resp = self._open(method, path, data, headers)
        try:
            if resp.status >= 400:
                raise _error(
                    Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
                )
            while line := resp.readline():
                yield line
        finally:
            resp.close()

    # ---- API ----------------------------------------------------------------------------------
    def status(self) -> dict:
        return self.request("GET", "/api/status").json()

    def voices(self) -> dict:
        return self.request("GET", "/api/voices").json()

    def voice(self, voice_id: str) -> dict:
        return self.request("GET", f"/api/voices/{quote(voice_id, safe='')}").json()

    def rename_voice(self, voice_id: str, name: str) -> dict:
        return self.request(
            "PATCH", f"/api/voices/{quote(voice_id, safe='')}", json_body={"name": name}
        ).json()

    def delete_voice(self, voice_id: str) -> None:
        self.request("DELETE", f"/api/voices/{quote(voice_id, safe='')}")

    def export_voice(self, voice_id: str) -> bytes:
        return self.request("POST", f"/api/voices/{quote(voice_id, safe='')}/export").body

    def import_voice(self, archive: bytes) -> dict:
        return self.request(
            "POST", "/api/voices/import", data=archive, headers={"Content-Type": "application/zip"}
        ).json()

    def script(
        self, text: str, markdown: bool = False, rules: dict | None = None, lang: str = "auto"
    ) -> list[dict]:
        body: dict[str, Any] = {"text": text, "markdown": markdown, "lang": lang}
        if rules:
            body["rules"] = rules
        return self.request("POST", "/api/script", json_body=body).json()["sentences"]

    def speak(
        self,
        text: str,
        voice: str = "default",
        *,
        lang: str = "auto",
        speed: float = 1.0,
        markdown: bool = False,
        format: str = "wav",
    ) -> Response:
        """POST /api/speak; ``.body`` is the audio (or JSON for format='json')."""
        return self.request(
            "POST",
            "/api/speak",
            json_body={
                "text": text,
                "voice": voice,
                "lang": lang,
                "speed": speed,
                "markdown": markdown,
                "format": format,
            },
        )

    def speak_stream(
        self,
        text: str,
        voice: str = "default",
        *,
        lang: str = "auto",
        speed: float = 1.0,
        markdown: bool = False,
    ) -> Iterator[dict]:
        """POST /api/speak format=ndjson: one dict per sentence as it is ready, then {type: done}."""
        body = {
            "text": text,
            "voice": voice,
            "lang": lang,
            "speed": speed,
            "markdown": markdown,
            "format": "ndjson",
        }
        for line in self._stream("POST", "/api/speak", body):
            if line.strip():
                yield json.loads(line)

    def play(self, text: str, voice: str = "default", **kw: Any) -> dict:
        return self.request(
            "POST", "/api/play", json_body={"text": text, "voice": voice, **kw}
        ).json()

    def stop_playback(self) -> None:
        self.request("POST", "/api/stop", json_body={})

    def playback(self) -> dict:
        return self.request("GET", "/api/playback").json()

    def train(
        self,
        name: str,
        files: list[Path],
        consent: str,
        lang: str = "en",
        max_minutes: float | None = None,
        denoise: str | None = None,
    ) -> str:
        """Upload recordings (and same-name .txt transcripts) for training; returns the job id.
        ``denoise``: off, auto or on (default: the daemon's train_denoise setting)."""
        fields = {"name": name, "consent": consent, "lang": lang}
        if max_minutes is not None:
            fields["max_minutes"] = str(max_minutes)
        if denoise is not None:
            fields["denoise"] = denoise
        body, ctype = _multipart(fields, [Path(f) for f in files])
        return self.request(
            "POST", "/api/voices", data=body, headers={"Content-Type": ctype}
        ).json()["job_id"]

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/api/jobs/{quote(job_id, safe='')}").json()

    def cancel_job(self, job_id: str) -> dict:
        return self.request("POST", f"/api/jobs/{quote(job_id, safe='')}/cancel").json()

    def job_events(self, job_id: str) -> Iterator[tuple[str, dict]]:
        """Follow a job over SSE: yields (event, job) until the ``end`` event."""
        event = "message"
        for raw in self._stream("GET", f"/api/jobs/{quote(job_id, safe='')}/events", None):
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                yield event, json.loads(line[5:])
                if event == "end":
                    return

    def render_note(
        self, root: str, path: str, voice: str = "default", format: str = "json"
    ) -> Response:
        return self.request(
            "POST",
            "/api/notes/render",
            json_body={"root": root, "path": path, "voice": voice, "format": format},
        )


def _error(resp: Response) -> OwnvoiceError:
    try:
        message = resp.json().get("error") or ""
    except (ValueError, AttributeError):
        message = resp.body[:300].decode("utf-8", "replace")
    message = message or f"HTTP {resp.status}"
    if resp.status == 503:
        try:
            retry = float(resp.headers.get("retry-after", "2"))
        except ValueError:
            retry = 2.0
        return Busy(message, retry_after=retry)
    cls = _BY_STATUS.get(resp.status)
    return cls(message) if cls else ApiError(message, resp.status)


def _multipart(fields: dict[str, str], files: list[Path]) -> tuple[bytes, str]:
    boundary = "ownvoice-" + secrets.token_hex(12)
    out = bytearray()
    for name, value in fields.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n').encode()
        out += value.encode("utf-8") + b"\r\n"
    for f in files:
        ctype = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
        fname = f.name.replace('"', "_")
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{fname}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        out += f.read_bytes() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
