// Plays a reading and reports which sentence is being spoken: daemon-side playback (POST /api/play, polled
// through GET /api/playback) or, when the daemon has no audio device or the user asks for it, a webview
// player fed one sentence WAV at a time (/api/script, then /api/speak per sentence, prefetching ahead).
// Independent of VS Code: the webview player and the clock are injected.

import type { OwnvoiceClient, Sentence } from "./client";
import type { PlaybackMode, ScriptRules } from "./config";
import { Busy, Cancelled, DaemonDown, NoAudioDevice, ProtocolError, ServerError, Timeout } from "./errors";
import { type Edit, firstSentenceFrom, type Span, sentenceAtTime, shiftSpans, toSpans } from "./highlight";

export interface ReadRequest {
  /** Text to read; offsets of the daemon's sentences are relative to it. */
  text: string;
  /** Document offset of `text[0]`. */
  base: number;
  /** Start with the first sentence ending after this offset into `text` (read from cursor); 0 = all. */
  from?: number;
  markdown: boolean;
  voice: string;
  speed: number;
  rules: ScriptRules;
  playback: PlaybackMode;
  /** Identifies the document, so edits of other documents are ignored. */
  documentKey: string;
  /** Shown in the player panel (the file's name). */
  title?: string;
}

/** What the webview reports (see webview.ts for the page that sends it). */
export type PlayerEvent =
  | { type: "playing"; index: number }
  | { type: "progress"; index: number; time: number }
  | { type: "ended"; index: number }
  | { type: "waiting" }
  | { type: "error"; index: number; message: string }
  | { type: "stop" }
  | { type: "closed" };

/** An audio player the extension host can feed: VS Code's webview panel in the extension. */
export interface WebviewPlayer {
  /** Shows the player, forgetting any previous reading. */
  begin(total: number, title: string): void;
  /** Queues one sentence's WAV; sentences arrive in order. */
  enqueue(index: number, text: string, wav: Uint8Array): void;
  /** No more sentences will come. */
  finish(): void;
  stop(): void;
  onEvent(listener: (event: PlayerEvent) => void): { dispose(): void };
}

/** "loading-model": the daemon is still loading its model (a minute on its first start after an install). */
export type ReaderState = "preparing" | "loading-model" | "playing" | "idle";

export interface ReaderListener {
  /** The span to highlight, or undefined to clear it. */
  sentence(span: Span | undefined, documentKey: string): void;
  state(state: ReaderState, mode: PlaybackMode | undefined): void;
  /** The daemon could not play (409): shown once, the session continues in the webview. */
  fellBack(reason: NoAudioDevice): void;
}

export interface ReaderOptions {
  client: () => OwnvoiceClient;
  player: () => WebviewPlayer;
  listener: ReaderListener;
  /** Poll interval for GET /api/playback. */
  pollMs?: number;
  /** How many sentence WAVs the webview may hold beyond the one playing. */
  prefetch?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
  log?: (line: string) => void;
}

/** Resolves after `ms`, or rejects with Cancelled when the signal fires first. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Cancelled());
    const done = () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const t = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Cancelled());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const MAX_BUSY_RETRIES = 10;
/** How long a reading waits for the daemon to load its model before giving up. */
export const MODEL_WAIT_MS = 10 * 60_000;
const MODEL_POLL_MS = 1000;
const MAX_POLL_FAILURES = 5;

interface Session {
  id: number;
  abort: AbortController;
  request: ReadRequest;
  mode: PlaybackMode;
  spans: Span[];
  current: number | undefined;
}

export class Reader {
  private session: Session | undefined;
  private nextId = 1;
  /** Set after a 409 from /api/play: this window plays in the webview until the setting changes. */
  private daemonCannotPlay = false;
  /** The daemon said its model is loaded; checked again after the daemon was down or slow (it may have restarted). */
  private modelReady = false;
  private readonly pollMs: number;
  private readonly prefetch: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: ReaderOptions) {
    this.pollMs = opts.pollMs ?? 200;
    this.prefetch = Math.max(1, opts.prefetch ?? 2);
    this.sleep = opts.sleep ?? abortableSleep;
    this.now = opts.now ?? Date.now;
  }

  get reading(): boolean {
    return this.session !== undefined;
  }

  /** The mode the current reading uses, if any. */
  get mode(): PlaybackMode | undefined {
    return this.session?.mode;
  }

  /** Forget the 409 fallback (the user changed `ownvoice.playback` or the daemon). */
  resetFallback(): void {
    this.daemonCannotPlay = false;
  }

  /**
   * Reads aloud until the end, Stop, or a new reading. Resolves when it ends (also when stopped);
   * rejects with the error that ended it otherwise.
   */
  async read(req: ReadRequest): Promise<void> {
    await this.stop();
    const session: Session = {
      id: this.nextId++,
      abort: new AbortController(),
      request: req,
      mode: req.playback === "webview" || this.daemonCannotPlay ? "webview" : "daemon",
      spans: [],
      current: undefined,
    };
    this.session = session;
    this.opts.listener.state("preparing", session.mode);
    try {
      await this.waitForModel(session);
      if (session.mode === "daemon") {
        try {
          await this.readWithDaemon(session);
          return;
        } catch (err) {
          if (!(err instanceof NoAudioDevice)) throw err;
          this.daemonCannotPlay = true;
          session.mode = "webview";
          this.opts.listener.fellBack(err);
          this.opts.listener.state("preparing", "webview");
        }
      }
      await this.readInWebview(session);
    } catch (err) {
      if (err instanceof Cancelled || session.abort.signal.aborted) return;
      if (err instanceof DaemonDown || err instanceof Timeout) this.modelReady = false;
      throw err;
    } finally {
      if (this.session === session) {
        this.session = undefined;
        this.opts.listener.sentence(undefined, req.documentKey);
        this.opts.listener.state("idle", undefined);
      }
    }
  }

  /**
   * Waits while the daemon loads its model, so the first reading after an install (when the daemon converts
   * the model for this machine, about a minute) shows "loading the voice model" instead of timing out.
   */
  private async waitForModel(s: Session): Promise<void> {
    if (this.modelReady) return;
    const client = this.opts.client();
    const end = this.now() + MODEL_WAIT_MS;
    let shown = false;
    for (;;) {
      const model = (await client.status(s.abort.signal)).model;
      // older daemons say nothing; "idle" means the first request will load it (it is quick then)
      if (!model || model.state === "ready" || model.state === "idle") break;
      if (model.state === "failed") throw new ServerError(`the ownvoice daemon could not load its model: ${model.error ?? "see its log"}`);
      if (this.now() >= end) throw new ServerError(`the ownvoice daemon was still loading its model after ${MODEL_WAIT_MS / 60_000} minutes; see its log`);
      if (!shown) this.opts.listener.state("loading-model", s.mode);
      shown = true;
      await this.sleep(MODEL_POLL_MS, s.abort.signal);
    }
    this.modelReady = true;
    if (shown) this.opts.listener.state("preparing", s.mode);
  }

  /** Stops the reading (daemon playback and webview audio) and clears the highlight. */
  async stop(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    session.abort.abort();
    this.opts.listener.sentence(undefined, session.request.documentKey);
    this.opts.listener.state("idle", undefined);
    if (session.mode === "webview") {
      this.opts.player().stop();
    } else {
      try {
        await this.opts.client().stop();
      } catch (err) {
        // Nothing to stop when the daemon is gone; anything else is worth a log line but not an error dialog.
        if (!(err instanceof DaemonDown)) this.opts.log?.(`stop failed: ${String(err)}`);
      }
    }
  }

  /** Keeps the highlight on the right words while the document being read is edited. */
  applyEdits(documentKey: string, edits: readonly Edit[]): void {
    const s = this.session;
    if (!s || s.request.documentKey !== documentKey || edits.length === 0) return;
    s.spans = shiftSpans(s.spans, edits);
    if (s.current !== undefined) this.show(s, s.current);
  }

  // ---- daemon-side playback -----------------------------------------------------------------------------------

  private async readWithDaemon(s: Session): Promise<void> {
    const client = this.opts.client();
    const { signal } = s.abort;
    let { text, base } = s.request;
    if (s.request.from) {
      // The daemon plays whole texts: start the text at the sentence the cursor is in.
      const all = await client.script(text, s.request.markdown, s.request.rules, signal);
      const spans = toSpans(all, text, 0);
      const first = firstSentenceFrom(spans, s.request.from);
      if (first < 0) return; // cursor after the last sentence: nothing to read
      const cut = all[first].start;
      text = text.slice(cut);
      base += cut;
    }
    const started = await client.play(
      { text, voice: s.request.voice, speed: s.request.speed, markdown: s.request.markdown, rules: s.request.rules },
      signal,
    );
    if (signal.aborted) throw new Cancelled();
    s.spans = toSpans(started.sentences, text, base);
    const t0 = this.now();
    this.opts.listener.state("playing", "daemon");
    if (started.sentences.length) this.show(s, started.sentences[0].index);
    let failures = 0;
    let sawPlaying = false;
    for (;;) {
      await this.sleep(this.pollMs, signal);
      let state;
      try {
        state = await client.playback(signal);
        failures = 0;
      } catch (err) {
        if (err instanceof Cancelled || err instanceof DaemonDown || ++failures > MAX_POLL_FAILURES) throw err;
        continue;
      }
      const ours = !state.playbackId || !started.playbackId || state.playbackId === started.playbackId;
      if (state.state !== "playing" || !ours) {
        // "idle" before we ever saw "playing" can be a playback that has not begun yet: give it a moment,
        // but no longer than the audio itself would have taken.
        const grace = Math.min(2000, 1000 * (started.sentences.at(-1)?.t1 ?? 2));
        if (!sawPlaying && ours && this.now() - t0 < grace) continue;
        return;
      }
      sawPlaying = true;
      const position = state.position ?? (this.now() - t0) / 1000;
      const index = state.sentenceIndex ?? sentenceAtTime(started.sentences, position);
      if (index !== undefined) this.show(s, index);
    }
  }

  // ---- webview playback ----------------------------------------------------------------------------------------

  private async readInWebview(s: Session): Promise<void> {
    const client = this.opts.client();
    const { signal } = s.abort;
    const { text, base } = s.request;
    const script = await client.script(text, s.request.markdown, s.request.rules, signal);
    const all = toSpans(script, text, 0);
    const first = s.request.from ? firstSentenceFrom(all, s.request.from) : 0;
    const sentences: Sentence[] = first < 0 ? [] : script.slice(first).filter((x) => x.text.trim());
    s.spans = toSpans(sentences, text, base);
    if (sentences.length === 0) return;

    const player = this.opts.player();
    let played = -1; // position in `sentences` of the last sentence that finished
    let failed: Error | undefined;
    let wake: (() => void) | undefined;
    const poke = () => {
      wake?.();
      wake = undefined;
    };
    const position = new Map(sentences.map((x, i) => [x.index, i]));
    const sub = player.onEvent((ev) => {
      if (this.session !== s) return;
      if (ev.type === "playing" || ev.type === "progress") {
        this.opts.listener.state("playing", "webview");
        this.show(s, ev.index);
      } else if (ev.type === "ended") {
        played = Math.max(played, position.get(ev.index) ?? played);
        poke();
      } else if (ev.type === "error") {
        failed = new ProtocolError(`the player could not play sentence ${ev.index + 1}: ${ev.message}`);
        poke();
      } else if (ev.type === "closed" || ev.type === "stop") {
        // The user closed the panel or pressed its Stop button.
        void this.stop();
      }
    });
    const waitForPlayer = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      });
    signal.addEventListener("abort", poke);
    try {
      player.begin(sentences.length, s.request.title ?? "ownvoice");
      for (let i = 0; i < sentences.length; i++) {
        // Keep at most `prefetch` sentences queued beyond the one playing (bounded memory, quick Stop).
        while (i > played + this.prefetch + 1 && !signal.aborted && !failed) await waitForPlayer();
        if (failed) throw failed;
        if (signal.aborted) throw new Cancelled();
        const x = sentences[i];
        const audio = await this.speakWithRetry(client, x, s);
        player.enqueue(x.index, x.text, audio);
      }
      player.finish();
      while (played < sentences.length - 1 && !signal.aborted && !failed) await waitForPlayer();
      if (failed) throw failed;
      if (signal.aborted) throw new Cancelled();
    } finally {
      sub.dispose();
      signal.removeEventListener("abort", poke);
    }
  }

  /** One sentence's WAV; waits out a full queue (503) a bounded number of times. */
  private async speakWithRetry(client: OwnvoiceClient, x: Sentence, s: Session): Promise<Uint8Array> {
    for (let attempt = 0; ; attempt++) {
      try {
        const audio = await client.speakWav(
          { text: x.text, lang: x.lang || "auto", voice: s.request.voice, speed: s.request.speed, markdown: false },
          s.abort.signal,
        );
        return audio.wav;
      } catch (err) {
        if (!(err instanceof Busy) || attempt >= MAX_BUSY_RETRIES) throw err;
        await this.sleep(err.retryAfter * 1000, s.abort.signal);
      }
    }
  }

  private show(s: Session, index: number): void {
    if (this.session !== s) return;
    s.current = index;
    const span = s.spans.find((x) => x.index === index);
    this.opts.listener.sentence(span && span.end > span.start ? span : undefined, s.request.documentKey);
  }
}
