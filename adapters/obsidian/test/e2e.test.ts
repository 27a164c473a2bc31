// End to end: the plugin's client (src/client.ts) against the real ownvoice daemon on 127.0.0.1.
// Starts `ownvoice serve` with OWNVOICE_HOME in a temp dir, reads the token it writes, scripts and speaks a
// short note with the default voice, checks the audio, uploads recordings for training (then cancels),
// and stops the daemon. Skips only when the ownvoice binary is missing. Saves the audio for browser.test.ts.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { OwnvoiceClient, type ScriptSentence } from "../src/client";
import { DaemonDown, NotFound, Unauthorized } from "../src/errors";
import { waitForModel } from "../src/reader";
import { parseWav } from "../src/wav";
import { nodeTransport } from "./support/node-transport";

const ADAPTER = process.env.OWNVOICE_ADAPTER_DIR ?? process.cwd();
const REPO = resolve(ADAPTER, "..", "..");
const BIN = process.env.OWNVOICE_BIN || join(REPO, ".venv", "bin", "ownvoice");
const SPEECH = resolve(REPO, "..", "shared", "speech");
const OUT = join(ADAPTER, "build", "e2e");
/** Synthesis runs at about real time on a 2-core machine; a model load comes first. */
const START_TIMEOUT_MS = 120_000;
const SPEAK_TIMEOUT_MS = 60_000;

const NOTE = "# Trying ownvoice\n\nHello from the Obsidian plugin. It reads 😀 notes aloud, one sentence at a time.\n";

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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

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

/** Speech energy of 16-bit PCM: RMS and peak in [0, 1]. */
function levels(wav: ArrayBuffer): { rms: number; peak: number } {
  const info = parseWav(wav);
  const v = new DataView(wav, info.dataOffset, info.dataLength - (info.dataLength % 2));
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

/** Two short LJ Speech clips with their transcripts from the shared corpus, or none. */
function corpusClips(): Array<{ path: string; transcript: string }> {
  const manifest = join(SPEECH, "MANIFEST.tsv");
  if (!existsSync(manifest)) return [];
  const rows = readFileSync(manifest, "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t"));
  return rows
    .filter((r) => r[1] === "ljspeech" && r[5])
    .slice(0, 2)
    .map((r) => ({ path: join(SPEECH, r[0]), transcript: r[5] }));
}

test("the plugin's client reads a note with the real daemon", { timeout: 600_000 }, async (t) => {
  // Audio of an earlier run must not stand in for this one in the browser test.
  rmSync(OUT, { recursive: true, force: true });
  if (!existsSync(BIN)) {
    const why = `ownvoice binary not found at ${BIN} (set OWNVOICE_BIN, or run \`make venv\` in ${REPO})`;
    console.error(`e2e skipped: ${why}`);
    t.skip(why);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  home = mkdtempSync(join(tmpdir(), "ownvoice-e2e-"));
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

  // ---- wait for the daemon: token file, then GET /api/status ---------------------------------------------
  const tokenFile = join(home, "config", "token");
  const readToken = async () => readFileSync(tokenFile, "utf8").trim();
  let client: OwnvoiceClient | null = null;
  for (;;) {
    if (daemon.exitCode !== null) {
      assert.fail(`\`ownvoice serve\` exited with ${daemon.exitCode} before answering:\n${tail()}`);
    }
    if (Date.now() - started > START_TIMEOUT_MS) assert.fail(`the daemon did not answer within ${START_TIMEOUT_MS / 1000} s:\n${tail()}`);
    if (existsSync(tokenFile)) {
      client ??= new OwnvoiceClient({
        baseUrl,
        getToken: readToken,
        transport: nodeTransport,
        speakTimeoutMs: 2 * SPEAK_TIMEOUT_MS,
        tokenSource: () => tokenFile,
      });
      try {
        await client.status();
        break;
      } catch (err) {
        if (!(err instanceof DaemonDown)) throw err;
      }
    }
    await sleep(250);
  }
  const startup = (Date.now() - started) / 1000;
  const status = await client.status();
  assert.equal(typeof status.version, "string");
  if (status.paths?.token_file) assert.equal(resolve(status.paths.token_file), resolve(tokenFile));

  // ---- the model: what the plugin waits for before its first reading --------------------------------------
  // (a fresh models folder is converted first: about a minute; `make test` shares pytest's copy)
  let loadingSeen = false;
  assert.equal(await waitForModel(client, { onLoading: () => (loadingSeen = true) }), true);
  const model = (await client.status()).model;
  assert.equal(model?.state, "ready", `model loaded: ${JSON.stringify(model)}\n${tail()}`);
  const modelReady = (Date.now() - started) / 1000;
  t.diagnostic(`model ready after ${modelReady.toFixed(1)} s (loading took ${model?.seconds} s; waited: ${loadingSeen})`);

  // ---- voices ----------------------------------------------------------------------------------------------
  const voices = await client.voices();
  assert.ok(voices.voices.length > 0, "at least one voice");
  assert.ok(voices.voices.some((v) => v.id === "default"), "the default voice can be chosen");
  // "default" is what a fresh plugin sends; the daemon resolves it to its configured default voice.
  const voice = "default";

  // ---- script: UTF-16 offsets into the note -------------------------------------------------------------
  const sentences = await client.script(NOTE, { code_blocks: "announce", links: "text", math: "formula", heading_pause: true });
  assert.ok(sentences.length >= 2, `at least two sentences: ${JSON.stringify(sentences)}`);
  for (const s of sentences) {
    assert.ok(s.start >= 0 && s.end <= NOTE.length && s.start < s.end, `offsets inside the note: ${JSON.stringify(s)}`);
  }
  const hello = sentences.find((s) => /hello/i.test(s.text))!;
  assert.ok(hello, "the first paragraph's sentence is there");
  assert.match(NOTE.slice(hello.start, hello.end), /^Hello from the Obsidian plugin/);
  const emojiSentence = sentences.find((s) => /notes aloud/i.test(s.text))!;
  assert.ok(emojiSentence, "the sentence after the emoji is there");
  // After an emoji, code point offsets would be one short: the slice must still end on the full stop.
  assert.match(NOTE.slice(emojiSentence.start, emojiSentence.end), /one sentence at a time\.$/);

  // ---- speak: one WAV per sentence, as the player fetches them --------------------------------------------
  const timings: Array<{ index: number; text: string; seconds: number; audio: number }> = [];
  const spoken: Array<ScriptSentence & { file: string }> = [];
  for (const s of sentences.filter((x) => x === hello || x === emojiSentence)) {
    const t0 = Date.now();
    const audio = await client.speak({ text: s.text, voice, lang: s.lang, speed: 1 });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(audio.info.sampleRate, 24000, "24 kHz");
    assert.equal(audio.info.channels, 1, "mono");
    assert.equal(audio.info.bitsPerSample, 16, "16-bit");
    assert.ok(Math.abs(audio.duration - audio.info.duration) < 0.1, "X-Ownvoice-Duration matches the WAV");
    const words = s.text.split(/\s+/).filter(Boolean).length;
    assert.ok(
      audio.info.duration > 0.12 * words && audio.info.duration < 1.2 * words + 1.5,
      `${audio.info.duration.toFixed(2)} s is plausible for ${words} words`,
    );
    const { rms, peak } = levels(audio.wav);
    assert.ok(rms > 0.005 && peak > 0.05, `audible speech (rms ${rms.toFixed(4)}, peak ${peak.toFixed(3)})`);
    const limit = SPEAK_TIMEOUT_MS / 1000;
    assert.ok(seconds < limit, `synthesis took ${seconds} s (limit ${limit} s)`);
    timings.push({ index: s.index, text: s.text, seconds, audio: audio.info.duration });
    const file = join(OUT, `sentence-${spoken.length}.wav`);
    writeFileSync(file, new Uint8Array(audio.wav));
    spoken.push({ ...s, file });
  }
  // Sentence audio is cached by the daemon: a replay is much faster than the first synthesis.
  const r0 = Date.now();
  await client.speak({ text: hello.text, voice, lang: hello.lang, speed: 1 });
  const replay = (Date.now() - r0) / 1000;
  assert.ok(replay < timings[0].seconds * 0.5 + 0.5, `cached replay took ${replay} s (first: ${timings[0].seconds} s)`);
  writeFileSync(join(OUT, "script.json"), JSON.stringify({ note: NOTE, sentences: spoken }, null, 2));
  writeFileSync(join(OUT, "timings.json"), JSON.stringify({ startup, modelReady, timings, replay }, null, 2));
  t.diagnostic(`daemon ready after ${startup.toFixed(1)} s`);
  for (const x of timings) {
    t.diagnostic(`speak "${x.text}": ${x.seconds.toFixed(2)} s for ${x.audio.toFixed(2)} s of audio (RTF ${(x.seconds / x.audio).toFixed(2)})`);
  }
  t.diagnostic(`cached replay: ${replay.toFixed(3)} s`);

  // ---- errors the plugin turns into notices ------------------------------------------------------------
  await assert.rejects(client.speak({ text: "Hello.", voice: "no-such-voice-e2e" }), NotFound);
  const wrong = new OwnvoiceClient({ baseUrl, getToken: async () => "not-the-token", transport: nodeTransport });
  await assert.rejects(wrong.status(), Unauthorized);

  // ---- training upload (multipart through the daemon's real parser), then cancel ------------------------
  const clips = corpusClips();
  if (clips.length === 0) {
    t.diagnostic(`training upload not checked: no speech corpus at ${SPEECH}`);
  } else {
    const files = clips.flatMap((c, i) => [
      { filename: `clip${i}.wav`, data: new Uint8Array(readFileSync(c.path)).buffer },
      { filename: `clip${i}.txt`, data: new TextEncoder().encode(c.transcript.toLowerCase()).buffer as ArrayBuffer },
    ]);
    const jobId = await client.trainVoice({
      name: "e2e plugin voice",
      consent: "LJ Speech is public domain; this is an automated test of the upload.",
      lang: "en",
      files,
    });
    const job = await client.job(jobId);
    assert.ok(["queued", "running", "done", "failed", "cancelled"].includes(job.state), job.state);
    // A job that already ended (e.g. training unavailable in this build) answers 409 to cancel.
    let alreadyEnded = false;
    try {
      await client.cancelJob(jobId);
    } catch (e) {
      if ((e as { status?: number }).status !== 409) throw e;
      alreadyEnded = true;
    }
    let final = await client.job(jobId);
    for (let i = 0; i < 120 && !["cancelled", "failed", "done"].includes(final.state); i++) {
      await sleep(500);
      final = await client.job(jobId);
    }
    if (alreadyEnded) {
      assert.ok(["failed", "done"].includes(final.state), JSON.stringify(final));
      if (final.state === "failed") assert.ok((final.message ?? "").length > 0, "a failed job says why");
    } else {
      assert.equal(final.state, "cancelled", `cancelled job ends cancelled: ${JSON.stringify(final)}`);
    }
  }

  // ---- daemon gone: the client says how to start it -----------------------------------------------------
  await stopDaemon();
  await assert.rejects(client.status(), DaemonDown);
});
