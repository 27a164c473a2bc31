"""Schemathesis against the daemon's own OpenAPI document, on a real daemon process on loopback.

The daemon child (``fake_serve.py``) is the real daemon — lock, bridge, security middleware, jobs,
voice store — around the test-only fake speaker, so every endpoint answers in milliseconds and a
few hundred generated requests fit in CI. Every operation gets schema-valid (positive) and
schema-breaking (negative) cases with the token sent; each answer is checked for: no server error
(5xx other than the documented 503), a documented status code, the documented content type, and
error bodies matching the ``Error`` schema. Failures are collected (not raised inside hypothesis,
which would shrink for minutes) and reported together.
"""

from __future__ import annotations

import time

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis", reason="needs the dev extra: schemathesis")
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CI_EXAMPLES = 12  # per operation and mode: 21 operations x 2 modes x 12 ≈ 500 requests
FULL_EXAMPLES = 150
REQUEST_TIMEOUT = 30.0


@schemathesis.serializer("application/zip")
def _zip_body(ctx, value) -> bytes:
    """The import endpoint takes raw bytes (a voice archive): send whatever was generated."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")


def _fuzz(daemon, examples: int, tally) -> tuple[int, dict[str, str]]:
    doc = daemon.api("GET", "/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(doc)
    session = requests.Session()
    failures: dict[str, str] = {}
    sent = 0
    for result in schema.get_all_operations():
        op = result.ok()
        checks = CHECKS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{op.method.upper()} {op.path} [{mode.value}]"
            sent += _fuzz_operation(
                daemon, session, op, mode, checks, examples, label, failures, tally
            )
    tally.add("inputs_tried", sent)
    tally.add("api_fuzz_requests", sent)
    return sent, failures


def _fuzz_operation(daemon, session, op, mode, checks, examples, label, failures, tally) -> int:
    """Send up to ``examples`` generated cases of one operation; returns how many were sent."""
    auth = {"Authorization": f"Bearer {daemon.token}"}
    sent = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every CI run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case) -> None:
        nonlocal sent
        sent += 1
        try:
            response = case.call(
                base_url=daemon.url, session=session, headers=auth, timeout=REQUEST_TIMEOUT
            )
            case.validate_response(response, checks=checks, headers=auth)
        except (Exception, FailureGroup) as e:  # noqa: BLE001 - collected, reported together
            lines = str(e).strip().splitlines()[:12]
            failures.setdefault(f"{label}: {type(e).__name__}", "\n".join(lines))
            tally.add("server_errors" if response_is_5xx(e) else "schema_violations")

    try:
        run()
    except Exception as e:  # noqa: BLE001 - hypothesis gave up (e.g. an unsatisfiable schema)
        failures.setdefault(f"{label}: generation", f"{type(e).__name__}: {e}")
    return sent


def response_is_5xx(e: BaseException) -> bool:
    """Whether a collected failure is a server error (else a schema violation)."""
    return "Server error" in str(e) or "Received: 5" in str(e)


def _check_daemon_still_serves(daemon) -> None:
    assert daemon.alive(), daemon.tail()
    r = daemon.api("GET", "/api/status")
    assert r.status_code == 200, r.text


def test_fuzzed_requests_get_no_server_error_and_match_the_schema(spawn, tmp_path, dproc, tally):
    dproc.write_config(
        tmp_path / "home",
        notes_roots=[str(tmp_path)],
        max_text_chars=2000,
        max_upload_mb=1,
        queue_max=8,
    )
    daemon = spawn(tmp_path / "home")
    t0 = time.monotonic()
    sent, failures = _fuzz(daemon, CI_EXAMPLES, tally)
    tally.figure("api_fuzz_ci_seconds", round(time.monotonic() - t0, 1))
    _check_daemon_still_serves(daemon)
    assert sent >= 200, sent
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


@pytest.mark.hardening_full
def test_long_fuzz_run_finds_no_server_error_or_schema_violation(spawn, tmp_path, dproc, tally):
    dproc.write_config(
        tmp_path / "home",
        notes_roots=[str(tmp_path)],
        max_text_chars=5000,
        max_upload_mb=2,
        queue_max=8,
    )
    daemon = spawn(tmp_path / "home")
    _sent, failures = _fuzz(daemon, FULL_EXAMPLES, tally)
    _check_daemon_still_serves(daemon)
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def test_every_format_a_route_can_answer_in_is_documented():
    from ownvoice.bridge.app import all_routes
    from ownvoice.bridge.openapi import build

    doc = build(all_routes())
    speak = doc["paths"]["/api/speak"]["post"]["responses"]["200"]["content"]
    openai = doc["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
    assert {"audio/wav", "application/json", "application/x-ndjson"} <= set(speak)
    assert {"audio/mpeg", "audio/wav", "audio/flac", "audio/pcm"} <= set(openai)
