"""OpenAI-compatible speech: ``POST /v1/audio/speech`` and ``GET /v1/models`` (same bearer token)."""

from __future__ import annotations

from aiohttp import web

from .. import audio_io
from ..errors import BadInput
from .body import get_choice, get_number, get_str, json_body
from .errors import Unprocessable
from .render import SpeakParams, synthesize
from .routing import JSON, Route, blocking, daemon_of, obj

MODEL_ID = "ownvoice"
OPENAI_FORMATS = ("mp3", "wav", "flac", "opus", "pcm")
# OpenAI's own voice names: clients often hard-code one; they get the default voice, not a 404.
OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"}
)


async def speech(request: web.Request) -> web.StreamResponse:
    d = daemon_of(request)
    body = await json_body(request, d.json_cap)
    model = body.get("model", MODEL_ID)
    if not isinstance(model, str):
        raise BadInput("'model' must be a string")
    text = get_str(body, "input", max_len=int(d.config.max_text_chars))
    if not text.strip():
        raise BadInput("'input' is empty")
    voice = body.get("voice") or d.config.default_voice
    if not isinstance(voice, str):
        raise BadInput("'voice' must be a string")
    if voice.lower() in OPENAI_VOICES:
        voice = d.config.default_voice
    fmt = get_choice(body, "response_format", OPENAI_FORMATS, "mp3")
    if body.get("stream_format", "audio") != "audio":
        raise Unprocessable("only stream_format 'audio' is supported")
    speed = get_number(body, "speed", float(d.config.speed), 0.5, 2.0)
    params = SpeakParams(text, voice, "auto", speed, False, None, fmt)
    result = await d.synth.run(synthesize, d.speaker, params)
    data = await blocking(audio_io.encode, result.samples, result.sample_rate, fmt)
    return web.Response(
        body=data,
        content_type=audio_io.mime_type(fmt),
        headers={"X-Ownvoice-Duration": f"{result.duration:.3f}"},
    )


async def models(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "owned_by": "ownvoice", "created": 0}],
        }
    )


ROUTES = [
    Route(
        "POST",
        "/v1/audio/speech",
        speech,
        "OpenAI-compatible text to speech",
        "openai",
        body="json",
        request=obj(
            {
                "model": {"type": "string", "default": MODEL_ID},
                "input": {"type": "string"},
                "voice": {"type": "string"},
                "response_format": {
                    "type": "string",
                    "enum": list(OPENAI_FORMATS),
                    "default": "mp3",
                },
                "speed": {"type": "number", "minimum": 0.5, "maximum": 2.0},
            },
            ("input",),
        ),
        responses={200: ("audio/mpeg", "audio bytes in the asked format")},
    ),
    Route(
        "GET",
        "/v1/models",
        models,
        "OpenAI-compatible model list",
        "openai",
        responses={
            200: (JSON, '{"object": "list", "data": [{"id": "ownvoice", "object": "model"}]}')
        },
    ),
]
