// The HTTP client over real sockets against the protocol double: auth, typed errors, bodies, limits.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, beforeEach, test } from "node:test";
import { OwnvoiceClient, parseRetryAfter, synthTimeoutMs } from "../src/client";
import {
  BadRequest,
  Busy,
  Cancelled,
  DaemonDown,
  NoAudioDevice,
  ProtocolError,
  ServerError,
  Timeout,
  TokenMissing,
  Unauthorized,
  UnknownVoice,
} from "../src/errors";
import { FakeDaemon, silentWav } from "./support/fake-daemon";

const daemon = new FakeDaemon();
const RULES = { code_blocks: "skip", links: "text", math: "formula" } as const;

function client(token = daemon.token, timeoutMs?: number): OwnvoiceClient {
  return new OwnvoiceClient({ baseUrl: daemon.url, getToken: async () => ({ token, source: "/fake/token" }), timeoutMs });
}

before(() => daemon.start());
after(() => daemon.close());
beforeEach(() => {
  daemon.override.clear();
  daemon.requests.length = 0;
  daemon.audioDevice = true;
});

test("every request carries the bearer token in the header, never in the URL", async () => {
  await client().status();
  await client().voices();
  for (const r of daemon.requests) {
    assert.equal(r.headers.authorization, `Bearer ${daemon.token}`);
    assert.ok(!/token/i.test(r.path));
  }
});

test("status and voices are parsed; the default voice can always be picked", async () => {
  const s = await client().status();
  assert.equal(s.version, "0.1.0-fake");
  assert.equal(s.paths?.token_file, "/fake/config/token");
  daemon.override.set("GET /api/voices", () => ({ json: { voices: [{ id: "me", name: "Me", languages: ["en"], builtin: false }], default: "me" } }));
  const v = await client().voices();
  assert.deepEqual(v.voices.map((x) => x.id), ["default", "me"]);
  assert.equal(v.default, "me");
});

test("script sends Markdown with its rules and returns UTF-16 offsets", async () => {
  const text = "# Hi 😀\n\nOne 😀 two. Three.";
  const sentences = await client().script(text, true, RULES);
  assert.deepEqual(daemon.calls("POST /api/script")[0].body, { text, markdown: true, rules: RULES });
  const three = sentences.find((s) => s.text === "Three.")!;
  assert.equal(text.slice(three.start, three.end), "Three.");
  await client().script("plain", false, RULES);
  assert.deepEqual(daemon.calls("POST /api/script")[1].body, { text: "plain", markdown: false }, "no rules for plain text");
});

test("a malformed script answer is a protocol error, not a crash later", async () => {
  daemon.override.set("POST /api/script", () => ({ json: { ok: true, sentences: [{ text: "x", start: 5, end: 2 }] } }));
  await assert.rejects(client().script("x", false), ProtocolError);
  daemon.override.set("POST /api/script", () => ({ raw: "<html>proxy</html>" }));
  await assert.rejects(client().script("x", false), /not JSON/);
});

test("speak returns the WAV and its duration from X-Ownvoice-Duration", async () => {
  const audio = await client().speakWav({ text: "One. Two.", voice: "default", speed: 1.2 });
  assert.equal(audio.info.sampleRate, 24000);
  assert.equal(audio.info.channels, 1);
  assert.ok(Math.abs(audio.duration - 0.16) < 1e-6);
  assert.ok(Math.abs(audio.info.duration - 0.16) < 1e-3);
  assert.deepEqual(daemon.calls("POST /api/speak")[0].body, { text: "One. Two.", voice: "default", lang: "auto", speed: 1.2, markdown: false, format: "wav" });
});

test("speak answers that are not WAV are refused", async () => {
  daemon.override.set("POST /api/speak", () => ({ raw: "ID3 not a wav", headers: { "Content-Type": "audio/mpeg" } }));
  await assert.rejects(client().speakWav({ text: "x", voice: "default" }), /not a WAV/);
});

test("play returns the playback id and sentences with timings", async () => {
  const text = "# Title\n\nFirst one. Second one.";
  const started = await client().play({ text, voice: "default", speed: 1, markdown: true, rules: RULES });
  assert.match(started.playbackId, /^pb-/);
  assert.deepEqual(started.sentences.map((s) => s.text), ["Title", "First one.", "Second one."]);
  assert.ok(started.sentences.every((s) => s.t0 !== undefined && s.t1! > s.t0!));
  assert.deepEqual(daemon.calls("POST /api/play")[0].body.rules, RULES);
  const state = await client().playback();
  assert.equal(state.state, "playing");
  assert.equal(state.playbackId, started.playbackId);
  await client().stop();
  assert.equal((await client().playback()).state, "idle");
});

test("a daemon that refuses the rules field on /api/play gets the request again without it", async () => {
  const seen: unknown[] = [];
  daemon.override.set("POST /api/play", (r) => {
    seen.push(r.body);
    return r.body.rules ? daemon.error(400, "unknown field 'rules'") : { json: { ok: true, playback_id: "p", sentences: [] } };
  });
  const started = await client().play({ text: "Hi.", voice: "default", markdown: true, rules: RULES });
  assert.equal(started.playbackId, "p");
  assert.equal(seen.length, 2);
});

test("409 from /api/play means no audio device", async () => {
  daemon.audioDevice = false;
  const err = await client().play({ text: "Hello.", voice: "default" }).catch((e) => e);
  assert.ok(err instanceof NoAudioDevice, String(err));
  assert.match(err.detail, /no audio output device/);
});

test("401 names where the token came from", async () => {
  const err = await client("wrong").status().catch((e) => e);
  assert.ok(err instanceof Unauthorized);
  assert.match(err.message, /\/fake\/token/);
});

test("404 on speak is an unknown voice", async () => {
  const err = await client().speakWav({ text: "Hi.", voice: "nobody" }).catch((e) => e);
  assert.ok(err instanceof UnknownVoice, String(err));
  assert.equal(err.voice, "nobody");
});

test("503 carries Retry-After seconds", async () => {
  daemon.override.set("POST /api/speak", () => daemon.error(503, "queue full", { "Retry-After": "7" }));
  const err = await client().speakWav({ text: "Hi.", voice: "default" }).catch((e) => e);
  assert.ok(err instanceof Busy);
  assert.equal(err.retryAfter, 7);
  assert.equal(parseRetryAfter(undefined), 1);
  assert.equal(parseRetryAfter("99999"), 600);
  assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString()) >= 4, true);
});

test("bad input and server errors pass the daemon's message on", async () => {
  daemon.override.set("POST /api/speak", () => daemon.error(413, "text is 300000 characters; the limit is 200000"));
  await assert.rejects(client().speakWav({ text: "x", voice: "default" }), (e: unknown) => e instanceof BadRequest && /limit is 200000/.test(String(e)));
  daemon.override.set("GET /api/status", () => daemon.error(500, "internal error"));
  await assert.rejects(client().status(), ServerError);
});

test("nothing listening is 'daemon not running'", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const c = new OwnvoiceClient({ baseUrl: `http://127.0.0.1:${port}`, getToken: async () => ({ token: "t", source: "f" }) });
  const err = await c.status().catch((e) => e);
  assert.ok(err instanceof DaemonDown, String(err));
  assert.match(String(err.detail), /ECONNREFUSED/);
});

test("a slow daemon times out; a stopped request is cancelled", async () => {
  daemon.override.set("GET /api/status", () => ({ delayMs: 400, json: { version: "x" } }));
  await assert.rejects(client(daemon.token, 100).status(), Timeout);
  const stop = new AbortController();
  daemon.override.set("POST /api/speak", () => ({ delayMs: 400, raw: silentWav(0.1) }));
  const pending = client().speakWav({ text: "Hi.", voice: "default" }, stop.signal);
  setTimeout(() => stop.abort(), 50);
  await assert.rejects(pending, Cancelled);
});

test("missing token is reported before any request is made", async () => {
  const c = new OwnvoiceClient({
    baseUrl: daemon.url,
    getToken: async () => {
      throw new TokenMissing("/nowhere/token");
    },
  });
  await assert.rejects(c.status(), TokenMissing);
  assert.equal(daemon.requests.length, 0);
});

test("synthesis time limits grow with the text but stay bounded", () => {
  assert.equal(synthTimeoutMs(""), 60_000);
  assert.ok(synthTimeoutMs("x".repeat(1000)) > synthTimeoutMs("x"));
  assert.equal(synthTimeoutMs("x".repeat(10_000_000)), 3_600_000);
});
