// The webview player: a VS Code panel whose page plays sentence WAVs with an <audio> element (the extension
// host itself cannot make sound). Strict CSP with a nonce; the first sentence may need a click on "Play"
// (autoplay rules), the following ones then play on their own.

import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { PlayerEvent, WebviewPlayer } from "./playback";

/** Messages from the extension to the page. */
export type ToPage =
  | { type: "begin"; total: number; title: string }
  | { type: "sentence"; index: number; text: string; wav: string }
  | { type: "finish" }
  | { type: "stop" };

export function makeNonce(): string {
  return randomBytes(18).toString("base64").replace(/[+/=]/g, (c) => ({ "+": "A", "/": "B", "=": "" })[c] ?? "");
}

/** The player page. Only the nonce'd script and style run; audio comes from blob: URLs made in the page. */
export function playerHtml(nonce: string, cspSource: string): string {
  const csp = [
    "default-src 'none'",
    "media-src blob:",
    `img-src ${cspSource}`,
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ownvoice player</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family, system-ui, sans-serif); color: var(--vscode-foreground, #ccc); background: var(--vscode-editor-background, #1e1e1e); padding: 1em 1.5em; }
  .row { display: flex; gap: .5em; align-items: center; margin: .75em 0; }
  button { background: var(--vscode-button-background, #0e639c); color: var(--vscode-button-foreground, #fff);
           border: none; padding: .4em 1em; cursor: pointer; font-size: 1em; }
  button:hover { background: var(--vscode-button-hoverBackground, #1177bb); }
  button.secondary { background: var(--vscode-button-secondaryBackground, #3a3d41); color: var(--vscode-button-secondaryForeground, #fff); }
  button.attention { outline: 2px solid var(--vscode-focusBorder, #007fd4); }
  #sentence { font-size: 1.15em; line-height: 1.5; min-height: 3em; }
  #status { opacity: .8; }
  audio { width: 100%; }
</style>
</head>
<body>
<h2 id="title">ownvoice</h2>
<div class="row">
  <button id="play" title="Play or pause">Play</button>
  <button id="stop" class="secondary" title="Stop reading">Stop</button>
  <span id="status">Waiting for text…</span>
</div>
<p id="sentence"></p>
<audio id="audio" controls preload="auto"></audio>
<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  const audio = document.getElementById("audio");
  const play = document.getElementById("play");
  const stopBtn = document.getElementById("stop");
  const status = document.getElementById("status");
  const sentence = document.getElementById("sentence");
  const title = document.getElementById("title");
  let queue = [];
  let current = null;
  let total = 0;
  let finished = false;
  let lastProgress = 0;
  let received = 0;

  function post(m) { vscode.postMessage(m); }
  function setStatus(t) { status.textContent = t; }
  function toUrl(b64) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return URL.createObjectURL(new Blob([bytes], { type: "audio/wav" }));
  }
  function release(item) { if (item) URL.revokeObjectURL(item.url); }
  function reset() {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    release(current);
    queue.forEach(release);
    queue = [];
    current = null;
    finished = false;
    received = 0;
    sentence.textContent = "";
    play.textContent = "Play";
    play.classList.remove("attention");
  }
  function start() {
    // Autoplay may be refused until the user has clicked once in this page: then the Play button asks for it.
    audio.play().then(function () {
      play.classList.remove("attention");
      if (current) setStatus(label(current));
    }).catch(function (err) {
      if (err && err.name === "NotAllowedError") {
        setStatus("Press Play to start");
        play.textContent = "Play";
        play.classList.add("attention");
        play.focus();
      } else if (current) {
        post({ type: "error", index: current.index, message: String(err && err.message || err) });
      }
    });
  }
  function label(item) {
    return "Sentence " + (item.position + 1) + (total ? " of " + total : "");
  }
  function next() {
    release(current);
    current = queue.shift() || null;
    if (!current) {
      if (finished) { setStatus("Done"); post({ type: "waiting" }); }
      else { setStatus("Waiting for the next sentence…"); post({ type: "waiting" }); }
      return;
    }
    sentence.textContent = current.text;
    setStatus(label(current));
    audio.src = current.url;
    start();
  }

  window.addEventListener("message", function (event) {
    const m = event.data || {};
    if (m.type === "begin") {
      reset();
      total = m.total || 0;
      title.textContent = m.title || "ownvoice";
      setStatus("Preparing…");
    } else if (m.type === "sentence") {
      queue.push({ index: m.index, position: received++, text: m.text, url: toUrl(m.wav) });
      if (!current) next();
    } else if (m.type === "finish") {
      finished = true;
      if (!current && queue.length === 0) setStatus("Done");
    } else if (m.type === "stop") {
      reset();
      setStatus("Stopped");
    }
  });

  audio.addEventListener("playing", function () {
    if (current) post({ type: "playing", index: current.index });
    play.textContent = "Pause";
  });
  audio.addEventListener("pause", function () { play.textContent = "Play"; });
  audio.addEventListener("timeupdate", function () {
    const now = Date.now();
    if (current && now - lastProgress > 200) {
      lastProgress = now;
      post({ type: "progress", index: current.index, time: audio.currentTime });
    }
  });
  audio.addEventListener("ended", function () {
    if (current) post({ type: "ended", index: current.index });
    next();
  });
  audio.addEventListener("error", function () {
    if (!current) return;
    const e = audio.error;
    post({ type: "error", index: current.index, message: e ? "media error " + e.code + (e.message ? ": " + e.message : "") : "media error" });
  });
  play.addEventListener("click", function () {
    if (!current) return;
    if (audio.paused) start(); else audio.pause();
  });
  stopBtn.addEventListener("click", function () {
    reset();
    setStatus("Stopped");
    post({ type: "stop" });
  });
  post({ type: "ready" });
}());
</script>
</body>
</html>`;
}

/** WebviewPlayer on a VS Code webview panel; the panel is created on first use and again after it is closed. */
export class PanelPlayer implements WebviewPlayer, vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private pending: ToPage[] = [];
  private readonly listeners = new Set<(e: PlayerEvent) => void>();
  private readonly disposables: vscode.Disposable[] = [];

  begin(total: number, title: string): void {
    const panel = this.ensurePanel();
    panel.reveal(vscode.ViewColumn.Beside, true);
    this.pending = []; // anything not yet delivered belongs to a previous reading
    this.post({ type: "begin", total, title });
  }

  enqueue(index: number, text: string, wav: Uint8Array): void {
    this.post({ type: "sentence", index, text, wav: Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength).toString("base64") });
  }

  finish(): void {
    this.post({ type: "finish" });
  }

  stop(): void {
    if (!this.panel) return;
    this.pending = [];
    this.post({ type: "stop" });
  }

  onEvent(listener: (event: PlayerEvent) => void): vscode.Disposable {
    this.listeners.add(listener);
    return new vscode.Disposable(() => this.listeners.delete(listener));
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
    this.disposables.length = 0;
  }

  private emit(event: PlayerEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  private post(message: ToPage): void {
    if (!this.panel) return;
    // The page posts "ready" once its script runs; messages sent before that could be lost.
    if (!this.ready) {
      this.pending.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  private ensurePanel(): vscode.WebviewPanel {
    if (this.panel) return this.panel;
    const panel = vscode.window.createWebviewPanel(
      "ownvoice.player",
      "ownvoice player",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [] },
    );
    this.panel = panel;
    this.ready = false;
    panel.webview.html = playerHtml(makeNonce(), panel.webview.cspSource);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        this.pending = [];
        this.emit({ type: "closed" });
      }),
    );
    return panel;
  }

  private receive(raw: unknown): void {
    if (!raw || typeof raw !== "object") return;
    const m = raw as Record<string, unknown>;
    const index = typeof m.index === "number" ? m.index : -1;
    switch (m.type) {
      case "ready": {
        this.ready = true;
        const queued = this.pending;
        this.pending = [];
        for (const q of queued) this.post(q);
        return;
      }
      case "playing":
        return this.emit({ type: "playing", index });
      case "progress":
        return this.emit({ type: "progress", index, time: typeof m.time === "number" ? m.time : 0 });
      case "ended":
        return this.emit({ type: "ended", index });
      case "waiting":
        return this.emit({ type: "waiting" });
      case "stop":
        return this.emit({ type: "stop" });
      case "error":
        return this.emit({ type: "error", index, message: typeof m.message === "string" ? m.message : "unknown error" });
    }
  }
}
