// HTTP client for the ownvoice daemon (docs/API.md), independent of Obsidian: the transport is injected.

import {
  BadRequest,
  Busy,
  Conflict,
  DaemonDown,
  NotFound,
  OwnvoiceError,
  ProtocolError,
  ServerError,
  Timeout,
  Unauthorized,
} from "./errors";
import { buildMultipart, contentTypeFor } from "./multipart";
import { checkDaemonUrl } from "./settings";
import { parseWav, type WavInfo } from "./wav";

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | ArrayBuffer;
  contentType?: string;
}

export interface HttpResponse {
  status: number;
  /** Header names in any case; look them up with `header()`. */
  headers: Record<string, string>;
  body: ArrayBuffer;
}

/** Thrown by transports when no HTTP answer came back at all. */
export class TransportError extends Error {
  constructor(readonly kind: "refused" | "unreachable" | "timeout", message: string) {
    super(message);
    this.name = "TransportError";
  }
}

/** Sends one request; resolves for every HTTP status, rejects with TransportError when nothing answered. */
export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

export interface ScriptRules {
  code_blocks?: "announce" | "read" | "skip";
  links?: "text" | "announce";
  math?: "formula" | "verbalize";
  heading_pause?: boolean;
}

export interface ScriptSentence {
  index: number;
  /** What is spoken (Markdown already turned into words). */
  text: string;
  lang: string;
  /** UTF-16 offsets into the text that was sent. */
  start: number;
  end: number;
  heading?: string | null;
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
  ok: boolean;
  version: string;
  default_voice: string;
  /** Absent on older daemons (they load the model on the first request). */
  model?: ModelStatus;
  voices: number;
  queue?: { pending: number; running: number };
  paths?: { token_file?: string; inbox?: string; voices?: string };
}

export interface SpeakRequest {
  text: string;
  voice?: string;
  lang?: string;
  speed?: number;
}

export interface SpeechAudio {
  wav: ArrayBuffer;
  info: WavInfo;
  /** Seconds, from X-Ownvoice-Duration when present, else from the WAV header. */
  duration: number;
}

export interface TrainFile {
  filename: string;
  data: ArrayBuffer;
}

export interface TrainRequest {
  name: string;
  consent: string;
  lang: "en" | "zh" | "ja";
  files: TrainFile[];
  /** Clean background noise first (NSNet2): off, auto (noisy files only) or on; absent, the daemon's setting. */
  denoise?: "off" | "auto" | "on";
}

export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

export interface Job {
  id: string;
  kind: string;
  state: JobState;
  progress: number;
  message: string;
  result?: Record<string, unknown> | null;
}

export interface ClientOptions {
  baseUrl: string;
  allowRemote?: boolean;
  /** Returns the bearer token; `refresh` asks to re-read it (after a 401, the file may have changed). */
  getToken: (refresh: boolean) => Promise<string>;
  transport: Transport;
  /** Called before each wait on a 503, with the wait in seconds and the attempt number (1-based). */
  onBusy?: (waitSeconds: number, attempt: number) => void;
  /** How many 503s to wait through before giving up with Busy. */
  busyRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Per-request limit for quick calls (status, voices, script, jobs). */
  timeoutMs?: number;
  /** Limit for synthesis, which runs at about real time on a small CPU. */
  speakTimeoutMs?: number;
  /** Shown in Unauthorized messages. */
  tokenSource?: () => string | undefined;
}

const MAX_RETRY_WAIT_S = 30;
/** The voice id the daemon always accepts: its configured default voice. */
export const DEFAULT_VOICE_ID = "default";

/** Seconds to wait from a Retry-After value (delta-seconds or HTTP date), bounded to [0.25, 30]. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number {
  if (!value) return 1;
  const v = value.trim();
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(v)) seconds = Number(v);
  else {
    const at = Date.parse(v);
    seconds = Number.isNaN(at) ? 1 : (at - now) / 1000;
  }
  return Math.min(MAX_RETRY_WAIT_S, Math.max(0.25, seconds));
}

/** Case-insensitive header lookup (Electron, Node and test transports differ in case). */
export function header(res: HttpResponse, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(res.headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

function decodeText(body: ArrayBuffer): string {
  return new TextDecoder("utf-8").decode(body);
}

function parseJson(res: HttpResponse): unknown {
  const text = decodeText(res.body);
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(`the daemon answered ${res.status} with something that is not JSON: ${text.slice(0, 120)}`);
  }
}

function errorText(res: HttpResponse): string {
  try {
    const body = JSON.parse(decodeText(res.body)) as { error?: unknown };
    if (body && typeof body.error === "string" && body.error) return body.error;
  } catch {
    // not the JSON error shape: fall through to a generic message
  }
  return `HTTP ${res.status}`;
}

/** A request body ready to send. */
interface Payload {
  body: string | ArrayBuffer;
  contentType: string;
}

function jsonPayload(payload: unknown): Payload | undefined {
  return payload === undefined ? undefined : { body: JSON.stringify(payload), contentType: "application/json" };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === "object" && !Array.isArray(x);
}

function checkSentence(x: unknown, i: number): ScriptSentence {
  if (
    !isObject(x) ||
    typeof x.text !== "string" ||
    !Number.isInteger(x.start) ||
    !Number.isInteger(x.end) ||
    (x.start as number) < 0 ||
    (x.end as number) < (x.start as number)
  ) {
    throw new ProtocolError(`sentence ${i} of the daemon's script is malformed`);
  }
  return {
    index: Number.isInteger(x.index) ? (x.index as number) : i,
    text: x.text,
    lang: typeof x.lang === "string" ? x.lang : "auto",
    start: x.start as number,
    end: x.end as number,
    heading: typeof x.heading === "string" ? x.heading : null,
  };
}

export class OwnvoiceClient {
  readonly baseUrl: string;
  private readonly opts: Required<Omit<ClientOptions, "onBusy" | "tokenSource" | "allowRemote">> &
    Pick<ClientOptions, "onBusy" | "tokenSource">;

  constructor(options: ClientOptions) {
    this.baseUrl = checkDaemonUrl(options.baseUrl, options.allowRemote ?? false);
    this.opts = {
      busyRetries: 4,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      timeoutMs: 15_000,
      speakTimeoutMs: 120_000,
      ...options,
    };
  }

  /** GET /api/status: version, default voice, queue and paths. */
  async status(): Promise<DaemonStatus> {
    const body = await this.json("GET", "/api/status");
    if (!isObject(body) || typeof body.version !== "string") throw new ProtocolError("GET /api/status: unexpected answer");
    return body as unknown as DaemonStatus;
  }

  /** GET /api/voices. */
  async voices(): Promise<VoiceList> {
    const body = await this.json("GET", "/api/voices");
    if (!isObject(body) || !Array.isArray(body.voices)) throw new ProtocolError("GET /api/voices: unexpected answer");
    const voices = body.voices.filter(isObject).map((v) => ({
      id: String(v.id),
      name: typeof v.name === "string" && v.name ? v.name : String(v.id),
      languages: Array.isArray(v.languages) ? v.languages.map(String) : [],
      builtin: v.builtin === true,
      licence: typeof v.licence === "string" ? v.licence : undefined,
    }));
    const def = typeof body.default === "string" && body.default ? body.default : DEFAULT_VOICE_ID;
    // "default" is an alias the daemon resolves per language; it need not be listed, but users must be able to pick it.
    if (!voices.some((v) => v.id === DEFAULT_VOICE_ID)) {
      voices.unshift({ id: DEFAULT_VOICE_ID, name: "Default voice", languages: [], builtin: true, licence: undefined });
    }
    return { voices, default: def };
  }

  /** POST /api/script: Markdown → spoken sentences with UTF-16 offsets into `text`. */
  async script(text: string, rules?: ScriptRules, markdown = true): Promise<ScriptSentence[]> {
    const body = await this.json("POST", "/api/script", { text, markdown, ...(rules ? { rules } : {}) });
    if (!isObject(body) || !Array.isArray(body.sentences)) throw new ProtocolError("POST /api/script: unexpected answer");
    return body.sentences.map(checkSentence);
  }

  /** POST /api/speak with format "wav": one WAV for plain text (one sentence of a script). */
  async speak(req: SpeakRequest): Promise<SpeechAudio> {
    const voice = req.voice ?? "default";
    const res = await this.send(
      "POST",
      "/api/speak",
      jsonPayload({
        text: req.text,
        voice,
        lang: req.lang ?? "auto",
        speed: req.speed ?? 1,
        markdown: false,
        format: "wav",
      }),
      this.opts.speakTimeoutMs,
      voice,
    );
    const info = parseWav(res.body);
    const claimed = Number(header(res, "X-Ownvoice-Duration"));
    return { wav: res.body, info, duration: Number.isFinite(claimed) && claimed > 0 ? claimed : info.duration };
  }

  /** POST /api/voices (multipart): starts training; resolves to the job id. */
  async trainVoice(req: TrainRequest): Promise<string> {
    const form = buildMultipart(
      [
        ["name", req.name],
        ["consent", req.consent],
        ["lang", req.lang],
        ...(req.denoise ? [["denoise", req.denoise] as [string, string]] : []),
      ],
      req.files.map((f) => ({
        field: "file",
        filename: f.filename,
        contentType: contentTypeFor(f.filename.split(".").pop() ?? ""),
        data: f.data,
      })),
    );
    const res = await this.send("POST", "/api/voices", form, 10 * this.opts.timeoutMs);
    const body = parseJson(res);
    if (!isObject(body) || typeof body.job_id !== "string") throw new ProtocolError("POST /api/voices: no job id");
    return body.job_id;
  }

  /** GET /api/jobs/{id}. */
  async job(id: string): Promise<Job> {
    const body = await this.json("GET", `/api/jobs/${encodeURIComponent(id)}`);
    if (!isObject(body) || typeof body.state !== "string") throw new ProtocolError("GET /api/jobs: unexpected answer");
    return {
      id: typeof body.id === "string" ? body.id : id,
      kind: typeof body.kind === "string" ? body.kind : "",
      state: body.state as JobState,
      progress: typeof body.progress === "number" ? Math.min(1, Math.max(0, body.progress)) : 0,
      message: typeof body.message === "string" ? body.message : "",
      result: isObject(body.result) ? body.result : null,
    };
  }

  /** POST /api/jobs/{id}/cancel. */
  async cancelJob(id: string): Promise<void> {
    await this.json("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`, {});
  }

  private async json(method: string, path: string, payload?: unknown): Promise<unknown> {
    return parseJson(await this.send(method, path, jsonPayload(payload), this.opts.timeoutMs));
  }

  /** Sends with auth, waits through 503s, re-reads the token once after a 401, maps failures to typed errors. */
  private async send(
    method: string,
    path: string,
    payload: Payload | undefined,
    timeoutMs: number,
    voice?: string,
  ): Promise<HttpResponse> {
    let refreshed = false;
    let token = await this.opts.getToken(false);
    for (let attempt = 1; ; attempt++) {
      const res = await this.once(method, path, payload, token, timeoutMs);
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        const fresh = await this.opts.getToken(true);
        if (fresh !== token) {
          token = fresh;
          continue;
        }
      }
      if (res.status === 503 && attempt <= this.opts.busyRetries) {
        const wait = parseRetryAfter(header(res, "Retry-After"));
        this.opts.onBusy?.(wait, attempt);
        await this.opts.sleep(wait * 1000);
        continue;
      }
      throw this.failure(res, voice);
    }
  }

  private async once(
    method: string,
    path: string,
    payload: Payload | undefined,
    token: string,
    timeoutMs: number,
  ): Promise<HttpResponse> {
    const req: HttpRequest = {
      url: this.baseUrl + path,
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json, audio/wav" },
    };
    if (payload) {
      req.body = payload.body;
      req.contentType = payload.contentType;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(Math.round(timeoutMs / 1000))), timeoutMs);
    });
    try {
      return await Promise.race([this.opts.transport(req), timeout]);
    } catch (err) {
      if (err instanceof OwnvoiceError) throw err;
      if (err instanceof TransportError && err.kind === "timeout") throw new Timeout(Math.round(timeoutMs / 1000));
      // Connection refused/reset/unreachable on a loopback address all mean the same to the user.
      throw new DaemonDown(err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private failure(res: HttpResponse, voice?: string): OwnvoiceError {
    const text = errorText(res);
    switch (res.status) {
      case 401:
        return new Unauthorized(this.opts.tokenSource?.());
      case 404:
        return voice !== undefined
          ? new NotFound(`unknown voice “${voice}” — pick one with the “Choose voice” command (${text})`, voice)
          : new NotFound(text);
      case 503:
        return new Busy(parseRetryAfter(header(res, "Retry-After")), `daemon busy — ${text}`);
      case 409:
        return new Conflict(text, 409);
      case 400:
      case 413:
      case 422:
        return new BadRequest(text, res.status);
      default:
        return res.status >= 500 ? new ServerError(`daemon error: ${text}`, res.status) : new ProtocolError(text, res.status);
    }
  }
}
