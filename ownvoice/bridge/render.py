"""Speech requests shared by several endpoints: parse, synthesize within caps, shape the answer."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from aiohttp import web

from .. import audio_io
from ..audio_constants import SAMPLE_RATE
from ..errors import BadInput, TooLarge
from ..speech import SENTENCE_GAP, SPEED_RANGE, SentenceTiming, Speech
from .body import get_bool, get_choice, get_number, get_rules, get_str
from .utf16 import Utf16Offsets

LANGS = ("auto", "en", "zh", "ja")
SPEAK_FORMATS = ("wav", "json", "ndjson", "flac", "ogg", "opus", "mp3", "pcm")
# Non-streamed answers hold all audio in memory; longer texts must use ndjson (or be split).
MAX_RESPONSE_SECONDS = 1800.0


@dataclass(frozen=True)
class SpeakParams:
    text: str
    voice: str
    lang: str
    speed: float
    markdown: bool
    rules: dict | None
    format: str


def parse_speak(
    body: dict, config, default_format: str = "wav", default_markdown: bool = False
) -> SpeakParams:
    """The body of /api/speak and /api/play, checked."""
    text = get_str(body, "text", max_len=int(config.max_text_chars))
    if not text.strip():
        raise BadInput("'text' is empty")
    voice = body.get("voice") or config.default_voice
    if not isinstance(voice, str) or len(voice) > 200:
        raise BadInput("'voice' must be a voice id or name")
    return SpeakParams(
        text=text,
        voice=voice,
        lang=get_choice(body, "lang", LANGS, "auto"),
        speed=get_number(body, "speed", float(config.speed), *SPEED_RANGE),
        markdown=get_bool(body, "markdown", default_markdown),
        rules=get_rules(body),
        format=get_choice(body, "format", SPEAK_FORMATS, default_format),
    )


def synthesize(
    speaker,
    p: SpeakParams,
    cancelled: Callable[[], bool] | None = None,
    max_seconds: float = MAX_RESPONSE_SECONDS,
) -> Speech:
    """All of the text as one ``Speech`` with sentence timings, refusing past ``max_seconds``."""
    parts: list[np.ndarray] = []
    timings: list[SentenceTiming] = []
    gap = np.zeros(int(SENTENCE_GAP * SAMPLE_RATE), dtype=np.float32)
    pos = 0
    for chunk in speaker.stream(p.text, p.voice, p.lang, p.speed, p.markdown, p.rules, cancelled):
        if parts:
            parts.append(gap)
            pos += len(gap)
        t0 = pos / SAMPLE_RATE
        parts.append(np.asarray(chunk.samples, dtype=np.float32))
        pos += len(chunk.samples)
        if pos / SAMPLE_RATE > max_seconds:
            raise TooLarge(
                f"the speech would be longer than {max_seconds:.0f} s; ask for format 'ndjson' "
                "(streamed per sentence) or send less text"
            )
        timings.append(
            SentenceTiming(
                chunk.index, chunk.text, chunk.lang, chunk.start, chunk.end, t0, pos / SAMPLE_RATE
            )
        )
    if not timings:
        raise BadInput("nothing to say: the text has no speakable words")
    return Speech(np.concatenate(parts), SAMPLE_RATE, timings)


def timing_json(speech: Speech, text: str) -> list[dict]:
    """Sentence timings with UTF-16 offsets into ``text`` (what the editors index by)."""
    conv = Utf16Offsets(text)
    return [
        {
            "index": s.index,
            "text": s.text,
            "lang": s.lang,
            "start": conv(s.start),
            "end": conv(s.end),
            "t0": round(s.t0, 4),
            "t1": round(s.t1, 4),
        }
        for s in speech.sentences
    ]


def audio_response(speech: Speech, fmt: str) -> web.Response:
    data = audio_io.encode(speech.samples, speech.sample_rate, fmt)
    return web.Response(
        body=data,
        content_type=audio_io.mime_type(fmt),
        headers={"X-Ownvoice-Duration": f"{speech.duration:.3f}"},
    )


def json_speech(speech: Speech, text: str) -> dict:
    wav = audio_io.encode(speech.samples, speech.sample_rate, "wav")
    return {
        "ok": True,
        "sample_rate": speech.sample_rate,
        "duration": round(speech.duration, 4),
        "audio_base64": base64.b64encode(wav).decode("ascii"),
        "sentences": timing_json(speech, text),
    }


def ndjson_line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")
