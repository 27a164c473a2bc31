"""``/api/script``, ``/api/speak`` (wav, json, streamed ndjson) and daemon-side playback."""

from __future__ import annotations

import base64
import contextlib
import logging

from aiohttp import web

from .. import audio_io
from ..errors import BadInput, Conflict, OwnvoiceError
from .body import get_bool, get_choice, get_rules, get_str, json_body
from .render import (
    LANGS,
    SPEAK_FORMATS,
    SpeakParams,
    audio_response,
    content_types,
    json_speech,
    ndjson_line,
    parse_speak,
    synthesize,
    timing_json,
)
from .routing import JSON, Route, blocking, daemon_of, obj
from .utf16 import Utf16Offsets

_LOGGER = logging.getLogger(__name__)

RULES_SCHEMA = obj(
    {
        "code_blocks": {"type": "string", "enum": ["announce", "read", "skip"]},
        "links": {"type": "string", "enum": ["text", "announce"]},
        "math": {"type": "string", "enum": ["formula", "verbalize"]},
        "heading_pause": {"type": "boolean"},
    }
)
SPEAK_SCHEMA = obj(
    {
        "text": {"type": "string"},
        "voice": {"type": "string", "default": "default"},
        "lang": {"type": "string", "enum": list(LANGS), "default": "auto"},
        "speed": {"type": "number", "minimum": 0.5, "maximum": 2.0, "default": 1.0},
        "markdown": {"type": "boolean", "default": False},
        "rules": RULES_SCHEMA,
        "format": {"type": "string", "enum": list(SPEAK_FORMATS), "default": "wav"},
    },
    ("text",),
)


async def script(request: web.Request) -> web.Response:
    """Text or Markdown → speakable sentences with UTF-16 offsets into the given text."""
    d = daemon_of(request)
    body = await json_body(request, d.json_cap)
    text = get_str(body, "text", max_len=int(d.config.max_text_chars))
    markdown = get_bool(body, "markdown", False)
    rules = get_rules(body)
    lang = get_choice(body, "lang", LANGS, "auto")
    sentences = await d.synth.run(d.speaker.script, text, markdown, rules, lang)
    conv = Utf16Offsets(text)
    out = []
    for s in sentences:
        item = {
            "index": s.index,
            "text": s.text,
            "lang": s.lang,
            "start": conv(s.start),
            "end": conv(s.end),
            "heading": getattr(s, "heading", None),
        }
        if getattr(s, "pause_after", 0.0):
            item["pause_after"] = s.pause_after
        out.append(item)
    return web.json_response({"ok": True, "sentences": out})


async def speak(request: web.Request) -> web.StreamResponse:
    d = daemon_of(request)
    params = parse_speak(await json_body(request, d.json_cap), d.config)
    return await respond(request, params)


async def respond(request: web.Request, p: SpeakParams) -> web.StreamResponse:
    """Answer a speech request in the asked format (shared with /api/notes/render)."""
    d = daemon_of(request)
    if p.format == "ndjson":
        return await _stream_ndjson(request, p)
    speech = await d.synth.run(synthesize, d.speaker, p)
    if p.format == "json":
        return web.json_response(await blocking(json_speech, speech, p.text))
    return await blocking(audio_response, speech, p.format)


async def _stream_ndjson(request: web.Request, p: SpeakParams) -> web.StreamResponse:
    """One JSON line per sentence as soon as it is synthesized, then ``{"type": "done"}``."""
    d = daemon_of(request)
    conv = Utf16Offsets(p.text)
    chunks = d.synth.iterate(
        lambda cancelled: d.speaker.stream(
            p.text, p.voice, p.lang, p.speed, p.markdown, p.rules, cancelled, chunk_first=True
        )
    )
    resp: web.StreamResponse | None = None
    sent = 0
    try:
        async for chunk in chunks:
            wav = audio_io.encode(chunk.samples, chunk.sample_rate, "wav")
            line = ndjson_line(
                {
                    "type": "sentence",
                    "index": chunk.index,
                    "text": chunk.text,
                    "lang": chunk.lang,
                    "start": conv(chunk.start),
                    "end": conv(chunk.end),
                    "sample_rate": chunk.sample_rate,
                    "duration": round(len(chunk.samples) / chunk.sample_rate, 4),
                    # An uncached first sentence comes in chunks (same index, text and span, part
                    # 0, 1, ...) as it is decoded; "last" tells whether more of it follows.
                    "part": chunk.part,
                    "last": chunk.last,
                    "audio_base64": base64.b64encode(wav).decode("ascii"),
                }
            )
            if resp is None:
                # Errors before the first sentence (unknown voice, bad text) still get a real status.
                resp = web.StreamResponse(
                    headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"}
                )
                await resp.prepare(request)
            await resp.write(line)
            sent += 1
        if resp is None:
            raise BadInput("nothing to say: the text has no speakable words")
        await resp.write(ndjson_line({"type": "done", "sentences": sent}))
        await resp.write_eof()
    except ConnectionResetError:
        _LOGGER.debug("ndjson stream: the client went away after %d sentences", sent)
    except Exception as e:
        if resp is None:
            raise  # nothing sent yet: the error middleware answers with the right status
        # Headers are out: the error becomes the stream's last line, in the usual shape.
        if isinstance(e, OwnvoiceError):
            err = {"type": "error", "ok": False, "error": str(e), "status": e.status}
        else:
            _LOGGER.exception("ndjson stream failed after %d sentences", sent)
            err = {
                "type": "error",
                "ok": False,
                "error": "internal error; the daemon log has the details",
                "status": 500,
            }
        with contextlib.suppress(ConnectionResetError):
            await resp.write(ndjson_line(err))
            await resp.write_eof()
    finally:
        await chunks.aclose()
    return resp


async def play(request: web.Request) -> web.Response:
    """Synthesize, then play on the daemon's own audio output (409 when it has none)."""
    d = daemon_of(request)
    params = parse_speak(await json_body(request, d.json_cap), d.config)
    if not d.player.available:
        raise Conflict(
            "no audio output device on the daemon's machine; play the audio in the client"
        )
    speech = await d.synth.run(synthesize, d.speaker, params)
    marks = [(s.index, s.t0, s.t1) for s in speech.sentences]
    playback_id = await blocking(d.player.play, speech.samples, speech.sample_rate, marks)
    return web.json_response(
        {
            "ok": True,
            "playback_id": playback_id,
            "duration": round(speech.duration, 4),
            "sentences": timing_json(speech, params.text),
        }
    )


async def stop(request: web.Request) -> web.Response:
    d = daemon_of(request)
    await blocking(d.player.stop)
    return web.json_response({"ok": True})


async def playback(request: web.Request) -> web.Response:
    d = daemon_of(request)
    return web.json_response({"ok": True, **d.player.state()})


SENTENCE = {
    "type": "object",
    "properties": {
        k: {"type": t}
        for k, t in (
            ("index", "integer"),
            ("text", "string"),
            ("lang", "string"),
            ("start", "integer"),
            ("end", "integer"),
            ("t0", "number"),
            ("t1", "number"),
            ("heading", "string"),
        )
    },
}

ROUTES = [
    Route(
        "POST",
        "/api/script",
        script,
        "Split text or Markdown into speakable sentences (UTF-16 offsets)",
        "speech",
        body="json",
        request=obj(
            {
                "text": {"type": "string"},
                "markdown": {"type": "boolean"},
                "rules": RULES_SCHEMA,
                "lang": {"type": "string", "enum": list(LANGS)},
            },
            ("text",),
        ),
        responses={200: (JSON, "sentences: [{index, text, lang, start, end, heading}]")},
    ),
    Route(
        "POST",
        "/api/speak",
        speak,
        "Speak text: wav (default), json with timings, or streamed ndjson",
        "speech",
        body="json",
        request=SPEAK_SCHEMA,
        responses={
            200: (
                content_types(SPEAK_FORMATS),
                (
                    "by 'format'. wav (default): 24 kHz mono 16-bit WAV; header "
                    "X-Ownvoice-Duration (seconds); flac, ogg, opus, mp3, pcm alike. "
                    "format=json: {sample_rate, duration, audio_base64, sentences}; "
                    "format=ndjson: one {type: sentence, …, audio_base64} line per "
                    "sentence, then {type: done}"
                ),
            )
        },
    ),
    Route(
        "POST",
        "/api/play",
        play,
        "Speak on the daemon's audio output; 409 when it has none",
        "playback",
        body="json",
        request=SPEAK_SCHEMA,
        responses={
            200: (JSON, "{playback_id, duration, sentences with t0/t1}"),
            409: (JSON, "no audio output device"),
        },
    ),
    Route("POST", "/api/stop", stop, "Stop daemon-side playback", "playback", body="json"),
    Route(
        "GET",
        "/api/playback",
        playback,
        "What the daemon is playing",
        "playback",
        responses={200: (JSON, "{state: playing|idle, playback_id, sentence_index, position}")},
    ),
]
