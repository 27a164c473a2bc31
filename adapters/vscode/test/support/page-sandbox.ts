// Runs the webview player page's own script (from playerHtml) in a Node vm with a minimal DOM, so tests drive
// the real page logic: messages in, <audio> events, Play/Stop clicks, messages out. The <audio> element here
// does not make sound; tests (or `autoEnd`) decide when a sentence has finished.

import { runInNewContext } from "node:vm";

type Handler = (ev: any) => void;

class FakeElement {
  textContent = "";
  private handlers = new Map<string, Handler[]>();
  readonly classes = new Set<string>();
  readonly classList = {
    add: (c: string) => this.classes.add(c),
    remove: (c: string) => this.classes.delete(c),
    contains: (c: string) => this.classes.has(c),
  };
  focused = false;
  constructor(readonly id: string) {}
  addEventListener(type: string, h: Handler): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), h]);
  }
  dispatch(type: string, ev: any = {}): void {
    for (const h of this.handlers.get(type) ?? []) h(ev);
  }
  focus(): void {
    this.focused = true;
  }
  click(): void {
    this.dispatch("click");
  }
}

class FakeAudio extends FakeElement {
  src = "";
  paused = true;
  currentTime = 0;
  error: { code: number; message: string } | null = null;
  /** Until the page has been clicked once, play() is refused like Chromium's autoplay policy does. */
  autoplayAllowed = true;
  userActivated = false;
  plays = 0;
  play(): Promise<void> {
    if (!this.autoplayAllowed && !this.userActivated) {
      const err = new Error("play() failed because the user didn't interact with the document first.");
      err.name = "NotAllowedError";
      return Promise.reject(err);
    }
    this.plays++;
    this.paused = false;
    queueMicrotask(() => this.dispatch("playing"));
    return Promise.resolve();
  }
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.dispatch("pause");
  }
  load(): void {}
  removeAttribute(name: string): void {
    if (name === "src") this.src = "";
  }
  /** The current sentence played to its end. */
  finish(): void {
    this.currentTime = 1;
    this.dispatch("timeupdate");
    this.paused = true;
    this.dispatch("ended");
  }
}

export class PageSandbox {
  readonly elements = new Map<string, FakeElement>();
  readonly audio = new FakeAudio("audio");
  readonly posted: any[] = [];
  readonly urls = new Set<string>();
  private messageHandlers: Handler[] = [];
  private nextUrl = 1;
  /** Called for every message the page posts to the extension. */
  onPost: (m: any) => void = () => {};

  constructor(html: string) {
    const m = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html);
    if (!m) throw new Error("no nonce'd script in the page");
    for (const id of ["play", "stop", "status", "sentence", "title"]) this.elements.set(id, new FakeElement(id));
    this.elements.set("audio", this.audio);
    const sandbox = {
      acquireVsCodeApi: () => ({
        postMessage: (raw: any) => {
          // Messages cross to the extension serialized, as in VS Code.
          const msg = JSON.parse(JSON.stringify(raw));
          this.posted.push(msg);
          this.onPost(msg);
        },
      }),
      document: { getElementById: (id: string) => this.elements.get(id) ?? null },
      window: { addEventListener: (type: string, h: Handler) => type === "message" && this.messageHandlers.push(h) },
      atob: (s: string) => Buffer.from(s, "base64").toString("latin1"),
      Blob: class {
        constructor(
          readonly parts: Uint8Array[],
          readonly options: { type: string },
        ) {}
      },
      URL: {
        createObjectURL: () => {
          const url = `blob:vscode-webview://page/${this.nextUrl++}`;
          this.urls.add(url);
          return url;
        },
        revokeObjectURL: (url: string) => this.urls.delete(url),
      },
      Uint8Array,
      Date,
      String,
      queueMicrotask,
    };
    runInNewContext(m[1], sandbox, { filename: "player-page.js" });
  }

  /** What the extension's webview.postMessage delivers to the page. */
  deliver(message: unknown): void {
    for (const h of this.messageHandlers) h({ data: message });
  }

  el(id: string): FakeElement {
    return this.elements.get(id)!;
  }

  /** The user clicks a button (this also counts as user activation for autoplay). */
  click(id: "play" | "stop"): void {
    this.audio.userActivated = true;
    this.el(id).click();
  }
}
