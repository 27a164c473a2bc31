// The extension wired up inside the mocked VS Code, talking HTTP to the protocol double: commands, settings,
// daemon playback with highlighting, the webview fallback on 409, and the messages for each failure.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import type * as vscode from "vscode";
import pkg from "../package.json";
import { activate, COMMANDS, type Ownvoice, SECRET_KEY, shellQuote, wavNextTo } from "../src/extension";
import { parseWav } from "../src/wav";
import { commands, mock, type MockTextEditor, type MockWebviewPanel, Uri } from "./mocks/vscode";
import { FakeDaemon } from "./support/fake-daemon";
import { PageSandbox } from "./support/page-sandbox";

const daemon = new FakeDaemon();
const dir = mkdtempSync(join(tmpdir(), "ownvoice-vscode-ext-"));
const tokenFile = join(dir, "token");
const RULES = { code_blocks: "announce", links: "text", math: "formula" };
const NOTE = "# Groceries 😀\n\nBuy milk. Then bread!\n\n- Eggs are optional.\n";

let ext: Ownvoice;
let context: ReturnType<typeof mock.context>;

before(async () => {
  await daemon.start();
});
after(async () => {
  await daemon.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  ext?.dispose();
  mock.reset();
  daemon.override.clear();
  daemon.requests.length = 0;
  daemon.audioDevice = true;
  daemon.sentenceSeconds = 0.08;
  daemon.playbackReports = "index";
  daemon.clock = "wall";
  writeFileSync(tokenFile, `${daemon.token}\n`);
  mock.setting("daemonUrl", daemon.url);
  mock.setting("tokenFile", tokenFile);
  context = mock.context();
  ext = activate(context as unknown as vscode.ExtensionContext);
});

/** Connects every webview panel to a sandboxed copy of its real page; `autoEnd` finishes each sentence. */
function attachPages(autoEnd = true): PageSandbox[] {
  const pages: PageSandbox[] = [];
  const byPanel = new Map<MockWebviewPanel, PageSandbox>();
  mock.state.onPanel = (panel) => {
    const page = new PageSandbox(panel.webview.html);
    page.onPost = (m) => {
      panel.fromPage(m);
      if (autoEnd && m.type === "playing") setTimeout(() => page.audio.finish(), 15);
    };
    byPanel.set(panel, page);
    pages.push(page);
    panel.fromPage({ type: "ready" }); // what the page posted while it loaded
  };
  mock.state.onPost = (panel, m) => byPanel.get(panel)?.deliver(JSON.parse(JSON.stringify(m)));
  return pages;
}

/** Distinct texts painted in an editor, in order of first appearance. */
function painted(editor: MockTextEditor): string[] {
  const out: string[] = [];
  for (const ranges of editor.history) {
    for (const r of ranges) {
      const t = editor.document.getText(r);
      if (!out.includes(t)) out.push(t);
    }
  }
  return out;
}

const cleared = (editor: MockTextEditor) => editor.history.at(-1)?.length === 0;
const shown = (severity?: string) => mock.state.messages.filter((m) => !severity || m.severity === severity);

test("every command in package.json has a handler, and every handler is contributed", () => {
  const contributed = pkg.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual([...mock.state.commands.keys()].sort(), contributed);
  assert.deepEqual([...COMMANDS].sort(), contributed);
  assert.deepEqual(pkg.activationEvents.sort(), contributed.map((c) => `onCommand:${c}`).sort());
  for (const c of ["ownvoice.readFile", "ownvoice.readSelection", "ownvoice.readFromCursor", "ownvoice.stop", "ownvoice.exportAudio", "ownvoice.chooseVoice", "ownvoice.showStatus"]) {
    assert.ok(contributed.includes(c), `${c} is contributed`);
  }
  const menuCommands = Object.values(pkg.contributes.menus).flat().map((m) => m.command);
  assert.ok(menuCommands.every((c) => contributed.includes(c)), "menus only name contributed commands");
  assert.equal((pkg as { contributes: { keybindings?: unknown } }).contributes.keybindings, undefined, "no default keybindings");
  assert.equal(context.subscriptions.length, COMMANDS.length + 1);
});

test("the bundle's manifest points at dist/extension.js with vscode left external", () => {
  assert.equal(pkg.main, "./dist/extension.js");
  assert.match(pkg.engines.vscode, /^\^1\.\d+\.\d+$/);
});

test("the status bar shows the current voice and follows the setting", () => {
  const [stopItem, voiceItem] = [mock.state.statusItems.find((i) => i.id === "ownvoice.stop")!, mock.state.statusItems.find((i) => i.id === "ownvoice.voice")!];
  assert.ok(voiceItem.visible);
  assert.equal(voiceItem.text, "$(unmute) default");
  assert.equal(voiceItem.command, "ownvoice.chooseVoice");
  assert.ok(!stopItem.visible, "no stop button while nothing is read");
  mock.setting("voice", "me");
  assert.equal(voiceItem.text, "$(unmute) me");
});


test("read file: the daemon plays the Markdown and each sentence is highlighted as it is spoken", async () => {
  daemon.clock = "polls"; // each progress poll sees the next sentence, however loaded the machine is
  mock.setting("speed", 1.3);
  const editor = mock.openEditor(NOTE, "markdown");
  const stopItem = mock.state.statusItems.find((i) => i.id === "ownvoice.stop")!;
  let stopVisibleWhileReading = false;
  const poll = setInterval(() => (stopVisibleWhileReading ||= stopItem.visible), 5);
  await commands.executeCommand("ownvoice.readFile");
  clearInterval(poll);
  const [play] = daemon.calls("POST /api/play");
  assert.deepEqual(play.body, { text: NOTE, voice: "default", lang: "auto", speed: 1.3, markdown: true, rules: RULES });
  assert.deepEqual(painted(editor), ["Groceries 😀", "Buy milk.", "Then bread!", "Eggs are optional."]);
  assert.ok(editor.revealed.length >= 1, "the editor follows the reading");
  assert.ok(cleared(editor), "the highlight is gone when the reading ends");
  assert.ok(stopVisibleWhileReading && !stopItem.visible, "stop button only while reading");
  assert.ok(daemon.calls("GET /api/playback").length >= 3, "progress comes from GET /api/playback");
  assert.equal(shown("error").length, 0, JSON.stringify(mock.state.messages));
});

test("when the daemon reports only positions, sentence timings t0/t1 pick the highlight", async () => {
  daemon.playbackReports = "position";
  daemon.clock = "polls"; // each progress poll sees the next sentence, however loaded the machine is
  const editor = mock.openEditor("One here. Two here. Three here.", "plaintext", "/notes/a.txt");
  await commands.executeCommand("ownvoice.readFile");
  assert.deepEqual(painted(editor), ["One here.", "Two here.", "Three here."]);
  assert.equal(daemon.calls("POST /api/play")[0].body.markdown, false, "plain text files are not Markdown");
});

test("read selection: the selected text is sent and highlights land in document coordinates (CRLF)", async () => {
  daemon.clock = "polls"; // each progress poll sees the next sentence, however loaded the machine is
  const text = "Skip this.\r\nRead 😀 this. And this.\r\nNot this.";
  const editor = mock.openEditor(text, "markdown");
  const start = text.indexOf("Read");
  editor.select(start, text.indexOf("\r\nNot"));
  await commands.executeCommand("ownvoice.readSelection");
  assert.equal(daemon.calls("POST /api/play")[0].body.text, "Read 😀 this. And this.");
  assert.deepEqual(painted(editor), ["Read 😀 this.", "And this."]);
  const first = editor.history.find((r) => r.length)![0];
  assert.deepEqual([first.start.line, first.start.character, first.end.line, first.end.character], [1, 0, 1, 13]);
});

test("read selection without a selection asks for one; no editor asks for a file", async () => {
  mock.openEditor("Some text.", "markdown");
  await commands.executeCommand("ownvoice.readSelection");
  assert.match(shown("info")[0].message, /select the text/);
  mock.state.active = undefined;
  for (const c of ["ownvoice.readFile", "ownvoice.readFromCursor", "ownvoice.exportAudio"]) await commands.executeCommand(c);
  assert.equal(shown("info").filter((m) => /open a Markdown or text file/.test(m.message)).length, 3);
  assert.equal(daemon.requests.length, 0);
});

test("read from cursor starts with the sentence the cursor is in", async () => {
  daemon.clock = "polls"; // each progress poll sees the next sentence, however loaded the machine is
  const editor = mock.openEditor(NOTE, "markdown");
  editor.select(NOTE.indexOf("bread"));
  await commands.executeCommand("ownvoice.readFromCursor");
  assert.equal(daemon.calls("POST /api/script").length, 1);
  assert.equal(daemon.calls("POST /api/play")[0].body.text, NOTE.slice(NOTE.indexOf("Then bread")));
  assert.deepEqual(painted(editor), ["Then bread!", "Eggs are optional."]);
});

test("409 from /api/play: the reading continues in the webview player, and stays there", async () => {
  daemon.audioDevice = false;
  const pages = attachPages();
  const editor = mock.openEditor(NOTE, "markdown");
  await commands.executeCommand("ownvoice.readFile");
  assert.match(shown("info")[0].message, /cannot play audio here \(no audio output device.*\); playing in a VS Code panel/);
  assert.equal(mock.state.panels.length, 1);
  const speaks = daemon.calls("POST /api/speak");
  assert.deepEqual(speaks.map((r) => r.body.text), ["Groceries 😀", "Buy milk.", "Then bread!", "Eggs are optional."]);
  assert.ok(speaks.every((r) => r.body.markdown === false && r.body.format === "wav"));
  const sent = pages[0].posted.filter((m) => m.type === "ended").map((m) => m.index);
  assert.deepEqual(sent, [0, 1, 2, 3], "the page played every sentence");
  assert.deepEqual(painted(editor), ["Groceries 😀", "Buy milk.", "Then bread!", "Eggs are optional."]);
  assert.ok(cleared(editor));
  // The next reading goes straight to the panel.
  daemon.requests.length = 0;
  await commands.executeCommand("ownvoice.readFile");
  assert.equal(daemon.calls("POST /api/play").length, 0);
  assert.equal(daemon.calls("POST /api/speak").length, 4);
});

test("playback set to webview never asks the daemon to play", async () => {
  mock.setting("playback", "webview");
  attachPages();
  const editor = mock.openEditor("Alpha one. Beta two.", "plaintext", "/n.txt");
  await commands.executeCommand("ownvoice.readFile");
  assert.equal(daemon.calls("POST /api/play").length, 0);
  assert.deepEqual(daemon.calls("POST /api/script")[0].body, { text: "Alpha one. Beta two.", markdown: false });
  assert.deepEqual(painted(editor), ["Alpha one.", "Beta two."]);
});

test("editing the document while it is read keeps the highlight on the same words", async () => {
  mock.setting("playback", "webview");
  const pages = attachPages(false);
  const editor = mock.openEditor("First line here. Second line here.", "plaintext", "/e.txt");
  const reading = commands.executeCommand("ownvoice.readFile");
  while (!pages[0]?.posted.some((m) => m.type === "playing")) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(painted(editor), ["First line here."]);
  editor.document.edit(0, 0, "New start. ");
  const ranges = editor.history.at(-1)!;
  assert.equal(editor.document.getText(ranges[0]), "First line here.");
  await commands.executeCommand("ownvoice.stop");
  await reading;
  assert.ok(cleared(editor));
  assert.deepEqual(pages[0].posted.at(-1)?.type, "playing");
  assert.equal(pages[0].audio.src, "", "stop reached the page");
});

test("stop ends daemon playback with POST /api/stop and clears the highlight", async () => {
  daemon.sentenceSeconds = 1;
  const editor = mock.openEditor("One. Two. Three. Four.", "plaintext", "/s.txt");
  const reading = commands.executeCommand("ownvoice.readFile");
  while (!editor.history.some((r) => r.length)) await new Promise((r) => setTimeout(r, 5));
  await commands.executeCommand("ownvoice.stop");
  await reading;
  assert.equal(daemon.calls("POST /api/stop").length, 1);
  assert.ok(cleared(editor));
  assert.equal(ext.reader.reading, false);
});

test("daemon not running: the message offers Start daemon, which runs `ownvoice start` and retries", async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  mock.setting("daemonUrl", `http://127.0.0.1:${closed}`);
  mock.setting("executable", "/opt/own voice/bin/ownvoice");
  const editor = mock.openEditor("Hello there.", "markdown");
  mock.state.respond = (m) => {
    if (!m.message.startsWith("ownvoice daemon is not running")) return undefined;
    mock.setting("daemonUrl", daemon.url); // the daemon comes up after `ownvoice start`
    return "Start daemon";
  };
  await commands.executeCommand("ownvoice.readFile");
  const [err] = shown("error");
  assert.equal(err.message, `ownvoice daemon is not running (http://127.0.0.1:${closed})`);
  assert.deepEqual(err.items, ["Start daemon"]);
  assert.equal(mock.state.terminals.length, 1);
  assert.deepEqual(mock.state.terminals[0].sent, ["'/opt/own voice/bin/ownvoice' start"]);
  assert.equal(daemon.calls("POST /api/play").length, 1, "the reading was retried once the daemon answered");
  assert.deepEqual(painted(editor), ["Hello there."]);
});

test("401: the token is wrong; Set token stores one in secret storage that is used from then on", async () => {
  writeFileSync(tokenFile, "stale-token\n");
  mock.openEditor("Hello.", "markdown");
  mock.state.respond = (m) => (m.severity === "error" ? "Set token" : undefined);
  mock.state.inputBox = () => ` ${daemon.token} `;
  await commands.executeCommand("ownvoice.readFile");
  const [err] = shown("error");
  assert.match(err.message, new RegExp(`rejected the token from ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.deepEqual(err.items, ["Set token", "Open settings"]);
  assert.equal(await context.secrets.get(SECRET_KEY), daemon.token);
  mock.state.messages = [];
  daemon.requests.length = 0;
  await commands.executeCommand("ownvoice.showStatus");
  assert.equal(daemon.requests[0].headers.authorization, `Bearer ${daemon.token}`);
  assert.match(shown("info")[0].message, /^ownvoice 0\.1\.0-fake at http:\/\/127\.0\.0\.1:\d+: default voice default, 2 voices, queue 0 pending \/ 0 running$/);
  // A stale stored token can be dropped in favour of the file again.
  await context.secrets.store(SECRET_KEY, "also-stale");
  mock.state.messages = [];
  mock.state.respond = (m) => (m.severity === "error" ? "Use token file" : undefined);
  await commands.executeCommand("ownvoice.showStatus");
  assert.ok(shown("error")[0].items.includes("Use token file"));
  assert.equal(await context.secrets.get(SECRET_KEY), undefined);
});

test("Open settings from a 401 opens the extension's settings", async () => {
  writeFileSync(tokenFile, "stale-token\n");
  mock.state.respond = (m) => (m.severity === "error" ? "Open settings" : undefined);
  await commands.executeCommand("ownvoice.showStatus");
  assert.ok(mock.state.executed.some((e) => e.command === "workbench.action.openSettings"));
});

test("no token file: the message says where it looked and how to fix it", async () => {
  rmSync(tokenFile);
  await commands.executeCommand("ownvoice.showStatus");
  const [err] = shown("error");
  assert.match(err.message, /no ownvoice token found in .*token/);
  assert.deepEqual(err.items, ["Start daemon", "Set token", "Open settings"]);
  assert.equal(daemon.requests.length, 0);
});

test("503: queue full, retry after the daemon's seconds; Retry tries again", async () => {
  daemon.override.set("POST /api/play", () => daemon.error(503, "synthesis queue is full", { "Retry-After": "7" }));
  const editor = mock.openEditor("Hello again.", "markdown");
  mock.state.respond = (m) => {
    if (m.severity !== "warning") return undefined;
    daemon.override.clear();
    return "Retry";
  };
  await commands.executeCommand("ownvoice.readFile");
  const [warn] = shown("warning");
  assert.equal(warn.message, "ownvoice daemon is busy (queue full) — retry after 7 s");
  assert.deepEqual(warn.items, ["Retry"]);
  assert.equal(daemon.calls("POST /api/play").length, 2);
  assert.deepEqual(painted(editor), ["Hello again."]);
});

test("unknown voice: Choose voice lists the daemon's voices and saves the pick", async () => {
  mock.setting("voice", "ghost");
  mock.openEditor("Hello.", "markdown");
  mock.state.respond = (m) => (m.severity === "error" ? "Choose voice" : undefined);
  let offered: string[] = [];
  mock.state.quickPick = (items) => {
    offered = items.map((i) => i.label);
    return items.find((i) => (i as unknown as { voice: { id: string } }).voice.id === "me");
  };
  await commands.executeCommand("ownvoice.readFile");
  assert.match(shown("error")[0].message, /^unknown voice "ghost" — pick another voice/);
  assert.deepEqual(offered, ["Default voice", "My voice"]);
  assert.deepEqual(mock.state.updates.at(-1), { key: "ownvoice.voice", value: "me", target: 1 });
  const voiceItem = mock.state.statusItems.find((i) => i.id === "ownvoice.voice")!;
  assert.equal(voiceItem.text, "$(unmute) My voice");
});

test("choose voice keeps a workspace-level voice setting in the workspace", async () => {
  mock.state.workspaceSettings.set("ownvoice.voice", "default");
  mock.state.quickPick = (items) => items[1];
  await commands.executeCommand("ownvoice.chooseVoice");
  assert.deepEqual(mock.state.updates.at(-1), { key: "ownvoice.voice", value: "me", target: 2 });
});

test("export audio writes the daemon's WAV next to the note", async () => {
  mock.openEditor(NOTE, "markdown", "/notes/list.md");
  let suggested: string | undefined;
  mock.state.saveDialog = (o) => {
    suggested = o.defaultUri?.path;
    return o.defaultUri;
  };
  await commands.executeCommand("ownvoice.exportAudio");
  assert.equal(suggested, "/notes/list.wav");
  const wav = mock.state.written.get("file:///notes/list.wav")!;
  assert.ok(wav, "the file was written");
  assert.equal(parseWav(wav).sampleRate, 24000);
  assert.deepEqual(daemon.calls("POST /api/speak")[0].body, { text: NOTE, voice: "default", lang: "auto", speed: 1, markdown: true, rules: RULES, format: "wav" });
  assert.match(shown("info")[0].message, /saved 0\.3 s of audio to list\.wav/);
});

test("set token and clear token manage the stored secret", async () => {
  mock.state.inputBox = () => "abc123";
  await commands.executeCommand("ownvoice.setToken");
  assert.equal(context.secrets.values.get(SECRET_KEY), "abc123");
  await commands.executeCommand("ownvoice.clearToken");
  assert.equal(context.secrets.values.has(SECRET_KEY), false);
  mock.state.inputBox = () => undefined; // dismissed: nothing stored
  await commands.executeCommand("ownvoice.setToken");
  assert.equal(context.secrets.values.has(SECRET_KEY), false);
});

test("helpers: shell quoting for the Start daemon terminal and export file names", () => {
  assert.equal(shellQuote("ownvoice"), "ownvoice");
  assert.equal(shellQuote("/home/a/.venv/bin/ownvoice"), "/home/a/.venv/bin/ownvoice");
  assert.equal(shellQuote("/it's here/ownvoice"), "'/it'\\''s here/ownvoice'");
  const uri = (u: Uri) => u as unknown as vscode.Uri;
  assert.equal(wavNextTo(uri(Uri.file("/a/b.c/note.md")))!.path, "/a/b.c/note.wav");
  assert.equal(wavNextTo(uri(Uri.parse("untitled:Untitled-1"))), undefined);
});
