"""/v1/audio/speech streams wav and pcm as each sentence is synthesized (fake Speaker)."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import soundfile as sf

from ownvoice.speech import SENTENCE_GAP

TEXT = "Hello there. It reads notes aloud! One sentence at a time."


def _speech(client, fmt: str, text: str = TEXT, voice: str = "default"):
    return client.post(
        "/v1/audio/speech",
        json={"model": "ownvoice", "input": text, "voice": voice, "response_format": fmt},
    )


def test_streamed_wav_reads_back_as_all_sentences_with_their_gaps(make_daemon, serve):
    d = make_daemon()

    async def go(client, raw):
        r = await _speech(client, "wav")
        wav = await r.read()
        r = await _speech(client, "pcm")
        return r.status, r.headers["Content-Type"], wav, await r.read()

    status, ctype, wav, pcm = serve(d, go)
    assert status == 200 and ctype == "audio/pcm"
    audio, sr = sf.read(io.BytesIO(wav), dtype="float32")
    pieces = [c.samples for c in d.speaker.stream(TEXT)]
    expected = sum(len(p) for p in pieces) + (len(pieces) - 1) * int(SENTENCE_GAP * 24000)
    assert sr == 24000 and len(audio) == expected and np.abs(audio).max() > 0.1
    assert len(pcm) == 2 * expected
    assert np.array_equal(np.frombuffer(pcm, "<i2"), np.frombuffer(wav[44:], "<i2"))


def test_first_audio_bytes_arrive_before_the_rest_is_synthesized(make_daemon, serve):
    d = make_daemon()
    d.speaker.hold_after = 1  # synthesis of the second sentence waits for ``release``

    async def go(client, raw):
        r = await _speech(client, "wav")
        first = await asyncio.wait_for(r.content.readexactly(44 + 2000), 10)
        calls_then = d.speaker.synth_calls
        d.speaker.release.set()
        rest = await r.read()
        return r.status, calls_then, first + rest

    status, calls_then, data = serve(d, go)
    assert status == 200 and calls_then == 1
    audio, _ = sf.read(io.BytesIO(data), dtype="float32")
    assert len(audio) > 24000


def test_errors_before_the_first_chunk_keep_their_status(make_daemon, serve):
    async def go(client, raw):
        missing = await _speech(client, "wav", voice="no-such-voice")
        silent = await _speech(client, "pcm", text="...")
        return missing.status, await missing.json(), silent.status

    missing, body, silent = serve(make_daemon(), go)
    assert missing == 404 and body["ok"] is False and "no-such-voice" in body["error"]
    assert silent == 400
