// The webview player page in a real browser engine (headless Chromium, VS Code's webviews are Chromium too):
// under its strict CSP, the page plays real speech WAVs from blob: URLs, asks for Play when autoplay is
// refused, then plays the next sentence by itself and reports playing/ended in order; Stop reaches the
// extension. Speech: the WAVs the real daemon made in e2e.test.ts, else a clip of ../shared/speech.
// Skips (with the reason) without Chromium, without a WebSocket client in Node, or without speech audio.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { parseWav } from "../src/wav";
import { makeNonce, playerHtml } from "../src/webview";

const ADAPTER = process.env.OWNVOICE_ADAPTER_DIR ?? process.cwd();
const REPO = resolve(ADAPTER, "..", "..");
const OUT = join(ADAPTER, "build", "e2e");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let chrome: ChildProcess | undefined;
let profile = "";
after(async () => {
  const c = chrome;
  if (c && c.exitCode === null && c.signalCode === null) {
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGKILL");
    await exited;
  }
  // Chromium's helper processes may still be writing the profile for a moment.
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Two real speech WAVs: the daemon's from the e2e run, else one corpus clip used twice. */
function speechWavs(): { files: string[]; from: string } | undefined {
  if (existsSync(OUT)) {
    const made = readdirSync(OUT).filter((f) => /^sentence-\d+\.wav$/.test(f)).sort().slice(0, 2);
    if (made.length === 2) return { files: made.map((f) => join(OUT, f)), from: "the ownvoice daemon (e2e run)" };
  }
  const speech = resolve(REPO, "..", "shared", "speech");
  const manifest = join(speech, "MANIFEST.tsv");
  if (!existsSync(manifest)) return undefined;
  const rows = readFileSync(manifest, "utf8").split("\n").slice(1).map((l) => l.split("\t"));
  const clip = rows.find((r) => r[2] === "en" && Number(r[3]) > 1 && Number(r[3]) < 4);
  return clip ? { files: [join(speech, clip[0]), join(speech, clip[0])], from: `shared/speech ${clip[0]}` } : undefined;
}

/** Minimal Chrome DevTools Protocol client over Node's WebSocket. */
class Cdp {
  private id = 0;
  private pending = new Map<number, (v: any) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String(e.data));
      const done = this.pending.get(m.id);
      if (done) {
        this.pending.delete(m.id);
        done(m.error ? Promise.reject(new Error(m.error.message)) : m.result);
      }
    });
  }
  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await new Promise((res, rej) => {
      ws.addEventListener("open", res, { once: true });
      ws.addEventListener("error", rej, { once: true });
    });
    return new Cdp(ws);
  }
  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = ++this.id;
    return new Promise((res) => {
      this.pending.set(id, res);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.text} ${r.exceptionDetails.exception?.description ?? ""}`);
    return r.result.value as T;
  }
  close(): void {
    this.ws.close();
  }
}

test("the player page plays real speech under its CSP in Chromium", { timeout: 120_000 }, async (t) => {
  const chromium = findChromium();
  const why = !chromium
    ? "no Chromium (install Debian's chromium, or set CHROMIUM)"
    : typeof WebSocket === "undefined"
      ? "Node has no WebSocket client (Node ≥ 22, or Node 20 with --experimental-websocket)"
      : undefined;
  const wavs = speechWavs();
  const skip = why ?? (wavs ? undefined : "no speech audio: neither build/e2e/sentence-*.wav nor ../shared/speech");
  if (skip) {
    console.error(`browser test skipped: ${skip}`);
    t.skip(skip);
    return;
  }
  t.diagnostic(`speech from ${wavs!.from}`);
  const durations = wavs!.files.map((f) => parseWav(new Uint8Array(readFileSync(f))).duration);

  // The page exactly as the extension makes it, plus a nonce'd stand-in for VS Code's acquireVsCodeApi.
  profile = mkdtempSync(join(tmpdir(), "ownvoice-player-"));
  const nonce = makeNonce();
  const shim = `<script nonce="${nonce}">
    window.__posted = [];
    window.__csp = [];
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))) });
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
  </script>`;
  const html = playerHtml(nonce, "https://file+.vscode-resource.vscode-cdn.net").replace("<style nonce", `${shim}<style nonce`);
  const pagePath = join(profile, "player.html");
  writeFileSync(pagePath, html);

  chrome = spawn(
    chromium!,
    ["--headless", "--no-sandbox", "--disable-gpu", "--mute-audio", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "--window-size=700,360", `file://${pagePath}`],
    { stdio: "ignore" },
  );
  let port = 0;
  for (let i = 0; i < 100 && !port; i++) {
    const f = join(profile, "DevToolsActivePort");
    if (existsSync(f)) port = Number(readFileSync(f, "utf8").split("\n")[0]);
    else await sleep(100);
  }
  assert.ok(port, "Chromium opened its DevTools port");
  let pageWs: string | undefined;
  for (let i = 0; i < 50 && !pageWs; i++) {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
    pageWs = targets.find((x) => x.type === "page")?.webSocketDebuggerUrl;
    if (!pageWs) await sleep(100);
  }
  const cdp = await Cdp.connect(pageWs!);
  const posted = () => cdp.eval<Array<{ type: string; index?: number }>>("window.__posted || []");
  const events = async () => (await posted()).filter((m) => m.type !== "progress").map((m) => (m.index === undefined ? m.type : `${m.type}:${m.index}`));
  const status = () => cdp.eval<string>(`document.getElementById("status")?.textContent ?? ""`);
  const waitFor = async (what: string, cond: () => Promise<boolean>, ms: number) => {
    const until = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > until) assert.fail(`${what} within ${ms} ms; page said ${JSON.stringify(await events())}, status "${await status()}"`);
      await sleep(100);
    }
  };
  try {
    await waitFor("the page loaded and said ready", async () => (await events()).includes("ready"), 10_000);
    const deliver = (m: unknown) => cdp.eval(`window.postMessage(${JSON.stringify(m)}, "*"), true`);
    await deliver({ type: "begin", total: 2, title: "note.md" });
    for (const [i, f] of wavs!.files.entries()) {
      await deliver({ type: "sentence", index: i, text: `Sentence ${i + 1}.`, wav: readFileSync(f).toString("base64") });
    }
    await deliver({ type: "finish" });

    // Chromium's autoplay policy: no click yet, so the page asks for Play instead of playing.
    await waitFor("the page asked for Play", async () => (await status()) === "Press Play to start", 5_000);
    assert.ok(!(await events()).includes("playing:0"));
    const at = await cdp.eval<[number, number]>(`(() => { const b = document.getElementById("play").getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await cdp.send("Input.dispatchMouseEvent", { type, x: at[0], y: at[1], button: "left", clickCount: 1 });
    }
    const t0 = Date.now();
    const total = durations[0] + durations[1];
    await waitFor("both sentences played", async () => (await events()).includes("ended:1"), total * 1000 + 15_000);
    const elapsed = (Date.now() - t0) / 1000;
    assert.deepEqual(await events(), ["ready", "playing:0", "ended:0", "playing:1", "ended:1", "waiting"]);
    // Real playback takes the audio's time (the second sentence started without another click).
    assert.ok(elapsed > total * 0.8, `played ${total.toFixed(2)} s of audio in ${elapsed.toFixed(2)} s`);
    const progress = (await posted()).filter((m) => m.type === "progress").length;
    assert.ok(progress >= 2, `progress reported while playing (${progress} messages)`);
    assert.equal(await status(), "Done");
    assert.deepEqual(await cdp.eval("window.__csp"), [], "no CSP violation");
    t.diagnostic(`played ${total.toFixed(2)} s of speech in ${elapsed.toFixed(2)} s`);

    // Stop from the page reaches the extension and empties the player.
    await deliver({ type: "begin", total: 1, title: "again" });
    await deliver({ type: "sentence", index: 0, text: "Again.", wav: readFileSync(wavs!.files[0]).toString("base64") });
    await waitFor("the next reading plays without a click", async () => (await events()).filter((e) => e === "playing:0").length === 2, 10_000);
    const stopAt = await cdp.eval<[number, number]>(`(() => { const b = document.getElementById("stop").getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await cdp.send("Input.dispatchMouseEvent", { type, x: stopAt[0], y: stopAt[1], button: "left", clickCount: 1 });
    }
    await waitFor("Stop was reported", async () => (await events()).at(-1) === "stop", 5_000);
    assert.equal(await cdp.eval<boolean>(`document.getElementById("audio").paused`), true);
    mkdirSync(OUT, { recursive: true });
    const shot = await cdp.send("Page.captureScreenshot", { format: "png" });
    writeFileSync(join(OUT, "player.png"), Buffer.from(shot.data, "base64"));
  } finally {
    cdp.close();
  }
});
