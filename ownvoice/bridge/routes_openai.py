"""OpenAI-compatible speech: ``POST /v1/audio/speech`` and ``GET /v1/models`` (same bearer token)."""

from __future__ import annotations

import logging

from aiohttp import web

from .. import audio_io
from ..audio_constants import SAMPLE_RATE
from ..errors import BadInput
from .body import get_choice, get_number, get_str, json_body
from .errors import Unprocessable
from .render import PcmJoiner, SpeakParams, content_types, synthesize, wav_stream_header
from .routing import JSON, Route, blocking, daemon_of, obj

_LOGGER = logging.getLogger(__name__)
MODEL_ID = "ownvoice"
STREAMED = ("wav", "pcm")  # formats sent as they are synthesized (the others need all audio)
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
    if fmt in STREAMED:
        return await _stream(request, params)
    result = await d.synth.run(synthesize, d.speaker, params)
    data = await blocking(audio_io.encode, result.samples, result.sample_rate, fmt)
    return web.Response(
        body=data,
        content_type=audio_io.mime_type(fmt),
        headers={"X-Ownvoice-Duration": f"{result.duration:.3f}"},
    )


async def _stream(request: web.Request, p: SpeakParams) -> web.StreamResponse:
    """wav/pcm as chunked audio, sent as each part is synthesized (as OpenAI's API streams).

    The first bytes are the first chunk of the first sentence as it is decoded (~0.4 s of
    audio), so playback can start long before the whole text is synthesized. Errors before the
    first chunk keep their status.
    """
    d = daemon_of(request)
    joiner = PcmJoiner()
    chunks = d.synth.iterate(
        lambda cancelled: d.speaker.stream(
            p.text, p.voice, p.lang, p.speed, cancelled=cancelled, chunk_first=True
        )
    )
    resp: web.StreamResponse | None = None
    try:
        async for chunk in chunks:
            data = joiner.add(chunk)
            if resp is None:
                resp = web.StreamResponse(
                    headers={
                        "Content-Type": audio_io.mime_type(p.format),
                        "Cache-Control": "no-cache",
                    }
                )
                await resp.prepare(request)
                if p.format == "wav":
                    data = wav_stream_header() + data
            await resp.write(data)
        if resp is None:
            raise BadInput("nothing to say: the text has no speakable words")
        await resp.write_eof()
    except ConnectionResetError:
        _LOGGER.debug("audio stream: the client went away")
    except Exception:
        if resp is None:
            raise  # nothing sent yet: the error middleware answers with the right status
        # Audio headers are out; a raw audio stream has no place for an error: log and cut it.
        _LOGGER.exception("audio stream failed after %.1f s of audio", joiner.samples / SAMPLE_RATE)
        if request.transport is not None:
            request.transport.close()
    finally:
        await chunks.aclose()
    return resp


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
        responses={
            200: (
                content_types(OPENAI_FORMATS),
                "audio bytes in the asked response_format (mp3 by default; wav and pcm streamed)",
            )
        },
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
