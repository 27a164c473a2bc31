"""Speech requests shared by several endpoints: parse, synthesize within caps, shape the answer."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from aiohttp import web

from .. import audio_io
from ..audio_constants import SAMPLE_RATE
from ..errors import BadInput, TooLarge
from ..speech import SENTENCE_GAP, SPEED_RANGE, SentenceAudio, Speech, SpeechBuilder
from .body import get_bool, get_choice, get_number, get_rules, get_str
from .utf16 import Utf16Offsets

LANGS = ("auto", "en", "zh", "ja")
SPEAK_FORMATS = ("wav", "json", "ndjson", "flac", "ogg", "opus", "mp3", "pcm")
_STRUCTURED = {"json": "application/json", "ndjson": "application/x-ndjson"}
# Non-streamed answers hold all audio in memory; longer texts must use ndjson (or be split).
MAX_RESPONSE_SECONDS = 1800.0


def content_types(formats: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The content types answers in ``formats`` carry, in order and without repeats.

    For the OpenAPI document: a route whose 'format' picks the answer declares all of them.
    """
    return tuple(dict.fromkeys(_STRUCTURED.get(f) or audio_io.mime_type(f) for f in formats))


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
    builder = SpeechBuilder()
    for chunk in speaker.stream(p.text, p.voice, p.lang, p.speed, p.markdown, p.rules, cancelled):
        builder.add(chunk)
        if builder.seconds > max_seconds:
            raise TooLarge(
                f"the speech would be longer than {max_seconds:.0f} s; ask for format 'ndjson' "
                "(streamed per sentence) or send less text"
            )
    return builder.build()


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


# Streamed WAV: the length is unknown when the header goes out, so both sizes say "to the end of
# the stream" (0xFFFFFFFF), which libsndfile, Python's wave module and browsers accept.
_UNKNOWN = 0xFFFFFFFF


def wav_stream_header(sample_rate: int = SAMPLE_RATE) -> bytes:
    """A 16-bit mono WAV header for a stream of unknown length."""
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", _UNKNOWN)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", _UNKNOWN)
    )


class PcmJoiner:
    """Streamed chunks → 16-bit PCM bytes with the same gaps as ``SpeechBuilder`` (none between
    the parts of one sentence), counting the seconds sent for the response cap."""

    def __init__(self, max_seconds: float = MAX_RESPONSE_SECONDS) -> None:
        self.max_seconds = max_seconds
        self.samples = 0
        self._last_index: int | None = None

    def add(self, chunk: SentenceAudio) -> bytes:
        audio = np.asarray(chunk.samples, dtype=np.float32)
        joined = chunk.part and chunk.index == self._last_index
        if self._last_index is not None and not joined:
            audio = np.concatenate([np.zeros(int(SENTENCE_GAP * SAMPLE_RATE), np.float32), audio])
        self._last_index = chunk.index
        self.samples += len(audio)
        if self.samples / SAMPLE_RATE > self.max_seconds:
            raise TooLarge(
                f"the speech would be longer than {self.max_seconds:.0f} s; send less text"
            )
        return audio_io.encode(audio, SAMPLE_RATE, "pcm")
