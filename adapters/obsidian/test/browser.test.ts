// Headless Chromium check of the player and the highlight: a real CodeMirror view and HTMLAudioElement
// playback of real WAVs (from the daemon's e2e run, $OWNVOICE_TEST_WAV, or the shared speech corpus).
// Saves build/e2e/screenshot.png while sentence 2 is highlighted (and refreshes docs/screenshot.png, the
// README's picture, with OWNVOICE_UPDATE_SCREENSHOT=1: a test run leaves the checkout as it was).

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { delimiter, join, resolve } from "node:path";
import { after, test } from "node:test";
import { parseWav, wavHeader } from "../src/wav";

const ADAPTER = process.env.OWNVOICE_ADAPTER_DIR ?? process.cwd();
const REPO = resolve(ADAPTER, "..", "..");
const SPEECH = resolve(REPO, "..", "shared", "speech");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const BUILD = join(ADAPTER, "build", "browser");

interface PageScript {
  title: string;
  source: string;
  note: string;
  voice: string;
  sentences: Array<{ text: string; start: number; end: number }>;
}

interface Material {
  script: PageScript;
  wavs: Buffer[];
  /** True when the audio is real speech (daemon or corpus), false for the generated fallback. */
  speech: boolean;
}

/** Builds a note from sentences, with their UTF-16 offsets as /api/script would give them. */
function noteOf(heading: string, texts: string[]): Pick<PageScript, "note" | "sentences"> {
  let note = `# ${heading}\n\n`;
  const sentences = texts.map((text) => {
    const start = note.length;
    note += text + " ";
    return { text, start, end: start + text.length };
  });
  return { note: note.trimEnd() + "\n", sentences };
}

/** A 440 Hz/660 Hz beep: only for the player's mechanics when no recording is available. */
function beep(seconds: number, hz: number): Buffer {
  const rate = 24000;
  const n = Math.round(seconds * rate);
  const out = Buffer.alloc(44 + n * 2);
  Buffer.from(wavHeader(rate, 1, 16, n * 2)).copy(out, 0);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2);
  return out;
}

function material(): Material {
  const env = process.env.OWNVOICE_TEST_WAV;
  if (env) {
    const files = env.split(delimiter).filter(Boolean);
    const wavs = files.map((f) => readFileSync(f));
    if (wavs.length === 1) wavs.push(wavs[0]);
    const texts = ["The first sentence is playing now.", "And this is the second sentence."];
    return {
      script: { title: "Test audio.md", source: `audio: ${files.join(", ")}`, voice: "test", ...noteOf("Test audio", texts) },
      wavs: wavs.slice(0, 2),
      speech: true,
    };
  }
  const e2e = join(ADAPTER, "build", "e2e", "script.json");
  if (existsSync(e2e)) {
    const saved = JSON.parse(readFileSync(e2e, "utf8")) as {
      note: string;
      sentences: Array<{ text: string; start: number; end: number; file: string }>;
    };
    if (saved.sentences.length >= 2 && saved.sentences.every((s) => existsSync(s.file))) {
      return {
        script: {
          title: "Trying ownvoice.md",
          source: "audio: ownvoice daemon (e2e run)",
          voice: "default",
          note: saved.note,
          sentences: saved.sentences.map(({ text, start, end }) => ({ text, start, end })),
        },
        wavs: saved.sentences.map((s) => readFileSync(s.file)),
        speech: true,
      };
    }
  }
  const manifest = join(SPEECH, "MANIFEST.tsv");
  if (existsSync(manifest)) {
    const rows = readFileSync(manifest, "utf8")
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split("\t"))
      .filter((r) => r[1] === "ljspeech" && r[5] && Number(r[3]) < 5)
      .sort((a, b) => Number(a[3]) - Number(b[3]))
      .slice(0, 2);
    if (rows.length === 2) {
      const texts = rows.map((r) => r[5]);
      return {
        script: { title: "LJ Speech.md", source: "audio: LJ Speech recordings (shared corpus)", voice: "ljspeech", ...noteOf("LJ Speech", texts) },
        wavs: rows.map((r) => readFileSync(join(SPEECH, r[0]))),
        speech: true,
      };
    }
  }
  console.error("browser check: no recording available, using generated beeps (player mechanics only)");
  return {
    script: { title: "Beeps.md", source: "audio: generated beeps", voice: "none", ...noteOf("Beeps", ["First beep.", "Second beep."]) },
    wavs: [beep(1, 440), beep(1, 660)],
    speech: false,
  };
}

async function bundlePage(): Promise<void> {
  mkdirSync(BUILD, { recursive: true });
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [join(ADAPTER, "test", "browser", "page.ts")],
    outfile: join(BUILD, "page.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    logLevel: "warning",
  });
}

function serve(m: Material): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, Buffer]> = {
    "/": ["text/html; charset=utf-8", readFileSync(join(ADAPTER, "test", "browser", "player.html"))],
    "/page.js": ["text/javascript; charset=utf-8", readFileSync(join(BUILD, "page.js"))],
    "/styles.css": ["text/css; charset=utf-8", readFileSync(join(ADAPTER, "styles.css"))],
    "/script.json": ["application/json", Buffer.from(JSON.stringify(m.script))],
  };
  m.wavs.forEach((w, i) => (files[`/audio/${i}.wav`] = ["audio/wav", w]));
  const server = createServer((req, res) => {
    const f = files[(req.url ?? "/").split("?")[0]];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": f[0], "Content-Length": f[1].length, "Cache-Control": "no-store" });
    res.end(f[1]);
  });
  return new Promise((res) => server.listen(0, "127.0.0.1", () => res({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

let cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

test("the player plays each sentence's audio in Chromium and the highlight moves from sentence 1 to 2", { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
    console.error(`browser check skipped: ${why}`);
    t.skip(why);
    return;
  }
  const m = material();
  t.diagnostic(m.script.source);
  const durations = m.wavs.map((w) => parseWav(new Uint8Array(w).buffer).duration);
  await bundlePage();
  const { server, url } = await serve(m);
  cleanup.push(() => new Promise((r) => server.close(() => r())));

  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
  });
  cleanup.push(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 960, height: 400 }, deviceScaleFactor: 1 });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => (window as any).__ownvoice?.ready === true, undefined, { timeout: 15_000 });

  type Rec = {
    events: Array<{ type: string; index?: number; value?: unknown; t: number; highlight?: string }>;
    clips: Array<{ index: number; duration: number; maxTime: number; playingAt: number; endedAt: number }>;
  };
  const rec = () => page.evaluate(() => (window as any).__ownvoice as Rec);
  const highlighted = () =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll(".ownvoice-current-sentence"))
        .map((e) => e.textContent)
        .join(""),
    );
  const expected = m.script.sentences.map((s) => m.script.note.slice(s.start, s.end));
  const total = durations.reduce((a, b) => a + b, 0);

  await page.click("#read");
  await page.waitForFunction(() => (window as any).__ownvoice.events.some((e: any) => e.type === "sentence" && e.index === 0), undefined, { timeout: 15_000 });
  assert.equal(await highlighted(), expected[0], "sentence 1 is highlighted while it plays");
  await page.waitForFunction(() => (window as any).__ownvoice.events.some((e: any) => e.type === "sentence" && e.index === 1), undefined, {
    timeout: (durations[0] + 15) * 1000,
  });
  assert.equal(await highlighted(), expected[1], "the highlight moved to sentence 2");
  await page.waitForTimeout(Math.min(800, durations[1] * 400));
  const folder = process.env.OWNVOICE_UPDATE_SCREENSHOT === "1" ? join(ADAPTER, "docs") : join(ADAPTER, "build", "e2e");
  const shot = join(folder, "screenshot.png");
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: shot });
  await page.waitForFunction(() => (window as any).__ownvoice.events.some((e: any) => e.type === "end"), undefined, {
    timeout: (total + 20) * 1000,
  });

  const r = await rec();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(r.events.filter((e) => e.type === "error"), []);
  assert.deepEqual(
    r.events.filter((e) => e.type === "sentence" || e.type === "end").map((e) => (e.type === "end" ? `end ${e.value}` : `sentence ${e.index}`)),
    ["sentence 0", "sentence 1", "end true"],
  );
  assert.deepEqual(
    r.events.filter((e) => e.type === "sentence").map((e) => e.highlight),
    expected,
    "each sentence was highlighted as its audio started",
  );
  // Prefetch: sentence 2's audio was requested before sentence 1 finished.
  const fetch1 = r.events.find((e) => e.type === "fetch" && e.index === 1)!;
  const play1 = r.events.find((e) => e.type === "sentence" && e.index === 1)!;
  assert.ok(fetch1.t < play1.t, "sentence 2 was fetched while sentence 1 played");
  // Real playback: each clip decoded to the WAV's duration and took about that long to play.
  assert.equal(r.clips.length, 2);
  for (const c of r.clips) {
    const d = durations[c.index];
    assert.ok(Math.abs(c.duration - d) < 0.06, `clip ${c.index}: element duration ${c.duration} vs WAV ${d}`);
    assert.ok(c.maxTime > d - 0.35, `clip ${c.index} played to ${c.maxTime} of ${d} s`);
    const wall = (c.endedAt - c.playingAt) / 1000;
    assert.ok(c.endedAt > 0 && wall > d * 0.8 && wall < d + 3, `clip ${c.index} took ${wall.toFixed(2)} s of wall time for ${d.toFixed(2)} s`);
  }
  assert.ok(statSync(shot).size > 5000, "screenshot saved");
  t.diagnostic(`played ${total.toFixed(2)} s of ${m.speech ? "speech" : "generated audio"}; screenshot: ${shot}`);
});
