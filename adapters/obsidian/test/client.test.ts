import assert from "node:assert/strict";
import { test } from "node:test";
import { type HttpRequest, type HttpResponse, OwnvoiceClient, TransportError, parseRetryAfter } from "../src/client";
import {
  BadRequest,
  Busy,
  DAEMON_DOWN_MESSAGE,
  DaemonDown,
  NotFound,
  ProtocolError,
  RemoteHostRefused,
  Timeout,
  UNAUTHORIZED_MESSAGE,
  Unauthorized,
} from "../src/errors";
import { silentWav } from "./support/audio";

const enc = (x: unknown) => new TextEncoder().encode(typeof x === "string" ? x : JSON.stringify(x)).buffer as ArrayBuffer;
const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { "Content-Type": "application/json", ...headers },
  body: enc(body),
});
const err = (status: number, message: string, headers: Record<string, string> = {}) =>
  json(status, { ok: false, error: message, status }, headers);

function client(
  handler: (req: HttpRequest, n: number) => HttpResponse | Promise<HttpResponse>,
  extra: Partial<ConstructorParameters<typeof OwnvoiceClient>[0]> = {},
) {
  const seen: HttpRequest[] = [];
  const sleeps: number[] = [];
  const c = new OwnvoiceClient({
    baseUrl: "http://127.0.0.1:7723",
    getToken: async () => "tok",
    transport: async (req) => {
      seen.push(req);
      return handler(req, seen.length);
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { c, seen, sleeps };
}

test("requests carry the bearer token in a header, JSON bodies, and never a token in the URL", async () => {
  const { c, seen } = client(() => json(200, { ok: true, sentences: [] }));
  await c.script("# Hi", { code_blocks: "skip" });
  assert.equal(seen[0].url, "http://127.0.0.1:7723/api/script");
  assert.equal(seen[0].method, "POST");
  assert.equal(seen[0].headers.Authorization, "Bearer tok");
  assert.equal(seen[0].contentType, "application/json");
  assert.deepEqual(JSON.parse(seen[0].body as string), { text: "# Hi", markdown: true, rules: { code_blocks: "skip" } });
  assert.ok(!seen[0].url.includes("tok"));
});

test("script returns sentences with UTF-16 offsets and rejects malformed ones", async () => {
  const sentences = [{ index: 0, text: "Hello there.", lang: "en", start: 2, end: 14, heading: "Intro" }];
  const { c } = client(() => json(200, { ok: true, sentences }));
  assert.deepEqual(await c.script("x"), sentences);
  const bad = client(() => json(200, { ok: true, sentences: [{ text: "x", start: 5, end: 2 }] }));
  await assert.rejects(bad.c.script("x"), ProtocolError);
});

test("speak posts one sentence as plain text and returns a checked WAV with its duration", async () => {
  const wav = silentWav(0.5);
  const { c, seen } = client(() => ({
    status: 200,
    headers: { "content-type": "audio/wav", "x-ownvoice-duration": "0.5" },
    body: wav,
  }));
  const audio = await c.speak({ text: "Hello.", voice: "ann", lang: "en", speed: 1.25 });
  assert.deepEqual(JSON.parse(seen[0].body as string), {
    text: "Hello.",
    voice: "ann",
    lang: "en",
    speed: 1.25,
    markdown: false,
    format: "wav",
  });
  assert.equal(audio.duration, 0.5);
  assert.equal(audio.info.sampleRate, 24000);
  const notWav = client(() => json(200, { ok: true }));
  await assert.rejects(notWav.c.speak({ text: "x" }), ProtocolError);
});

test("connection refused becomes DaemonDown with the start instructions", async () => {
  const { c } = client(() => {
    throw new TransportError("refused", "connect ECONNREFUSED 127.0.0.1:7723");
  });
  await assert.rejects(c.status(), (e: unknown) => {
    assert.ok(e instanceof DaemonDown);
    assert.equal((e as Error).message, DAEMON_DOWN_MESSAGE);
    assert.match((e as Error).message, /ownvoice start/);
    return true;
  });
});

test("401 re-reads the token once; a still-rejected token is Unauthorized naming the token file", async () => {
  let tokenReads = 0;
  const tokens = ["old", "new"];
  const { c, seen } = client((req) => (req.headers.Authorization === "Bearer new" ? json(200, { voices: [], default: "default" }) : err(401, "bad token")), {
    getToken: async (refresh) => tokens[refresh ? ++tokenReads : tokenReads],
  });
  await c.voices();
  assert.deepEqual(
    seen.map((r) => r.headers.Authorization),
    ["Bearer old", "Bearer new"],
  );
  const rejected = client(() => err(401, "bad token"), { tokenSource: () => "/home/ann/.config/ownvoice/token" });
  await assert.rejects(rejected.c.voices(), (e: unknown) => {
    assert.ok(e instanceof Unauthorized);
    assert.equal((e as Error).message, `${UNAUTHORIZED_MESSAGE} (/home/ann/.config/ownvoice/token)`);
    return true;
  });
  assert.equal(rejected.seen.length, 1, "the same token is not sent twice");
});

test("503 waits for Retry-After and retries, telling the UI it is busy", async () => {
  const busy: number[] = [];
  const { c, sleeps, seen } = client(
    (_req, n) => (n <= 2 ? err(503, "queue full", { "Retry-After": "3" }) : json(200, { ok: true, sentences: [] })),
    { onBusy: (s) => busy.push(s) },
  );
  await c.script("Hi.");
  assert.equal(seen.length, 3);
  assert.deepEqual(sleeps, [3000, 3000]);
  assert.deepEqual(busy, [3, 3]);
});

test("503 beyond the retry budget ends in Busy with the server's hint", async () => {
  const { c, sleeps } = client(() => err(503, "queue full", { "retry-after": "2" }), { busyRetries: 2 });
  await assert.rejects(c.script("Hi."), (e: unknown) => {
    assert.ok(e instanceof Busy);
    assert.equal((e as Busy).retryAfter, 2);
    return true;
  });
  assert.deepEqual(sleeps, [2000, 2000]);
});

test("Retry-After accepts seconds and HTTP dates, bounded to 30 s", () => {
  assert.equal(parseRetryAfter("5"), 5);
  assert.equal(parseRetryAfter(undefined), 1);
  assert.equal(parseRetryAfter("3600"), 30);
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:04 GMT", now), 4);
  assert.equal(parseRetryAfter("garbage"), 1);
});

test("404 on speak is an unknown voice; 422 passes the daemon's message on", async () => {
  const { c } = client(() => err(404, "unknown voice 'nobody'"));
  await assert.rejects(c.speak({ text: "Hi.", voice: "nobody" }), (e: unknown) => {
    assert.ok(e instanceof NotFound);
    assert.equal((e as NotFound).voice, "nobody");
    assert.match((e as Error).message, /unknown voice “nobody”/);
    return true;
  });
  const bad = client(() => err(422, "text is empty"));
  await assert.rejects(bad.c.speak({ text: "" }), (e: unknown) => e instanceof BadRequest && (e as Error).message === "text is empty");
});

test("a non-loopback daemon URL is refused before any request", () => {
  assert.throws(
    () => new OwnvoiceClient({ baseUrl: "http://10.0.0.2:7723", getToken: async () => "t", transport: async () => json(200, {}) }),
    RemoteHostRefused,
  );
});

test("a request that never answers times out", async () => {
  const { c } = client(() => new Promise<HttpResponse>(() => undefined), { timeoutMs: 30 });
  await assert.rejects(c.status(), Timeout);
});

test("training uploads multipart with name, consent, language and files, and returns the job id", async () => {
  const { c, seen } = client(() => json(202, { ok: true, job_id: "job-1" }));
  const id = await c.trainVoice({
    name: "Ann",
    consent: "I am the speaker.",
    lang: "en",
    files: [{ filename: "a.wav", data: silentWav(0.1) }],
  });
  assert.equal(id, "job-1");
  assert.equal(seen[0].url, "http://127.0.0.1:7723/api/voices");
  assert.match(seen[0].contentType ?? "", /^multipart\/form-data; boundary=/);
  const form = await new Response(seen[0].body as ArrayBuffer, { headers: { "content-type": seen[0].contentType! } }).formData();
  assert.equal(form.get("name"), "Ann");
  assert.equal(form.get("lang"), "en");
  assert.equal(form.get("denoise"), null, "no denoise field: the daemon's setting decides");
  assert.equal((form.get("file") as File).name, "a.wav");
});

test("job state is read and clamped; ids are URL-encoded", async () => {
  const { c, seen } = client(() => json(200, { id: "a/b", kind: "train", state: "running", progress: 1.7, message: "fitting" }));
  const job = await c.job("a/b");
  assert.equal(seen[0].url, "http://127.0.0.1:7723/api/jobs/a%2Fb");
  assert.equal(job.progress, 1);
  assert.equal(job.state, "running");
});

test("the 'default' alias is offered even when the daemon lists only concrete voices", async () => {
  const { c } = client(() => json(200, { voices: [{ id: "jf_alpha", name: "Alpha", languages: ["ja"], builtin: true }], default: "default" }));
  const list = await c.voices();
  assert.deepEqual(
    list.voices.map((v) => v.id),
    ["default", "jf_alpha"],
  );
  const listed = client(() => json(200, { voices: [{ id: "default", name: "Default", languages: ["en"], builtin: true }] }));
  assert.equal((await listed.c.voices()).voices.length, 1);
});
