// The reader on its own (no VS Code): webview prefetch bounds, waiting out a full queue, player failures,
// closing the panel, and daemon playback that another client replaces.

import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { OwnvoiceClient } from "../src/client";
import { ProtocolError, ServerError, UnknownVoice } from "../src/errors";
import type { Span } from "../src/highlight";
import { type PlayerEvent, type ReadRequest, Reader, type WebviewPlayer } from "../src/playback";
import { FakeDaemon, silentWav } from "./support/fake-daemon";

const daemon = new FakeDaemon();
before(() => daemon.start());
after(() => daemon.close());
beforeEach(() => {
  daemon.override.clear();
  daemon.requests.length = 0;
  daemon.audioDevice = true;
  daemon.clock = "wall";
});

/** A player the test drives by hand: it records what it was given and emits what the test says. */
class ScriptedPlayer implements WebviewPlayer {
  queued: number[] = [];
  began = 0;
  finished = false;
  stopped = 0;
  private listeners = new Set<(e: PlayerEvent) => void>();
  begin(): void {
    this.began++;
    this.queued = [];
    this.finished = false;
  }
  enqueue(index: number): void {
    this.queued.push(index);
  }
  finish(): void {
    this.finished = true;
  }
  stop(): void {
    this.stopped++;
  }
  onEvent(l: (e: PlayerEvent) => void) {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }
  emit(e: PlayerEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

function setup(player = new ScriptedPlayer(), sleep?: (ms: number, signal: AbortSignal) => Promise<void>) {
  const spans: Array<Span | undefined> = [];
  const states: string[] = [];
  const client = new OwnvoiceClient({ baseUrl: daemon.url, getToken: async () => ({ token: daemon.token, source: "test" }) });
  const reader = new Reader({
    client: () => client,
    player: () => player,
    pollMs: 20,
    ...(sleep ? { sleep } : {}),
    listener: {
      sentence: (span) => spans.push(span),
      state: (s) => states.push(s),
      fellBack: () => states.push("fell back"),
    },
  });
  return { reader, player, spans, states };
}

const request = (text: string, more: Partial<ReadRequest> = {}): ReadRequest => ({
  text,
  base: 0,
  markdown: false,
  voice: "default",
  speed: 1,
  rules: { code_blocks: "announce", links: "text", math: "formula" },
  playback: "webview",
  documentKey: "file:///t.txt",
  ...more,
});

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), "condition reached");
};

test("the webview gets at most two sentences beyond the one playing", async () => {
  const { reader, player } = setup();
  const reading = reader.read(request("One. Two. Three. Four. Five. Six."));
  await until(() => player.queued.length === 3);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(player.queued, [0, 1, 2], "no more fetched while sentence 0 has not finished");
  player.emit({ type: "playing", index: 0 });
  player.emit({ type: "ended", index: 0 });
  await until(() => player.queued.length === 4);
  for (let i = 1; i < 6; i++) {
    player.emit({ type: "ended", index: i });
    await new Promise((r) => setTimeout(r, 10));
  }
  await reading;
  assert.deepEqual(player.queued, [0, 1, 2, 3, 4, 5]);
  assert.ok(player.finished);
});

test("a full queue (503) is waited out per sentence instead of ending the reading", async () => {
  let refusals = 0;
  daemon.override.set("POST /api/speak", (r) => {
    if (r.body.text === "Two." && refusals < 2) {
      refusals++;
      return daemon.error(503, "queue full", { "Retry-After": "1" });
    }
    return { raw: silentWav(0.05), headers: { "Content-Type": "audio/wav" } };
  });
  const { reader, player } = setup();
  const reading = reader.read(request("One. Two."));
  await until(() => player.queued.length === 2);
  assert.equal(refusals, 2);
  player.emit({ type: "ended", index: 0 });
  player.emit({ type: "ended", index: 1 });
  await reading;
});

test("a sentence the page cannot play ends the reading with a clear error", async () => {
  const { reader, player, states } = setup();
  const reading = reader.read(request("One. Two."));
  await until(() => player.queued.length === 2);
  player.emit({ type: "error", index: 0, message: "media error 4: format not supported" });
  await assert.rejects(reading, (e: unknown) => e instanceof ProtocolError && /sentence 1: media error 4/.test(String(e)));
  assert.equal(states.at(-1), "idle");
  assert.equal(reader.reading, false);
});

test("closing the player panel stops the reading quietly", async () => {
  const { reader, player, spans } = setup();
  const reading = reader.read(request("One. Two. Three."));
  await until(() => player.queued.length === 3);
  player.emit({ type: "playing", index: 0 });
  player.emit({ type: "closed" });
  await reading;
  assert.equal(reader.reading, false);
  assert.equal(spans.at(-1), undefined, "highlight cleared");
});

test("an unknown voice fails before anything is played", async () => {
  const { reader, player } = setup();
  await assert.rejects(reader.read(request("One.", { voice: "nobody" })), UnknownVoice);
  assert.deepEqual(player.queued, []);
});

test("daemon playback ends when another client starts its own playback", async () => {
  daemon.sentenceSeconds = 1;
  const { reader, spans } = setup();
  const reading = reader.read(request("One. Two. Three.", { playback: "daemon" }));
  await until(() => daemon.calls("GET /api/playback").length > 0);
  // Someone else (another editor) plays something: our playback id is no longer the one playing.
  const other = new OwnvoiceClient({ baseUrl: daemon.url, getToken: async () => ({ token: daemon.token, source: "t" }) });
  await other.play({ text: "Something else entirely.", voice: "default" });
  await reading;
  assert.equal(spans.at(-1), undefined);
  daemon.sentenceSeconds = 0.08;
});

test("a new reading replaces the current one", async () => {
  const { reader, player } = setup();
  const first = reader.read(request("Alpha. Beta. Gamma."));
  await until(() => player.queued.length === 3);
  const second = reader.read(request("Delta."));
  await first;
  await until(() => player.queued.length === 1);
  assert.ok(player.stopped >= 1, "the first reading's audio was stopped");
  player.emit({ type: "ended", index: 0 });
  await second;
  assert.equal(player.began, 2);
});

test("a reading waits while the daemon loads its model, then starts, and checks only once", async () => {
  let polls = 0;
  daemon.override.set("GET /api/status", () => {
    polls++;
    const model = polls < 3 ? { state: "loading", seconds: polls } : { state: "ready", seconds: 3 };
    return { json: { ok: true, version: "fake", model } };
  });
  const slept: number[] = [];
  const { reader, player, states } = setup(new ScriptedPlayer(), async (ms) => {
    slept.push(ms);
  });
  const reading = reader.read(request("One."));
  await until(() => player.queued.length === 1);
  assert.equal(daemon.calls("POST /api/speak").length, 1);
  assert.equal(polls, 3, "polled until ready");
  assert.deepEqual(slept, [1000, 1000]);
  assert.deepEqual(states.slice(0, 3), ["preparing", "loading-model", "preparing"]);
  player.emit({ type: "ended", index: 0 });
  await reading;
  const again = reader.read(request("Two."));
  await until(() => daemon.calls("POST /api/speak").length === 2 && player.queued.length === 1);
  player.emit({ type: "ended", index: 0 });
  await again;
  assert.equal(polls, 3, "the second reading does not ask again");
});

test("a model the daemon could not load ends the reading with its error", async () => {
  daemon.override.set("GET /api/status", () => ({
    json: { ok: true, version: "fake", model: { state: "failed", error: "RuntimeError: weights damaged" } },
  }));
  const { reader, player } = setup();
  await assert.rejects(reader.read(request("One.")), (e: unknown) => e instanceof ServerError && /could not load its model: RuntimeError: weights damaged/.test(String(e)));
  assert.deepEqual(player.queued, []);
  assert.equal(daemon.calls("POST /api/speak").length, 0);
});
