"""Reading request bodies within a byte cap and checking their fields, with errors users can act on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiohttp import web

from ..errors import BadInput, TooLarge
from .errors import RequestTimeout, Unprocessable

T = TypeVar("T")
READ_CHUNK = 1 << 16  # bytes per read from the socket
# A body must keep flowing: a client that sends nothing for BODY_IDLE_SECONDS, or takes longer than
# BODY_MIN_SECONDS + BODY_SECONDS_PER_MIB per MiB of the route's cap in all, is cut off with 408,
# so slow-body (slowloris) connections cannot pile up and hold handlers forever.
BODY_IDLE_SECONDS = 15.0
BODY_MIN_SECONDS = 60.0
BODY_SECONDS_PER_MIB = 2.0


def body_deadline(cap: int) -> float:
    """The event-loop time by which a body of at most ``cap`` bytes must have arrived."""
    allowance = max(BODY_MIN_SECONDS, cap / (1 << 20) * BODY_SECONDS_PER_MIB)
    return asyncio.get_running_loop().time() + allowance


async def timed(read: Awaitable[T], deadline: float) -> T:
    """One read of a request body, refused (408) when the client stalls or is past ``deadline``."""
    left = min(BODY_IDLE_SECONDS, deadline - asyncio.get_running_loop().time())
    try:
        if left <= 0:
            raise asyncio.TimeoutError
        return await asyncio.wait_for(read, left)
    except asyncio.TimeoutError:
        if asyncio.iscoroutine(read):
            read.close()  # never awaited when the deadline had already passed
        raise RequestTimeout(
            "the request body arrived too slowly (stalled or trickling); send it in one go"
        ) from None


RULE_CHOICES = {
    "code_blocks": ("announce", "read", "skip"),
    "links": ("text", "announce"),
    "math": ("formula", "verbalize"),
}


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The whole body, refusing (413) as soon as it passes ``cap`` bytes (chunked bodies too)."""
    parts: list[bytes] = []
    total = 0
    deadline = body_deadline(cap)
    while True:
        chunk = await timed(request.content.read(READ_CHUNK), deadline)
        if not chunk:
            break
        total += len(chunk)
        if total > cap:
            raise TooLarge(f"request body is larger than {cap} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def json_body(request: web.Request, cap: int) -> dict[str, Any]:
    """The body as a JSON object (400 if it is not one)."""
    raw = await read_capped(request, cap)
    if not raw.strip():
        raise BadInput("the request body must be a JSON object")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"the request body is not valid JSON ({e})") from None
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object")
    return body


def get_str(
    body: dict, name: str, default: str | None = None, *, max_len: int | None = None
) -> str:
    value = body.get(name, default)
    if value is None:
        raise BadInput(f"{name!r} is required")
    if not isinstance(value, str):
        raise BadInput(f"{name!r} must be a string")
    if max_len is not None and len(value) > max_len:
        raise TooLarge(f"{name!r} is {len(value)} characters; the limit is {max_len}")
    return value


def get_bool(body: dict, name: str, default: bool) -> bool:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadInput(f"{name!r} must be true or false")
    return value


def get_number(body: dict, name: str, default: float, lo: float, hi: float) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{name!r} must be a number")
    if not (lo <= float(value) <= hi):
        raise Unprocessable(f"{name!r} must be between {lo} and {hi}, got {value}")
    return float(value)


def get_choice(body: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str) or value.lower() not in choices:
        raise Unprocessable(f"{name!r} must be one of {', '.join(choices)}; got {value!r}")
    return value.lower()


def get_rules(body: dict) -> dict | None:
    """The optional Markdown reading rules, checked field by field."""
    rules = body.get("rules")
    if rules is None:
        return None
    if not isinstance(rules, dict):
        raise BadInput("'rules' must be an object")
    out: dict[str, Any] = {}
    for key, value in rules.items():
        if key in RULE_CHOICES:
            if value not in RULE_CHOICES[key]:
                raise Unprocessable(
                    f"rules.{key} must be one of {', '.join(RULE_CHOICES[key])}; got {value!r}"
                )
            out[key] = value
        elif key == "heading_pause":
            if not isinstance(value, bool):
                raise BadInput("rules.heading_pause must be true or false")
            out[key] = value
        else:
            valid = ", ".join([*RULE_CHOICES, "heading_pause"])
            raise BadInput(f"unknown rule {key!r}; valid rules: {valid}")
    return out
