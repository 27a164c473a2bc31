// The webview player: its CSP, the page's own script (run in a sandbox), and the panel wrapper's messaging.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { PlayerEvent } from "../src/playback";
import { makeNonce, PanelPlayer, playerHtml } from "../src/webview";
import { mock } from "./mocks/vscode";
import { silentWav } from "./support/fake-daemon";
import { PageSandbox } from "./support/page-sandbox";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const tick = () => new Promise((r) => setImmediate(r));

test("the page has a strict CSP: nothing but its nonce'd script and style, audio only from blob: URLs", () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{20,}$/);
  assert.notEqual(makeNonce(), nonce);
  const html = playerHtml(nonce, "https://mock.vscode-cdn.net");
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
  const rules = Object.fromEntries(csp.split(";").map((r) => r.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(rules["default-src"], ["'none'"]);
  assert.deepEqual(rules["script-src"], [`'nonce-${nonce}'`]);
  assert.deepEqual(rules["style-src"], [`'nonce-${nonce}'`]);
  assert.deepEqual(rules["media-src"], ["blob:"]);
  assert.ok(!csp.includes("unsafe"), "no unsafe-inline / unsafe-eval");
  // Every <script> and <style> carries the nonce, and nothing uses inline handlers or style attributes.
  assert.equal((html.match(/<script/g) ?? []).length, (html.match(new RegExp(`<script nonce="${nonce}"`, "g")) ?? []).length);
  assert.equal((html.match(/<style/g) ?? []).length, 1);
  assert.ok(!/\son\w+="/.test(html) && !/\sstyle="/.test(html));
});

test("the page plays queued sentences in order and reports playing/ended for each", async () => {
  const page = new PageSandbox(playerHtml("n0nce", "x"));
  assert.deepEqual([...page.posted], [{ type: "ready" }]);
  page.deliver({ type: "begin", total: 2, title: "note.md" });
  page.deliver({ type: "sentence", index: 4, text: "First.", wav: b64(silentWav(0.05)) });
  page.deliver({ type: "sentence", index: 5, text: "Second.", wav: b64(silentWav(0.05)) });
  await tick();
  assert.equal(page.el("sentence").textContent, "First.");
  assert.deepEqual(page.posted.at(-1), { type: "playing", index: 4 });
  assert.equal(page.urls.size, 2);
  page.audio.finish();
  await tick();
  assert.ok(page.posted.some((m) => m.type === "ended" && m.index === 4));
  assert.deepEqual(page.posted.at(-1), { type: "playing", index: 5 });
  assert.equal(page.urls.size, 1, "the finished sentence's blob URL is released");
  page.deliver({ type: "finish" });
  page.audio.finish();
  await tick();
  assert.equal(page.urls.size, 0);
  assert.equal(page.el("status").textContent, "Done");
});

test("when autoplay is refused the page asks for Play, then plays the following sentences by itself", async () => {
  const page = new PageSandbox(playerHtml("n0nce", "x"));
  page.audio.autoplayAllowed = false;
  page.deliver({ type: "begin", total: 2, title: "t" });
  page.deliver({ type: "sentence", index: 0, text: "One.", wav: b64(silentWav(0.05)) });
  await tick();
  assert.equal(page.el("status").textContent, "Press Play to start");
  assert.ok(page.el("play").classes.has("attention"));
  assert.ok(!page.posted.some((m) => m.type === "playing"));
  page.click("play");
  await tick();
  assert.deepEqual(page.posted.at(-1), { type: "playing", index: 0 });
  page.deliver({ type: "sentence", index: 1, text: "Two.", wav: b64(silentWav(0.05)) });
  page.audio.finish();
  await tick();
  assert.deepEqual(page.posted.at(-1), { type: "playing", index: 1 }, "the next sentence started without a click");
  assert.equal(page.audio.plays, 2);
});

test("the page's Stop button tells the extension and drops what was queued", async () => {
  const page = new PageSandbox(playerHtml("n0nce", "x"));
  page.deliver({ type: "begin", total: 3, title: "t" });
  page.deliver({ type: "sentence", index: 0, text: "One.", wav: b64(silentWav(0.05)) });
  page.deliver({ type: "sentence", index: 1, text: "Two.", wav: b64(silentWav(0.05)) });
  await tick();
  page.click("stop");
  assert.deepEqual(page.posted.at(-1), { type: "stop" });
  assert.equal(page.urls.size, 0);
  assert.equal(page.audio.src, "");
});

test("the panel player holds messages until the page is ready and maps page messages to events", async () => {
  mock.reset();
  const player = new PanelPlayer();
  const events: PlayerEvent[] = [];
  player.onEvent((e) => events.push(e));
  const wav = silentWav(0.02);
  player.begin(1, "note.md");
  player.enqueue(0, "Hello.", wav);
  const panel = mock.state.panels[0];
  assert.ok(panel, "a panel was created");
  assert.equal(panel.options.enableScripts, true);
  assert.deepEqual(panel.options.localResourceRoots, [], "the page may load no local files");
  assert.equal(panel.posted.length, 0, "nothing is posted before the page says it is ready");
  panel.fromPage({ type: "ready" });
  assert.deepEqual(panel.posted, [
    { type: "begin", total: 1, title: "note.md" },
    { type: "sentence", index: 0, text: "Hello.", wav: b64(wav) },
  ]);
  panel.fromPage({ type: "playing", index: 0 });
  panel.fromPage({ type: "progress", index: 0, time: 0.5 });
  panel.fromPage({ type: "ended", index: 0 });
  panel.fromPage({ type: "error", index: 0, message: "media error 4" });
  panel.fromPage({ type: "nonsense" });
  panel.dispose();
  assert.deepEqual(events, [
    { type: "playing", index: 0 },
    { type: "progress", index: 0, time: 0.5 },
    { type: "ended", index: 0 },
    { type: "error", index: 0, message: "media error 4" },
    { type: "closed" },
  ]);
  // Closed: the next reading opens a fresh panel.
  player.begin(1, "again");
  assert.equal(mock.state.panels.length, 2);
  player.dispose();
});
