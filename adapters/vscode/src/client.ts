// HTTP client for the ownvoice daemon (docs/API.md) on Node's fetch; every failure becomes a typed error.

import { checkDaemonUrl, type ScriptRules } from "./config";
import {
  BadRequest,
  Busy,
  Cancelled,
  Conflict,
  DaemonDown,
  NoAudioDevice,
  NotFound,
  OwnvoiceError,
  ProtocolError,
  ServerError,
  Timeout,
  Unauthorized,
  UnknownVoice,
} from "./errors";
import { parseWav, type WavInfo } from "./wav";

export interface Sentence {
  index: number;
  /** What is spoken (Markdown already turned into words). */
  text: string;
  lang: string;
  /** UTF-16 code unit offsets into the text that was sent. */
  start: number;
  end: number;
  heading?: string;
  /** Seconds into the audio, when the daemon synthesized it. */
  t0?: number;
  t1?: number;
}

export interface Voice {
  id: string;
  name: string;
  languages: string[];
  builtin: boolean;
  licence?: string;
}

export interface VoiceList {
  voices: Voice[];
  default: string;
}

export interface ModelStatus {
  state: "idle" | "loading" | "ready" | "failed";
  /** Loading: seconds so far; ready: seconds it took. */
  seconds?: number;
  error?: string;
}

export interface DaemonStatus {
  version: string;
  default_voice?: string;
  model?: ModelStatus;
  voices?: number;
  queue?: { pending?: number; running?: number };
  paths?: { token_file?: string; inbox?: string; voices?: string };
}

export interface SpeakRequest {
  text: string;
  voice: string;
  lang?: string;
  speed?: number;
  markdown?: boolean;
  /** Reading rules for Markdown; sent only with `markdown: true`. */
  rules?: ScriptRules;
}

export interface WavAudio {
  wav: Uint8Array;
  info: WavInfo;
  /** Seconds: X-Ownvoice-Duration when present, else from the WAV header. */
  duration: number;
}

export interface PlayStarted {
  playbackId: string;
  sentences: Sentence[];
}

export interface PlaybackState {
  state: "playing" | "idle";
  playbackId?: string;
  sentenceIndex?: number;
  /** Seconds into the playback. */
  position?: number;
}

export interface TokenInfo {
  token: string;
  /** Where it came from, for messages ("/home/me/.config/ownvoice/token", "VS Code secret storage"). */
  source: string;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  baseUrl: string;
  /** Resolves the bearer token; throws TokenMissing when there is none. */
  getToken: () => Promise<TokenInfo>;
  fetch?: FetchLike;
  /** Limit for quick calls (status, voices, script, playback control). */
  timeoutMs?: number;
}

/** Synthesis runs at about real time on a small CPU: allow a minute plus ~0.15 s per character (≤ 1 h). */
export function synthTimeoutMs(text: string): number {
  return Math.min(3_600_000, 60_000 + 150 * text.length);
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date), bounded to [1, 600]. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number {
  let seconds = 1;
  const v = (value ?? "").trim();
  if (/^\d+(\.\d+)?$/.test(v)) seconds = Number(v);
  else if (v) {
    const at = Date.parse(v);
    if (!Number.isNaN(at)) seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(600, Math.max(1, seconds));
}

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === "object" && !Array.isArray(x);
}

function finiteOrUndefined(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) ? x : undefined;
}

/** Validates one sentence of a script/speak/play answer (offsets must be sane integers). */
export function checkSentence(x: unknown, i: number, where: string): Sentence {
  if (
    !isObject(x) ||
    typeof x.text !== "string" ||
    !Number.isInteger(x.start) ||
    !Number.isInteger(x.end) ||
    (x.start as number) < 0 ||
    (x.end as number) < (x.start as number)
  ) {
    throw new ProtocolError(`${where}: sentence ${i} is malformed: ${JSON.stringify(x)?.slice(0, 200)}`);
  }
  const s: Sentence = {
    index: Number.isInteger(x.index) ? (x.index as number) : i,
    text: x.text,
    lang: typeof x.lang === "string" ? x.lang : "auto",
    start: x.start as number,
    end: x.end as number,
  };
  if (typeof x.heading === "string") s.heading = x.heading;
  const t0 = finiteOrUndefined(x.t0);
  const t1 = finiteOrUndefined(x.t1);
  if (t0 !== undefined && t1 !== undefined && t1 >= t0) {
    s.t0 = t0;
    s.t1 = t1;
  }
  return s;
}

function sentencesOf(body: unknown, where: string): Sentence[] {
  if (!isObject(body) || !Array.isArray(body.sentences)) throw new ProtocolError(`${where}: no sentence list in the answer`);
  return body.sentences.map((s, i) => checkSentence(s, i, where));
}

/** A 2xx answer, body read in full. */
interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
}

function parseJson(answer: Answer): unknown {
  const text = new TextDecoder().decode(answer.bytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`the daemon answered ${answer.status} with something that is not JSON: ${text.slice(0, 120)}`);
  }
}

/** The `error` of the daemon's error shape, else the start of the body. */
function errorText(bytes: Uint8Array, status: number): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 4096));
  try {
    const body = JSON.parse(text) as unknown;
    if (isObject(body) && typeof body.error === "string" && body.error) return body.error;
  } catch {
    // not the JSON error shape
  }
  return text.trim().slice(0, 200) || `HTTP ${status}`;
}

interface Call {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The voice the request named: a 404 then means "unknown voice". */
  voice?: string;
  /** What a 409 means for this endpoint. */
  on409?: (detail: string) => OwnvoiceError;
}

export class OwnvoiceClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = checkDaemonUrl(options.baseUrl);
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** GET /api/status. */
  async status(signal?: AbortSignal): Promise<DaemonStatus> {
    const body = await this.json({ method: "GET", path: "/api/status", timeoutMs: this.timeoutMs, signal });
    if (!isObject(body) || typeof body.version !== "string") throw new ProtocolError("GET /api/status: unexpected answer");
    return body as unknown as DaemonStatus;
  }

  /** GET /api/voices; the "default" alias is always offered even when the daemon does not list it. */
  async voices(signal?: AbortSignal): Promise<VoiceList> {
    const body = await this.json({ method: "GET", path: "/api/voices", timeoutMs: this.timeoutMs, signal });
    if (!isObject(body) || !Array.isArray(body.voices)) throw new ProtocolError("GET /api/voices: unexpected answer");
    const voices: Voice[] = body.voices.filter(isObject).map((v) => ({
      id: String(v.id),
      name: typeof v.name === "string" && v.name ? v.name : String(v.id),
      languages: Array.isArray(v.languages) ? v.languages.map(String) : [],
      builtin: v.builtin === true,
      ...(typeof v.licence === "string" ? { licence: v.licence } : {}),
    }));
    if (!voices.some((v) => v.id === "default")) {
      voices.unshift({ id: "default", name: "Default voice", languages: [], builtin: true });
    }
    return { voices, default: typeof body.default === "string" && body.default ? body.default : "default" };
  }

  /** POST /api/script: text (or Markdown) → sentences with UTF-16 offsets into `text`. */
  async script(text: string, markdown: boolean, rules?: ScriptRules, signal?: AbortSignal): Promise<Sentence[]> {
    const body = await this.json({
      method: "POST",
      path: "/api/script",
      body: { text, markdown, ...(markdown && rules ? { rules } : {}) },
      timeoutMs: Math.max(this.timeoutMs, 30_000),
      signal,
    });
    return sentencesOf(body, "POST /api/script");
  }

  /** POST /api/speak, format "wav": the whole text as one WAV. */
  async speakWav(req: SpeakRequest, signal?: AbortSignal): Promise<WavAudio> {
    const res = await this.withRules(req, (body) =>
      this.send({ method: "POST", path: "/api/speak", body: { ...body, format: "wav" }, timeoutMs: synthTimeoutMs(req.text), signal, voice: req.voice }),
    );
    const wav = res.bytes;
    const info = parseWav(wav);
    const claimed = Number(res.headers.get("X-Ownvoice-Duration"));
    return { wav, info, duration: Number.isFinite(claimed) && claimed > 0 ? claimed : info.duration };
  }

  /** POST /api/play: the daemon plays the text on its own audio device; NoAudioDevice on 409. */
  async play(req: SpeakRequest, signal?: AbortSignal): Promise<PlayStarted> {
    const res = await this.withRules(req, (body) =>
      this.send({
        method: "POST",
        path: "/api/play",
        body,
        timeoutMs: synthTimeoutMs(req.text),
        signal,
        voice: req.voice,
        on409: (detail) => new NoAudioDevice(detail),
      }),
    );
    const body = parseJson(res);
    if (!isObject(body)) throw new ProtocolError("POST /api/play: unexpected answer");
    const id = body.playback_id;
    return {
      playbackId: typeof id === "string" || typeof id === "number" ? String(id) : "",
      sentences: Array.isArray(body.sentences) ? sentencesOf(body, "POST /api/play") : [],
    };
  }

  /** POST /api/stop: stops daemon-side playback (harmless when nothing plays). */
  async stop(): Promise<void> {
    await this.json({ method: "POST", path: "/api/stop", body: {}, timeoutMs: this.timeoutMs });
  }

  /** GET /api/playback: what the daemon is playing now. */
  async playback(signal?: AbortSignal): Promise<PlaybackState> {
    const body = await this.json({ method: "GET", path: "/api/playback", timeoutMs: this.timeoutMs, signal });
    if (!isObject(body)) throw new ProtocolError("GET /api/playback: unexpected answer");
    const id = body.playback_id;
    const out: PlaybackState = { state: body.state === "playing" ? "playing" : "idle" };
    if (typeof id === "string" || typeof id === "number") out.playbackId = String(id);
    if (Number.isInteger(body.sentence_index)) out.sentenceIndex = body.sentence_index as number;
    const position = finiteOrUndefined(body.position);
    if (position !== undefined) out.position = position;
    return out;
  }

  // ---- plumbing ---------------------------------------------------------------------------------------------

  /**
   * Sends a speak/play body with the Markdown rules; if the daemon refuses the `rules` field itself (an older
   * bridge that only knows it on /api/script), sends it once more without.
   */
  private async withRules(req: SpeakRequest, go: (body: Record<string, unknown>) => Promise<Answer>): Promise<Answer> {
    const body: Record<string, unknown> = {
      text: req.text,
      voice: req.voice,
      lang: req.lang ?? "auto",
      speed: req.speed ?? 1,
      markdown: req.markdown ?? false,
    };
    if (!req.markdown || !req.rules) return go(body);
    try {
      return await go({ ...body, rules: req.rules });
    } catch (err) {
      if (err instanceof BadRequest && /rules/i.test(err.message)) return go(body);
      throw err;
    }
  }

  private async json(call: Call): Promise<unknown> {
    return parseJson(await this.send(call));
  }

  /**
   * One request with auth and a time limit, body read in full; non-2xx answers become typed errors.
   * The caller's signal (Stop) and the time limit abort the same request; listeners are removed after.
   */
  private async send(call: Call): Promise<Answer> {
    const { token, source } = await this.options.getToken();
    if (call.signal?.aborted) throw new Cancelled();
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, call.timeoutMs);
    const onAbort = () => ctl.abort();
    call.signal?.addEventListener("abort", onAbort, { once: true });
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: "application/json, audio/wav",
    };
    if (call.body !== undefined) headers["Content-Type"] = "application/json";
    const why = (err: unknown, stage: string): OwnvoiceError => {
      if (call.signal?.aborted) return new Cancelled();
      if (timedOut) return new Timeout(Math.round(call.timeoutMs / 1000));
      // Refused, reset or unreachable on a loopback address all mean the daemon is not there.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return new DaemonDown(this.baseUrl, `${stage}: ${cause?.code ?? cause?.message ?? String(err)}`);
    };
    try {
      let res: Response;
      try {
        res = await this.fetchImpl(this.baseUrl + call.path, {
          method: call.method,
          headers,
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          signal: ctl.signal,
          redirect: "error",
        });
      } catch (err) {
        throw why(err, "connect");
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await res.arrayBuffer());
      } catch (err) {
        throw why(err, "reading the answer");
      }
      if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, bytes };
      throw this.failure(res.status, res.headers, errorText(bytes, res.status), call, source);
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
    }
  }

  private failure(status: number, headers: Headers, detail: string, call: Call, tokenSource: string): OwnvoiceError {
    switch (status) {
      case 401:
        return new Unauthorized(tokenSource);
      case 404:
        // The routes that name a voice exist, so their 404 means the voice id is unknown.
        return call.voice !== undefined
          ? new UnknownVoice(call.voice, detail)
          : new NotFound(`${call.method} ${call.path}: ${detail}`);
      case 409:
        return call.on409 ? call.on409(detail) : new Conflict(detail, 409);
      case 503:
        return new Busy(parseRetryAfter(headers.get("Retry-After")));
      case 400:
      case 413:
      case 422:
        return new BadRequest(`ownvoice refused the request: ${detail}`, status);
      default:
        return status >= 500
          ? new ServerError(`ownvoice daemon error: ${detail}`, status)
          : new ProtocolError(`${call.method} ${call.path}: HTTP ${status}: ${detail}`, status);
    }
  }
}
