// What the user is told for each failure, and which buttons come with it.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BadRequest,
  BadSetting,
  Busy,
  Cancelled,
  DaemonDown,
  NoAudioDevice,
  ServerError,
  Timeout,
  TokenMissing,
  Unauthorized,
  UnknownVoice,
} from "../src/errors";
import { noticeFor, SECRET_SOURCE } from "../src/messages";

const titles = (err: unknown, retry = true) => noticeFor(err, retry)?.actions.map((a) => a.title);

test("daemon down: says it is not running and offers to start it", () => {
  const n = noticeFor(new DaemonDown("http://127.0.0.1:7723", "ECONNREFUSED"), true)!;
  assert.equal(n.severity, "error");
  assert.match(n.message, /^ownvoice daemon is not running \(http:\/\/127\.0\.0\.1:7723\)$/);
  assert.deepEqual(titles(new DaemonDown("u")), ["Start daemon"]);
});

test("401: the token is wrong; set it or open the settings", () => {
  const n = noticeFor(new Unauthorized("/home/ann/.config/ownvoice/token"), true)!;
  assert.match(n.message, /rejected the token from \/home\/ann\/\.config\/ownvoice\/token/);
  assert.deepEqual(titles(new Unauthorized("/x")), ["Set token", "Open settings"]);
  // A stale token saved in VS Code can be dropped in favour of the file.
  assert.deepEqual(titles(new Unauthorized(SECRET_SOURCE)), ["Set token", "Open settings", "Use token file"]);
});

test("503: queue full, retry after the server's seconds", () => {
  const n = noticeFor(new Busy(7), true)!;
  assert.equal(n.severity, "warning");
  assert.match(n.message, /queue full\) — retry after 7 s/);
  assert.deepEqual(titles(new Busy(7)), ["Retry"]);
  assert.deepEqual(titles(new Busy(7), false), []);
});

test("unknown voice: pick another one", () => {
  const n = noticeFor(new UnknownVoice("nobody", "unknown voice 'nobody'"), true)!;
  assert.match(n.message, /unknown voice "nobody"/);
  assert.deepEqual(titles(new UnknownVoice("x", "y")), ["Choose voice"]);
});

test("no token, bad settings, timeouts and daemon errors each get a way forward", () => {
  assert.deepEqual(titles(new TokenMissing("/t")), ["Start daemon", "Set token", "Open settings"]);
  assert.deepEqual(titles(new BadSetting("bad url")), ["Open settings"]);
  assert.deepEqual(titles(new Timeout(60)), ["Retry", "Show log"]);
  assert.deepEqual(titles(new ServerError("boom", 500)), ["Show log"]);
  assert.deepEqual(titles(new BadRequest("text too long", 413)), []);
  assert.equal(noticeFor(new NoAudioDevice("no audio output device"), true)!.severity, "info");
  assert.match(noticeFor(new Error("weird"), false)!.message, /^ownvoice: weird$/);
});

test("a cancelled request shows nothing", () => {
  assert.equal(noticeFor(new Cancelled(), true), undefined);
});
