"""/api/script, /api/speak (wav, json, ndjson), playback and the bounded queue, with the fake Speaker."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import numpy as np
import soundfile as sf

TEXT = "Hello there. It reads 😀 notes aloud! One sentence at a time."


def _utf16_slice(text: str, start: int, end: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * start : 2 * end].decode("utf-16-le")


def test_script_offsets_are_utf16_code_units(make_daemon, serve):
    async def go(client, raw):
        r = await client.post("/api/script", json={"text": TEXT})
        return r.status, await r.json()

    status, body = serve(make_daemon(), go)
    assert status == 200 and body["ok"] is True
    texts = [s["text"] for s in body["sentences"]]
    assert texts == ["Hello there.", "It reads 😀 notes aloud!", "One sentence at a time."]
    for s in body["sentences"]:
        assert _utf16_slice(TEXT, s["start"], s["end"]) == s["text"]
    # After the emoji, code point offsets would be one short of the UTF-16 ones.
    assert body["sentences"][2]["start"] == TEXT.index("One") + 1


def test_speak_wav_is_24khz_mono_16bit_with_duration_header(make_daemon, serve):
    async def go(client, raw):
        r = await client.post("/api/speak", json={"text": TEXT})
        return r.status, r.headers["Content-Type"], r.headers["X-Ownvoice-Duration"], await r.read()

    status, ctype, duration, data = serve(make_daemon(), go)
    assert status == 200 and ctype == "audio/wav"
    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.subtype) == (24000, 1, "PCM_16")
    assert abs(info.duration - float(duration)) < 0.01
    audio, _ = sf.read(io.BytesIO(data))
    assert np.abs(audio).max() > 0.1


def test_speak_json_has_timings_in_order_and_base64_wav(make_daemon, serve):
    async def go(client, raw):
        r = await client.post("/api/speak", json={"text": TEXT, "format": "json", "speed": 1.5})
        return r.status, await r.json()

    status, body = serve(make_daemon(), go)
    assert status == 200 and body["sample_rate"] == 24000
    audio, sr = sf.read(io.BytesIO(base64.b64decode(body["audio_base64"])))
    assert sr == 24000 and abs(len(audio) / sr - body["duration"]) < 0.01
    prev = 0.0
    for s in body["sentences"]:
        assert s["t0"] >= prev and s["t1"] > s["t0"]
        assert _utf16_slice(TEXT, s["start"], s["end"]) == s["text"]
        prev = s["t1"]
    assert prev <= body["duration"] + 1e-3


def test_speak_ndjson_streams_one_line_per_sentence_then_done(make_daemon, serve):
    d = make_daemon()
    d.speaker.hold_after = 1  # the second sentence waits until the test has read the first

    async def go(client, raw):
        r = await client.post("/api/speak", json={"text": TEXT, "format": "ndjson"})
        assert r.headers["Content-Type"].startswith("application/x-ndjson")
        lines = [json.loads(await r.content.readline())]
        calls_at_first_line = d.speaker.synth_calls
        d.speaker.release.set()
        while line := await r.content.readline():
            lines.append(json.loads(line))
        return calls_at_first_line, lines

    calls_at_first_line, lines = serve(d, go)
    assert calls_at_first_line == 1  # the first sentence came before the rest was synthesized
    sentences = [x for x in lines if x["type"] == "sentence"]
    assert len(sentences) == 3 and lines[-1]["type"] == "done"
    for s in sentences:
        audio, sr = sf.read(io.BytesIO(base64.b64decode(s["audio_base64"])))
        assert sr == s["sample_rate"] == 24000 and len(audio) > 0
        assert _utf16_slice(TEXT, s["start"], s["end"]) == s["text"]


def test_unknown_voice_is_404_for_every_format(make_daemon, serve):
    async def go(client, raw):
        out = []
        for fmt in ("wav", "json", "ndjson"):
            r = await client.post(
                "/api/speak", json={"text": "Hi.", "voice": "no-such-voice", "format": fmt}
            )
            out.append((r.status, (await r.json())["status"]))
        return out

    assert serve(make_daemon(), go) == [(404, 404)] * 3


def test_bad_fields_get_400_or_422_with_the_error_shape(make_daemon, serve):
    cases = [
        ({"text": 5}, 400),
        ({}, 400),
        ({"text": "  "}, 400),
        ({"text": "Hi.", "speed": 9}, 422),
        ({"text": "Hi.", "speed": "fast"}, 400),
        ({"text": "Hi.", "format": "midi"}, 422),
        ({"text": "Hi.", "lang": "fr"}, 422),
        ({"text": "Hi.", "markdown": "yes"}, 400),
        ({"text": "Hi.", "rules": {"code_blocks": "sing"}}, 422),
        ({"text": "Hi.", "rules": {"bogus": 1}}, 400),
    ]

    async def go(client, raw):
        out = []
        for body, _ in cases:
            r = await client.post("/api/speak", json=body)
            out.append((r.status, await r.json()))
        r = await client.post(
            "/api/speak", data=b"{not json", headers={"Content-Type": "application/json"}
        )
        out.append((r.status, await r.json()))
        return out

    results = serve(make_daemon(), go)
    for (status, body), expected in zip(results, [c[1] for c in cases] + [400]):
        assert status == expected, body
        assert body == {"ok": False, "error": body["error"], "status": expected} and body["error"]
        assert "Traceback" not in body["error"]


def test_unknown_endpoint_and_crash_get_generic_bodies(make_daemon, serve):
    d = make_daemon()

    def boom(*a, **k):
        raise RuntimeError("secret internal detail /home/user/path")

    d.speaker.script = boom

    async def go(client, raw):
        a = await client.get("/api/nope")
        b = await client.post("/api/script", json={"text": "Hi."})
        return a.status, await a.json(), b.status, await b.json()

    s1, b1, s2, b2 = serve(d, go)
    assert s1 == 404 and b1["ok"] is False and b1["status"] == 404
    assert s2 == 500 and "secret" not in b2["error"] and b2["status"] == 500


def test_full_queue_answers_503_with_retry_after(make_daemon, serve):
    d = make_daemon(queue_max=2)
    d.speaker.hold_after = 0

    async def go(client, raw):
        first = [
            asyncio.ensure_future(client.post("/api/speak", json={"text": f"Sentence number {i}."}))
            for i in range(2)
        ]
        await asyncio.sleep(0.3)
        busy = await client.post("/api/speak", json={"text": "One more."})
        status, retry, body = busy.status, busy.headers.get("Retry-After"), await busy.json()
        d.speaker.release.set()
        done = [await f for f in first]
        after = await client.post("/api/speak", json={"text": "Now there is room."})
        return status, retry, body, [r.status for r in done], after.status

    status, retry, body, first, after = serve(d, go)
    assert status == 503 and int(retry) >= 1 and body["status"] == 503 and "queue" in body["error"]
    assert first == [200, 200] and after == 200


def test_cached_replay_does_not_synthesize_again(make_daemon, serve):
    d = make_daemon()

    async def go(client, raw):
        await client.post("/api/speak", json={"text": "Replay me."})
        calls = d.speaker.synth_calls
        await client.post("/api/speak", json={"text": "Replay me."})
        return calls, d.speaker.synth_calls

    calls, after = serve(d, go)
    assert calls == 1 and after == 1


def test_play_without_audio_device_is_409(make_daemon, serve):
    async def go(client, raw):
        r = await client.post("/api/play", json={"text": "Hi there."})
        return r.status, await r.json()

    status, body = serve(make_daemon(), go)
    assert status == 409 and "audio output device" in body["error"]


def test_play_reports_position_and_sentence_then_stop_goes_idle(make_daemon, serve, timed_player):
    d = make_daemon(player=timed_player)

    async def go(client, raw):
        r = await client.post("/api/play", json={"text": TEXT})
        played = await r.json()
        await asyncio.sleep(0.2)
        state = await (await client.get("/api/playback")).json()
        await client.post("/api/stop", json={})
        idle = await (await client.get("/api/playback")).json()
        return r.status, played, state, idle

    status, played, state, idle = serve(d, go)
    assert status == 200 and played["playback_id"]
    assert [s["index"] for s in played["sentences"]] == [0, 1, 2]
    assert all("t0" in s and "t1" in s for s in played["sentences"])
    assert state["state"] == "playing" and state["playback_id"] == played["playback_id"]
    assert state["sentence_index"] == 0 and 0 < state["position"] < played["sentences"][0]["t1"]
    assert idle["state"] == "idle"
