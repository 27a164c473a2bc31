// One reading of a note or selection: script → ranges → player, wired to a highlight/status UI.

import type { OwnvoiceClient, ScriptRules, ScriptSentence } from "./client";
import { BadRequest, OwnvoiceError, ServerError } from "./errors";
import { type Range, sentenceRanges, startIndexAt } from "./highlight";
import { type AudioBackend, Player, type PlayerState } from "./player";
import { concatWav } from "./wav";

/** Nothing speakable in the text (or after the cursor). */
export class NothingToRead extends OwnvoiceError {}

export interface ReadTarget {
  /** The whole editor document, as the editor holds it. */
  doc: string;
  /** The text sent to /api/script: the document or a selection of it. */
  text: string;
  /** Where `text` starts in `doc`. */
  shift: number;
  /** Start at the first sentence ending after this document offset. */
  cursor?: number;
}

export interface ReadingPlan {
  sentences: ScriptSentence[];
  ranges: Range[];
  start: number;
}

/** How long a reading waits for the daemon to load its model. */
export const MODEL_WAIT_MS = 10 * 60_000;

export interface ModelWait {
  /** Called once if the model is still loading (to show a notice), with the seconds it has taken so far. */
  onLoading?: (seconds: number) => void;
  /** True when the reading was replaced or stopped: stop waiting. */
  isCancelled?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Waits while the daemon loads its model, so the first reading after an install (when the daemon converts
 * the model for this machine, about a minute) tells the user instead of timing out. False when cancelled.
 */
export async function waitForModel(client: OwnvoiceClient, opts: ModelWait = {}): Promise<boolean> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const end = now() + MODEL_WAIT_MS;
  for (let shown = false; ; shown = true) {
    if (opts.isCancelled?.()) return false;
    const model = (await client.status()).model;
    // older daemons say nothing; "idle" means the first request loads it (quick once converted)
    if (!model || model.state === "ready" || model.state === "idle") return true;
    if (model.state === "failed") throw new ServerError(`the ownvoice daemon could not load its model: ${model.error ?? "see its log"}`);
    if (now() >= end) throw new ServerError(`the ownvoice daemon was still loading its model after ${MODEL_WAIT_MS / 60_000} minutes; see its log`);
    if (!shown) opts.onLoading?.(model.seconds ?? 0);
    await sleep(1000);
  }
}

/** Asks the daemon for the script of `target.text` and maps it onto the document. */
export async function planReading(
  client: OwnvoiceClient,
  target: ReadTarget,
  rules: ScriptRules,
): Promise<ReadingPlan> {
  const sentences = await client.script(target.text, rules, true);
  if (sentences.length === 0) throw new NothingToRead("nothing to read here");
  const ranges = sentenceRanges(target.doc, sentences, { shift: target.shift });
  const start = target.cursor === undefined ? 0 : startIndexAt(ranges, target.cursor);
  if (start < 0) throw new NothingToRead("nothing to read after the cursor");
  return { sentences, ranges, start };
}

/** What a reading shows: the highlight in the editor and the player in the status bar. */
export interface ReadingUi {
  highlight(index: number): void;
  clear(): void;
  progress(index: number, count: number, state: PlayerState): void;
  error(err: unknown, fatal: boolean): void;
}

export interface SessionOptions {
  client: OwnvoiceClient;
  plan: ReadingPlan;
  backend: AudioBackend;
  voice: string;
  speed: number;
  ui: ReadingUi;
}

/** A reading in progress; `done` resolves when it ends for any reason. */
export class ReadingSession {
  readonly player: Player;
  readonly plan: ReadingPlan;
  readonly done: Promise<boolean>;

  constructor(opts: SessionOptions) {
    const { client, plan, voice, ui } = opts;
    this.plan = plan;
    this.player = new Player({
      count: plan.sentences.length,
      backend: opts.backend,
      speed: opts.speed,
      prefetch: 1,
      fetchAudio: async (i, speed) => {
        const s = plan.sentences[i];
        return (await client.speak({ text: s.text, lang: s.lang || "auto", voice, speed })).wav;
      },
      // A sentence the daemon refuses is skipped; anything else (daemon down, bad token, unknown voice) ends it.
      isFatal: (err) => !(err instanceof BadRequest),
    });
    this.player.on({
      sentence: (i) => {
        ui.highlight(i);
        ui.progress(i, plan.sentences.length, this.player.state);
      },
      state: (state) => ui.progress(this.player.index, plan.sentences.length, state),
      error: (err, _i, fatal) => ui.error(err, fatal),
      end: () => ui.clear(),
    });
    this.done = this.player.start(plan.start);
  }

  stop(): void {
    this.player.stop();
  }
}

/** Synthesises every sentence in order and joins them into one WAV (progress: sentences done, total). */
export async function renderAudio(
  client: OwnvoiceClient,
  sentences: readonly ScriptSentence[],
  voice: string,
  speed: number,
  onProgress?: (done: number, total: number) => void,
  isCancelled: () => boolean = () => false,
): Promise<ArrayBuffer> {
  const clips: ArrayBuffer[] = [];
  for (const [i, s] of sentences.entries()) {
    if (isCancelled()) throw new OwnvoiceError("export cancelled");
    onProgress?.(i, sentences.length);
    clips.push((await client.speak({ text: s.text, lang: s.lang || "auto", voice, speed })).wav);
  }
  onProgress?.(sentences.length, sentences.length);
  // A short pause between sentences, as the player has between clips.
  return concatWav(clips, 0.2);
}
