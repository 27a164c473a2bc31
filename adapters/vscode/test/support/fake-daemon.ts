// A protocol double of the ownvoice daemon for unit tests: a real HTTP server on 127.0.0.1 that follows
// docs/API.md (auth, error shape, script offsets in UTF-16, play/playback/stop on a virtual clock). Its audio
// is silent PCM: these tests check the plumbing; the e2e test checks real speech against the real daemon.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: any;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: Uint8Array | string;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
}

export type Handler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/** A WAV of `seconds` of silence at 24 kHz mono 16-bit (protocol test data, not speech). */
export function silentWav(seconds: number, sampleRate = 24000): Uint8Array {
  const n = Math.round(seconds * sampleRate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVE", 8);
  buf.write("fmt ", 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  return new Uint8Array(buf);
}

export interface FakeSentence {
  index: number;
  text: string;
  lang: string;
  start: number;
  end: number;
}

/** Sentences of `text` with UTF-16 offsets (JavaScript string indices), Markdown heading marks left out. */
export function fakeScript(text: string, markdown: boolean): FakeSentence[] {
  const out: FakeSentence[] = [];
  const re = /[^.!?\r\n]+[.!?]*/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let start = m.index;
    let piece = m[0];
    if (markdown) {
      const mark = /^\s*(#{1,6}\s+|[-*+]\s+|>\s*)/.exec(piece);
      if (mark) {
        start += mark[0].length;
        piece = piece.slice(mark[0].length);
      }
    }
    const lead = piece.length - piece.trimStart().length;
    const spoken = piece.trim();
    if (!spoken || !/[\p{L}\p{N}]/u.test(spoken)) continue;
    out.push({ index: out.length, text: spoken, lang: "en", start: start + lead, end: start + lead + spoken.length });
  }
  return out;
}

export class FakeDaemon {
  token = "unit-test-token";
  readonly requests: FakeRequest[] = [];
  /** Handlers that replace the default behaviour of a route ("POST /api/play"). */
  readonly override = new Map<string, Handler>();
  /** false: /api/play answers 409 "no audio output device". */
  audioDevice = true;
  /** Seconds of audio per sentence for play/speak. */
  sentenceSeconds = 0.08;
  /** What GET /api/playback tells: the sentence index, only the position, or neither (client uses its clock). */
  playbackReports: "index" | "position" | "none" = "index";
  /** "wall": playback advances with real time; "polls": each GET /api/playback moves one sentence on (deterministic). */
  clock: "wall" | "polls" = "wall";
  voices = [
    { id: "default", name: "Default voice", languages: ["en", "zh", "ja"], builtin: true, licence: "Apache-2.0" },
    { id: "me", name: "My voice", languages: ["en"], builtin: false, licence: "own recordings" },
  ];
  private server: Server | undefined;
  private playing: { id: string; startedAt: number; polls: number; sentences: Array<FakeSentence & { t0: number; t1: number }> } | undefined;
  private nextPlayback = 1;
  url = "";

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Requests to one route, e.g. `calls("POST /api/play")`. */
  calls(route: string): FakeRequest[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown = raw;
    if ((req.headers["content-type"] ?? "").includes("json") && raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const r: FakeRequest = { method: req.method ?? "GET", path: url.pathname, headers: req.headers, body };
    this.requests.push(r);
    let out: FakeResponse;
    if (url.search.includes("token")) out = this.error(401, "tokens are not accepted in URLs");
    else if (req.headers.authorization !== `Bearer ${this.token}`) out = this.error(401, "missing or wrong bearer token");
    else out = await (this.override.get(`${r.method} ${r.path}`) ?? ((x: FakeRequest) => this.route(x)))(r);
    if (out.delayMs) await new Promise((resolve) => setTimeout(resolve, out.delayMs));
    if (res.destroyed) return;
    const headers = { ...(out.headers ?? {}) };
    let payload: Uint8Array | string;
    if (out.json !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(out.json);
    } else payload = out.raw ?? "";
    res.writeHead(out.status ?? 200, headers);
    res.end(payload);
  }

  error(status: number, message: string, headers?: Record<string, string>): FakeResponse {
    return { status, headers, json: { ok: false, error: message, status } };
  }

  private voiceKnown(id: unknown): boolean {
    return typeof id === "string" && this.voices.some((v) => v.id === id);
  }

  private route(r: FakeRequest): FakeResponse {
    const key = `${r.method} ${r.path}`;
    const b = (r.body ?? {}) as Record<string, any>;
    switch (key) {
      case "GET /api/status":
        return {
          json: {
            ok: true,
            version: "0.1.0-fake",
            default_voice: "default",
            model: { state: "ready", seconds: 0.8 },
            voices: this.voices.length,
            queue: { pending: 0, running: 0 },
            paths: { token_file: "/fake/config/token", inbox: "/fake/inbox", voices: "/fake/voices" },
          },
        };
      case "GET /api/voices":
        return { json: { voices: this.voices, default: "default" } };
      case "POST /api/script":
        if (typeof b.text !== "string") return this.error(400, "text must be a string");
        return { json: { ok: true, sentences: fakeScript(b.text, !!b.markdown) } };
      case "POST /api/speak": {
        if (!this.voiceKnown(b.voice)) return this.error(404, `unknown voice '${b.voice}'`);
        const sentences = fakeScript(String(b.text), !!b.markdown);
        if (sentences.length === 0) return this.error(400, "nothing to say: the text has no speakable words");
        const seconds = sentences.length * this.sentenceSeconds;
        return { raw: silentWav(seconds), headers: { "Content-Type": "audio/wav", "X-Ownvoice-Duration": seconds.toFixed(3) } };
      }
      case "POST /api/play": {
        if (!this.voiceKnown(b.voice)) return this.error(404, `unknown voice '${b.voice}'`);
        if (!this.audioDevice) return this.error(409, "no audio output device: install paplay/aplay or use the client's player");
        const sentences = fakeScript(String(b.text), !!b.markdown).map((s, i) => ({
          ...s,
          t0: i * (this.sentenceSeconds + 0.02),
          t1: i * (this.sentenceSeconds + 0.02) + this.sentenceSeconds,
        }));
        this.playing = { id: `pb-${this.nextPlayback++}`, startedAt: Date.now(), polls: 0, sentences };
        return { json: { ok: true, playback_id: this.playing.id, sentences } };
      }
      case "POST /api/stop":
        this.playing = undefined;
        return { json: { ok: true } };
      case "GET /api/playback": {
        const p = this.playing;
        let position = p ? (Date.now() - p.startedAt) / 1000 : 0;
        if (p && this.clock === "polls") {
          const s = p.sentences[p.polls++];
          position = s ? s.t0 + 0.01 : Infinity;
        }
        const last = p?.sentences[p.sentences.length - 1];
        if (!p || !last || position >= last.t1) {
          this.playing = undefined;
          return { json: { state: "idle", playback_id: p?.id ?? null, sentence_index: null, position: 0 } };
        }
        const current = p.sentences.find((s) => position < s.t1) ?? last;
        const json: Record<string, unknown> = { state: "playing", playback_id: p.id };
        if (this.playbackReports === "index") Object.assign(json, { sentence_index: current.index, position });
        if (this.playbackReports === "position") Object.assign(json, { position });
        return { json };
      }
      default:
        return this.error(404, `no route ${key}`);
    }
  }
}
