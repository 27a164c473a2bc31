// End to end: the extension's client and reader against the real ownvoice daemon on 127.0.0.1.
// Starts `ownvoice serve` with OWNVOICE_HOME in a temp dir, finds the token where the extension looks for it,
// reads a Markdown note through POST /api/play (daemon-side playback) — or, on a machine without an audio
// device (409), the way VS Code then does it: /api/script + /api/speak per sentence into the player — checks
// offsets, timings and the audio, the errors the extension turns into messages, and stops the daemon.
// Skips only when the ownvoice binary is missing (set OWNVOICE_BIN to point at it).

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { OwnvoiceClient, type Sentence } from "../src/client";
import { findToken, tokenFileCandidates } from "../src/config";
import { DaemonDown, NoAudioDevice, Unauthorized, UnknownVoice } from "../src/errors";
import { type Span, snapRange } from "../src/highlight";
import { type PlayerEvent, Reader, type WebviewPlayer } from "../src/playback";
import { parseWav } from "../src/wav";
import { MockTextDocument, Uri } from "./mocks/vscode";

const ADAPTER = process.env.OWNVOICE_ADAPTER_DIR ?? process.cwd();
const REPO = resolve(ADAPTER, "..", "..");
const BIN = process.env.OWNVOICE_BIN || join(REPO, ".venv", "bin", "ownvoice");
const OUT = join(ADAPTER, "build", "e2e");
/** The first answer may wait for the model to load. */
const START_TIMEOUT_MS = 120_000;
/** Converting the model for a fresh models folder takes about a minute on 2 cores. */
const MODEL_TIMEOUT_MS = 300_000;
/** Synthesis runs at about real time on 2 cores. */
const SPEAK_TIMEOUT_MS = 60_000;
const RULES = { code_blocks: "announce", links: "text", math: "formula" } as const;

// CRLF line ends, an emoji before a sentence (UTF-16 vs code points), a link and a code block.
const NOTE = [
  "# Shopping 😀",
  "",
  "Hello from VS Code. It reads 😀 [notes](https://example.com) aloud.",
  "",
  "```js",
  "let x = 1;",
  "```",
  "",
].join("\r\n");

let daemon: ChildProcess | null = null;
let home = "";

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopDaemon(): Promise<void> {
  const child = daemon;
  daemon = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(t);
}

after(async () => {
  await stopDaemon();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** RMS and peak of 16-bit PCM in [0, 1]: real speech is clearly above silence. */
function levels(wav: Uint8Array): { rms: number; peak: number } {
  const info = parseWav(wav);
  const v = new DataView(wav.buffer, wav.byteOffset + info.dataOffset, info.dataLength - (info.dataLength % 2));
  let sum = 0;
  let peak = 0;
  const n = v.byteLength / 2;
  for (let i = 0; i < n; i++) {
    const x = v.getInt16(i * 2, true) / 32768;
    sum += x * x;
    peak = Math.max(peak, Math.abs(x));
  }
  return { rms: Math.sqrt(sum / Math.max(1, n)), peak };
}

/** Checks that every sentence's offsets are inside the note and the ones we can recognise slice right. */
function checkOffsets(sentences: Sentence[], where: string): void {
  assert.ok(sentences.length >= 2, `${where}: at least two sentences: ${JSON.stringify(sentences)}`);
  for (const s of sentences) {
    assert.ok(s.start >= 0 && s.end <= NOTE.length && s.start < s.end, `${where}: offsets inside the note: ${JSON.stringify(s)}`);
  }
  const hello = sentences.find((s) => /hello/i.test(s.text));
  assert.ok(hello, `${where}: the paragraph's first sentence is there`);
  const [a, b] = snapRange(NOTE, hello.start, hello.end);
  assert.match(NOTE.slice(a, b), /^Hello from VS Code/);
  const after = sentences.find((s) => /aloud/i.test(s.text));
  assert.ok(after, `${where}: the sentence after the emoji is there`);
  // Code point offsets would end one unit short after "😀": the slice must still end with "aloud.".
  const [c, d] = snapRange(NOTE, after.start, after.end);
  assert.match(NOTE.slice(c, d), /aloud\.$/);
  // And VS Code's positionAt puts it on line 3 (CRLF counted as one line break).
  const doc = new MockTextDocument(Uri.file("/note.md"), "markdown", NOTE);
  assert.equal(doc.positionAt(c).line, 2);
}

/** A player that "plays" each sentence for its WAV's duration (the extension host has no speakers either). */
class TimedPlayer implements WebviewPlayer {
  readonly wavs: Array<{ index: number; text: string; wav: Uint8Array }> = [];
  private listeners = new Set<(e: PlayerEvent) => void>();
  private chain = Promise.resolve();
  begin(): void {}
  enqueue(index: number, text: string, wav: Uint8Array): void {
    this.wavs.push({ index, text, wav });
    const seconds = parseWav(wav).duration;
    this.chain = this.chain.then(async () => {
      this.emit({ type: "playing", index });
      await sleep(Math.min(200, seconds * 50)); // a fraction of real time keeps the test short
      this.emit({ type: "ended", index });
    });
  }
  finish(): void {}
  stop(): void {}
  onEvent(l: (e: PlayerEvent) => void) {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }
  private emit(e: PlayerEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

test("the extension reads a Markdown note with the real daemon", { timeout: 900_000 }, async (t) => {
  rmSync(OUT, { recursive: true, force: true });
  if (!existsSync(BIN)) {
    const why = `ownvoice binary not found at ${BIN} (set OWNVOICE_BIN, or run \`make venv\` in ${REPO})`;
    console.error(`e2e skipped: ${why}`);
    t.skip(why);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  home = mkdtempSync(join(tmpdir(), "ownvoice-vscode-e2e-"));
  const notePath = join(home, "note.md");
  writeFileSync(notePath, NOTE);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logPath = join(OUT, "daemon.log");
  const log = createWriteStream(logPath);
  const started = Date.now();
  daemon = spawn(BIN, ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    env: { ...process.env, OWNVOICE_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  daemon.stdout!.pipe(log);
  daemon.stderr!.pipe(log);
  const tail = () => (existsSync(logPath) ? readFileSync(logPath, "utf8").slice(-3000) : "");

  // ---- the token where the extension looks for it with OWNVOICE_HOME set, then GET /api/status ------------
  const candidates = tokenFileCandidates({ platform: process.platform, env: { OWNVOICE_HOME: home }, home: "/nonexistent" });
  assert.deepEqual(candidates, [join(home, "config", "token")]);
  const getToken = async () => {
    const found = await findToken(candidates);
    if (!found) throw new Error("no token yet");
    return { token: found.token, source: found.file };
  };
  const client = new OwnvoiceClient({ baseUrl, getToken, timeoutMs: SPEAK_TIMEOUT_MS });
  for (;;) {
    if (daemon.exitCode !== null) assert.fail(`\`ownvoice serve\` exited with ${daemon.exitCode} before answering:\n${tail()}`);
    if (Date.now() - started > START_TIMEOUT_MS) assert.fail(`the daemon did not answer within ${START_TIMEOUT_MS / 1000} s:\n${tail()}`);
    try {
      await client.status();
      break;
    } catch (err) {
      if (!(err instanceof DaemonDown) && !(err instanceof Error && err.message === "no token yet")) throw err;
    }
    await sleep(250);
  }
  const startup = (Date.now() - started) / 1000;
  const status = await client.status();
  assert.equal(typeof status.version, "string");
  if (status.paths?.token_file) assert.equal(resolve(status.paths.token_file), resolve(candidates[0]));
  // The model: loading (a fresh models folder is converted first, about a minute; `make test` shares
  // pytest's copy), then ready. The reader waits for this too; waiting here keeps the timings below honest.
  let model = status.model;
  while (model?.state === "loading") {
    if (Date.now() - started > MODEL_TIMEOUT_MS) assert.fail(`the model was not ready within ${MODEL_TIMEOUT_MS / 1000} s:\n${tail()}`);
    await sleep(500);
    model = (await client.status()).model;
  }
  assert.equal(model?.state, "ready", `model loaded: ${JSON.stringify(model)}\n${tail()}`);
  const modelReady = (Date.now() - started) / 1000;
  const voices = await client.voices();
  assert.ok(voices.voices.some((v) => v.id === "default"), "the default voice can be chosen");

  // ---- script: UTF-16 offsets into the note, Markdown rules applied ---------------------------------------
  const script = await client.script(NOTE, true, RULES);
  checkOffsets(script, "/api/script");
  assert.ok(!script.some((s) => /https?:|```|let x/.test(s.text)), `links read as text, code announced: ${JSON.stringify(script)}`);

  // ---- POST /api/play: daemon-side playback, or 409 without an audio device -------------------------------
  const timings: Record<string, number | string> = { startup, model_ready_s: modelReady };
  const p0 = Date.now();
  let mode: "daemon" | "webview";
  try {
    const played = await client.play({ text: NOTE, voice: "default", speed: 1, markdown: true, rules: RULES });
    mode = "daemon";
    timings.play_request_s = (Date.now() - p0) / 1000;
    assert.ok(played.playbackId, "a playback id");
    checkOffsets(played.sentences, "/api/play");
    const timed = played.sentences.filter((s) => s.t0 !== undefined);
    assert.equal(timed.length, played.sentences.length, "every sentence has t0/t1");
    for (let i = 1; i < timed.length; i++) assert.ok(timed[i].t0! >= timed[i - 1].t1! - 1e-6, "timings in order");
    const seen = new Set<number>();
    let state = await client.playback();
    for (let i = 0; i < 300 && state.state === "playing"; i++) {
      if (state.playbackId) assert.equal(state.playbackId, played.playbackId);
      if (state.sentenceIndex !== undefined) seen.add(state.sentenceIndex);
      if (seen.size >= 2) break;
      await sleep(200);
      state = await client.playback();
    }
    timings.sentences_seen_playing = [...seen].join(",");
    await client.stop();
    assert.equal((await client.playback()).state, "idle", "stopped");
  } catch (err) {
    if (!(err instanceof NoAudioDevice)) throw err;
    mode = "webview";
    timings.play_409 = err.detail;
    t.diagnostic(`no audio device on this machine (409: ${err.detail}); checking the webview path`);
  }
  timings.mode = mode;

  // ---- the webview path: the extension's reader, /api/script + /api/speak per sentence --------------------
  const player = new TimedPlayer();
  const highlighted: Span[] = [];
  const reader = new Reader({
    client: () => client,
    player: () => player,
    listener: { sentence: (s) => s && highlighted.push(s), state: () => {}, fellBack: () => {} },
  });
  const r0 = Date.now();
  await reader.read({
    text: NOTE,
    base: 0,
    markdown: true,
    voice: "default",
    speed: 1,
    rules: RULES,
    playback: "webview",
    documentKey: Uri.file(notePath).toString(),
  });
  timings.webview_reading_s = (Date.now() - r0) / 1000;
  assert.equal(player.wavs.length, script.length, "one WAV per sentence of the script");
  let audioSeconds = 0;
  player.wavs.forEach(({ wav, text }, i) => {
    const info = parseWav(wav);
    assert.equal(info.sampleRate, 24000, "24 kHz");
    assert.equal(info.channels, 1, "mono");
    assert.equal(info.bitsPerSample, 16, "16-bit");
    const words = text.split(/\s+/).filter(Boolean).length;
    assert.ok(info.duration > 0.1 * words && info.duration < 1.2 * words + 1.5, `${info.duration.toFixed(2)} s is plausible for "${text}"`);
    const { rms, peak } = levels(wav);
    assert.ok(rms > 0.005 && peak > 0.05, `audible speech for "${text}" (rms ${rms.toFixed(4)}, peak ${peak.toFixed(3)})`);
    audioSeconds += info.duration;
    writeFileSync(join(OUT, `sentence-${i}.wav`), wav);
  });
  timings.audio_s = audioSeconds;
  const uniqueHighlights = [...new Map(highlighted.map((s) => [s.index, s])).values()];
  assert.equal(uniqueHighlights.length, script.length, "every sentence was highlighted while it played");
  for (const s of uniqueHighlights) assert.ok(NOTE.slice(s.start, s.end).trim().length > 0);

  // ---- /api/speak with X-Ownvoice-Duration; a cached replay is fast ---------------------------------------
  const hello = script.find((s) => /hello/i.test(s.text))!;
  const c0 = Date.now();
  const again = await client.speakWav({ text: hello.text, lang: hello.lang, voice: "default", speed: 1 });
  timings.cached_replay_s = (Date.now() - c0) / 1000;
  assert.ok(Math.abs(again.duration - again.info.duration) < 0.1, "X-Ownvoice-Duration matches the WAV");
  assert.ok((timings.cached_replay_s as number) < 5, `cached replay took ${timings.cached_replay_s} s`);

  // ---- errors the extension turns into messages -------------------------------------------------------------
  await assert.rejects(client.speakWav({ text: "Hello.", voice: "no-such-voice-e2e" }), UnknownVoice);
  const wrong = new OwnvoiceClient({ baseUrl, getToken: async () => ({ token: "not-the-token", source: "test" }) });
  await assert.rejects(wrong.status(), Unauthorized);

  writeFileSync(join(OUT, "timings.json"), JSON.stringify(timings, null, 2));
  for (const [k, v] of Object.entries(timings)) t.diagnostic(`${k}: ${typeof v === "number" ? v.toFixed(2) : v}`);

  // ---- daemon gone: the extension says it is not running ---------------------------------------------------
  await stopDaemon();
  await assert.rejects(client.status(), DaemonDown);
});
