import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, test } from "node:test";
import { CURRENT_CLASS, readingField } from "../src/highlight";
import OwnvoicePlugin from "../src/main";
import { DEFAULT_SETTINGS } from "../src/settings";
import { TrainVoiceModal } from "../src/ui/train-modal";
import { VoiceSuggestModal } from "../src/ui/voice-modal";
import { parseWav } from "../src/wav";
import { FakeEditor, fakeApp } from "./mocks/app";
import {
  FakeElement,
  MarkdownView,
  type MockRequest,
  type MockResponse,
  Notice,
  notices,
  openedModals,
  requests,
  setRequestHandler,
  settingsIn,
} from "./mocks/obsidian";
import { FakeBackend, flush, silentWav } from "./support/audio";

const MANIFEST = { id: "ownvoice-reader", name: "ownvoice", version: "0.1.0", minAppVersion: "1.5.0" };
const TOKEN = "test-token-0123456789";

/** A fake daemon following docs/API.md: naive sentence split with UTF-16 offsets, silent WAVs. */
function daemon(overrides: Partial<Record<string, (req: MockRequest, body: any) => MockResponse | undefined>> = {}) {
  const bodies: Array<{ path: string; body: any }> = [];
  setRequestHandler((req) => {
    const path = new URL(req.url).pathname;
    const body = typeof req.body === "string" ? JSON.parse(req.body) : req.body;
    bodies.push({ path, body });
    const custom = overrides[path]?.(req, body);
    if (custom) return custom;
    if (req.headers?.Authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { ok: false, error: "unauthorized", status: 401 } };
    switch (path) {
      case "/api/status":
        return { status: 200, body: { ok: true, version: "0.1.0", default_voice: "default", voices: 2 } };
      case "/api/voices":
        return {
          status: 200,
          body: {
            voices: [
              { id: "default", name: "Default", languages: ["en"], builtin: true, licence: "Apache-2.0" },
              { id: "ann", name: "Ann", languages: ["en"], builtin: false },
            ],
            default: "default",
          },
        };
      case "/api/script": {
        const sentences = [...(body.text as string).matchAll(/[A-Z][^.!?\n]*(?:[.!?]|$)/gm)].map((m, i) => ({
          index: i,
          text: m[0],
          lang: "en",
          start: m.index!,
          end: m.index! + m[0].length,
          heading: null,
        }));
        return { status: 200, body: { ok: true, sentences } };
      }
      case "/api/speak":
        if (body.voice !== "default" && body.voice !== "ann") {
          return { status: 404, body: { ok: false, error: `unknown voice '${body.voice}'`, status: 404 } };
        }
        return { status: 200, headers: { "Content-Type": "audio/wav", "X-Ownvoice-Duration": "0.5" }, body: silentWav(0.5) };
      default:
        return { status: 404, body: { ok: false, error: "not found", status: 404 } };
    }
  });
  return bodies;
}

interface Loaded {
  plugin: OwnvoicePlugin;
  app: ReturnType<typeof fakeApp>;
  backend: FakeBackend;
  sleeps: number[];
  home: string;
}

async function load(data: unknown = null, withToken = true): Promise<Loaded> {
  const home = mkdtempSync(join(tmpdir(), "ownvoice-obsidian-"));
  if (withToken) {
    mkdirSync(join(home, ".config", "ownvoice"), { recursive: true });
    writeFileSync(join(home, ".config", "ownvoice", "token"), `${TOKEN}\n`, { mode: 0o600 });
  }
  const app = fakeApp();
  const plugin = new OwnvoicePlugin(app as any, MANIFEST as any);
  (plugin as any).data = data;
  plugin.platform = { platform: "linux", env: {}, homedir: home };
  const backend = new FakeBackend();
  plugin.audioBackend = backend;
  const sleeps: number[] = [];
  plugin.sleep = async (ms) => {
    sleeps.push(ms);
  };
  await plugin.onload();
  return { plugin, app, backend, sleeps, home };
}

/** Opens `text` in an editor (with the plugin's editor extension) as the active note. */
function openNote(l: Loaded, path: string, text: string) {
  const file = l.app.vault.add(path, text);
  const editor = new FakeEditor(text, (l.plugin as any).editorExtensions);
  const view = new MarkdownView(editor, file);
  l.app.workspace.activeView = view;
  return { file, editor, view };
}

function marked(editor: FakeEditor): string[] {
  const state = editor.cm.state;
  const out: string[] = [];
  state.field(readingField).decorations.between(0, state.doc.length, (from, to, v) => {
    if ((v.spec as { class: string }).class === CURRENT_CLASS) out.push(state.doc.sliceString(from, to));
  });
  return out;
}

const lastNotice = () => notices[notices.length - 1]?.message ?? "";

function statusText(l: Loaded): string {
  return (l.plugin.statusBar as any).text as string;
}

beforeEach(() => {
  notices.length = 0;
  openedModals.length = 0;
  requests.length = 0;
});

test("commands are registered with plain ids, sentence-case names and no default hotkeys", async () => {
  const { plugin } = await load();
  const cmds = (plugin as any).commands as Array<{ id: string; name: string; hotkeys?: unknown }>;
  assert.deepEqual(
    cmds.map((c) => c.id),
    [
      "read-note",
      "read-selection",
      "read-from-cursor",
      "pause-resume",
      "stop",
      "export-note-audio",
      "train-voice",
      "cancel-training",
      "choose-voice",
    ],
  );
  for (const c of cmds) {
    assert.equal(c.hotkeys, undefined, `${c.id} has no default hotkey`);
    assert.ok(!c.id.includes("ownvoice"), `${c.id} does not repeat the plugin id`);
    assert.match(c.name, /^[A-Z][a-z]/, `${c.name} starts in sentence case`);
    assert.equal(c.name.slice(1), c.name.slice(1).toLowerCase(), `${c.name} has no Title Case`);
  }
  assert.equal((plugin as any).ribbonIcons.length, 1);
  assert.equal((plugin as any).statusBarItems.length, 1);
  assert.equal((plugin as any).settingTabs.length, 1);
  assert.equal((plugin as any).editorExtensions.length, 1);
});

test("settings load merged over defaults and every change is saved with saveData", async () => {
  const l = await load({ voice: "ann", speed: 1.5, bogus: true, links: "nonsense" });
  assert.equal(l.plugin.settings.voice, "ann");
  assert.equal(l.plugin.settings.speed, 1.5);
  assert.equal(l.plugin.settings.links, "text");
  assert.equal(l.plugin.settings.daemonUrl, DEFAULT_SETTINGS.daemonUrl);
  await l.plugin.updateSettings({ speed: 0.75 });
  const saved = (l.plugin as any).data;
  assert.deepEqual(saved, { ...DEFAULT_SETTINGS, voice: "ann", speed: 0.75 });
  assert.ok(!("bogus" in saved));
  assert.match(statusText(l), /0\.75×/);

  // The settings tab writes through the same path.
  daemon();
  const tab = (l.plugin as any).settingTabs[0];
  tab.display();
  await tab.voicesLoaded;
  const voice = settingsIn(tab.containerEl).find((s) => s.name === "Voice" && !s.heading)!;
  assert.deepEqual((voice.components[0] as unknown as { options: string[] }).options, ["default", "ann"], "voices come from the daemon");
  const toggle = settingsIn(tab.containerEl).find((s) => s.name === "Stop when switching notes")!;
  await toggle.components[0].change(false);
  assert.equal((l.plugin as any).data.stopOnNoteSwitch, false);
  // A reload reads the saved data back.
  await l.plugin.loadSettings();
  assert.equal(l.plugin.settings.stopOnNoteSwitch, false);
  assert.equal(l.plugin.settings.speed, 0.75);
});

test("reading a note highlights sentence 0 then 1 while the status bar shows progress", async () => {
  const l = await load();
  const bodies = daemon();
  const { editor, view } = openNote(l, "Notes/Day.md", "# Day\n\nFirst sentence here. Second one 😀 follows.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.deepEqual(bodies.slice(0, 2).map((b) => b.path), ["/api/status", "/api/script"], "is the model loaded, then the script");
  assert.equal(bodies[1].body.markdown, true);
  assert.deepEqual(bodies[1].body.rules, { code_blocks: "announce", links: "text", math: "formula", heading_pause: true });
  const speak = bodies.filter((b) => b.path === "/api/speak");
  assert.deepEqual(
    speak.map((b) => b.body.text),
    ["Day", "First sentence here.", "Second one 😀 follows."].slice(0, speak.length),
  );
  // The fake script starts at the first capital: "Day" is the heading.
  assert.deepEqual(marked(editor), ["Day"]);
  assert.match(statusText(l), /^1\/3 /);
  l.backend.last.finish();
  await flush();
  assert.deepEqual(marked(editor), ["First sentence here."]);
  assert.match(statusText(l), /^2\/3 /);
  l.backend.last.finish();
  await flush();
  assert.deepEqual(marked(editor), ["Second one 😀 follows."]);
  l.backend.last.finish();
  await flush();
  assert.deepEqual(marked(editor), [], "the highlight is removed at the end");
  assert.equal(l.plugin.session, null);
  for (const r of requests) assert.equal(r.headers?.Authorization, `Bearer ${TOKEN}`);
  for (const r of requests) assert.equal(r.throw, false, "errors are read from the body, not thrown");
});

test("reading from the cursor and reading a selection start where the user is", async () => {
  const l = await load();
  daemon();
  const text = "Alpha one. Beta two. Gamma three.";
  const { editor, view } = openNote(l, "a.md", text);
  editor.select(text.indexOf("eta"), text.indexOf("eta"));
  await l.plugin.read(editor as any, view as any, "cursor");
  await flush();
  assert.deepEqual(marked(editor), ["Beta two."]);
  l.plugin.stopReading();
  assert.deepEqual(marked(editor), []);

  const bodies = daemon();
  editor.select(text.indexOf("Gamma"), text.length);
  await l.plugin.read(editor as any, view as any, "selection");
  await flush();
  assert.equal(bodies[0].body.text, "Gamma three.");
  assert.deepEqual(marked(editor), ["Gamma three."], "selection offsets are shifted onto the document");
});

test("daemon down: a notice says how to start it", async () => {
  const l = await load();
  setRequestHandler(() => {
    throw new Error("net::ERR_CONNECTION_REFUSED");
  });
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  assert.equal(
    lastNotice(),
    "ownvoice daemon is not running — start it with `ownvoice start` (or `make run` in the ownvoice folder)",
  );
  assert.equal(l.plugin.session, null);
  assert.match(statusText(l), /^1× default/, "the status bar is back to idle");
});

test("401: a notice says the token was rejected and where it was read from", async () => {
  const l = await load();
  daemon({ "/api/script": () => ({ status: 401, body: { ok: false, error: "unauthorized", status: 401 } }) });
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  assert.equal(lastNotice(), `token rejected — check the token file (${join(l.home, ".config", "ownvoice", "token")})`);
});

test("the first reading waits while the daemon loads its model, with a notice, and later ones do not ask", async () => {
  const l = await load();
  let polls = 0;
  const bodies = daemon({
    "/api/status": () => {
      polls++;
      const model = polls < 3 ? { state: "loading", seconds: polls } : { state: "ready", seconds: 3 };
      return { status: 200, body: { ok: true, version: "0.1.0", default_voice: "default", voices: 2, model } };
    },
  });
  const { editor, view } = openNote(l, "a.md", "Hello there. Bye now.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.equal(polls, 3);
  assert.deepEqual(l.sleeps, [1000, 1000], "polled once a second");
  const notice = notices.find((n) => /loading its voice model/.test(n.message));
  assert.ok(notice, notices.map((n) => n.message).join("\n"));
  assert.ok(notice.hidden, "the notice goes once the model is ready");
  assert.deepEqual(marked(editor), ["Hello there."]);
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.equal(polls, 3, "the second reading does not ask again");
  assert.equal(bodies.filter((b) => b.path === "/api/script").length, 2);
});

test("a model the daemon could not load: the notice says so and nothing is spoken", async () => {
  const l = await load();
  const bodies = daemon({
    "/api/status": () => ({
      status: 200,
      body: { ok: true, version: "0.1.0", default_voice: "default", voices: 2, model: { state: "failed", error: "RuntimeError: weights damaged" } },
    }),
  });
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.match(lastNotice(), /could not load its model: RuntimeError: weights damaged/);
  assert.equal(bodies.filter((b) => b.path === "/api/speak").length, 0);
});

test("no token file: the notice names the expected path", async () => {
  const l = await load(null, false);
  daemon();
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  assert.match(lastNotice(), new RegExp(`no ownvoice token found at ${join(l.home, ".config", "ownvoice", "token")}`));
});

test("503 with Retry-After: 'daemon busy, retrying…' then the reading goes on", async () => {
  const l = await load();
  let busy = 2;
  daemon({
    "/api/speak": () =>
      busy-- > 0 ? { status: 503, headers: { "Retry-After": "2" }, body: { ok: false, error: "queue full", status: 503 } } : undefined,
  });
  const { editor, view } = openNote(l, "a.md", "Hello there. Bye now.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush(10);
  assert.ok(notices.some((n) => n.message === "daemon busy, retrying… (in 2 s)"), notices.map((n) => n.message).join("\n"));
  assert.deepEqual(l.sleeps, [2000, 2000], "Retry-After is honoured");
  assert.deepEqual(marked(editor), ["Hello there."]);
});

test("unknown voice: the notice names the voice and how to pick another", async () => {
  const l = await load({ voice: "ghost" });
  daemon();
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.match(lastNotice(), /^unknown voice “ghost” — pick one with the “Choose voice” command/);
  assert.equal(l.plugin.session, null);
});

test("a non-local daemon URL is refused unless allowed", async () => {
  const l = await load({ daemonUrl: "http://192.168.1.20:7723" });
  daemon();
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  assert.match(lastNotice(), /^refusing to connect to 192\.168\.1\.20:7723/);
  assert.equal(requests.length, 0, "nothing was sent");
});

test("switching to another note stops the reading (when the setting is on)", async () => {
  const l = await load();
  daemon();
  const { editor, view, file } = openNote(l, "a.md", "Hello there. Bye now.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  l.app.workspace.trigger("file-open", file);
  assert.ok(l.plugin.session, "reopening the same note keeps reading");
  l.app.workspace.trigger("file-open", l.app.vault.add("b.md", "Other."));
  assert.equal(l.plugin.session, null);
  assert.deepEqual(marked(editor), []);

  // Switching away while the script is still being made: the reading never starts.
  const pending = l.plugin.read(editor as any, view as any, "note");
  l.app.workspace.trigger("file-open", l.app.vault.getAbstractFileByPath("b.md"));
  await pending;
  await flush();
  assert.equal(l.plugin.session, null);
  assert.equal(l.backend.clips.filter((c) => c.playing).length, 0);
});

test("pause/resume and stop commands drive the player", async () => {
  const l = await load();
  daemon();
  const { editor, view } = openNote(l, "a.md", "Hello there. Bye now.");
  const cmd = (id: string) => ((l.plugin as any).commands as any[]).find((c) => c.id === id);
  assert.equal(cmd("pause-resume").checkCallback(true), false, "unavailable when nothing is read");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.equal(cmd("pause-resume").checkCallback(true), true);
  cmd("pause-resume").checkCallback(false);
  assert.equal(l.plugin.session!.player.state, "paused");
  assert.equal(l.backend.last.playing, false);
  cmd("pause-resume").checkCallback(false);
  await flush();
  assert.equal(l.backend.last.playing, true);
  cmd("stop").checkCallback(false);
  assert.equal(l.plugin.session, null);
});

test("export writes <note>.ownvoice.wav next to the note and embeds it once", async () => {
  const l = await load();
  daemon();
  const { file, editor } = openNote(l, "Folder/Talk.md", "Hello there. Bye now.\n");
  const audio = await l.plugin.exportNote(file as any);
  assert.ok(audio);
  assert.equal(audio.path, "Folder/Talk.ownvoice.wav");
  const wav = await l.app.vault.readBinary(audio as any);
  const info = parseWav(wav);
  assert.equal(info.sampleRate, 24000);
  assert.ok(Math.abs(info.duration - (0.5 + 0.2 + 0.5)) < 0.01, `two sentences and one gap: ${info.duration}`);
  assert.equal(editor.getValue(), "Hello there. Bye now.\n\n![[Talk.ownvoice.wav]]\n");
  assert.match(lastNotice(), /^Saved Talk\.ownvoice\.wav/);
  // Again: the file is replaced, the embed not duplicated.
  await l.plugin.exportNote(file as any);
  assert.equal(editor.getValue().match(/ownvoice\.wav/g)!.length, 1);
});

test("export of a note that is not open edits it through the vault", async () => {
  const l = await load({ embedExportedAudio: true });
  daemon();
  const file = l.app.vault.add("Solo.md", "Just one.");
  await l.plugin.exportNote(file as any);
  assert.equal(l.app.vault.text("Solo.md"), "Just one.\n\n![[Solo.ownvoice.wav]]\n");
});

test("training uploads the note's audio attachments with consent, then follows the job to the end", async () => {
  const l = await load();
  let polls = 0;
  const bodies = daemon({
    "/api/voices": (req) =>
      req.method === "POST" ? { status: 202, body: { ok: true, job_id: "j1" } } : undefined,
    "/api/jobs/j1": () => {
      polls++;
      return {
        status: 200,
        body:
          polls < 3
            ? { id: "j1", kind: "train", state: "running", progress: polls / 4, message: "fitting style" }
            : { id: "j1", kind: "train", state: "done", progress: 1, message: "", result: { voice: "ann" } },
      };
    },
  });
  const rec = l.app.vault.add("rec/take1.wav", silentWav(0.2));
  l.app.vault.add("rec/take1.txt", "Hello, this is me.");
  l.app.vault.add("other.mp3", new ArrayBuffer(10));
  const note = l.app.vault.add("Voice.md", "![[take1.wav]]");
  l.app.workspace.activeFile = note;
  l.app.metadataCache.caches.set("Voice.md", { embeds: [{ link: "take1.wav" }] });

  const cmd = ((l.plugin as any).commands as any[]).find((c) => c.id === "train-voice");
  cmd.callback();
  const modal = openedModals[openedModals.length - 1] as unknown as TrainVoiceModal;
  assert.ok(modal instanceof TrainVoiceModal);
  assert.deepEqual(
    modal.choice().files.map((f) => f.path),
    [rec.path],
    "the note's embedded recording is preselected",
  );
  await modal.submit();
  assert.match((modal as any).contentEl.findAll("ownvoice-error")[0].getText(), /name/, "a name is required");
  const settings = settingsIn((modal as any).contentEl);
  await settings.find((s) => s.name === "Voice name")!.components[0].change("Ann");
  await modal.submit();
  assert.match((modal as any).contentEl.findAll("ownvoice-error")[0].getText(), /consent/);
  await settings.find((s) => s.name === "Consent")!.components[0].change("I am the speaker and I agree.");
  const denoise = settings.find((s) => s.name === "Clean background noise")!.components[0] as any;
  assert.deepEqual(denoise.options, ["", "off", "auto", "on"], "the daemon's setting, or off / auto / on");
  assert.equal(modal.choice().denoise, undefined, "by default the daemon's setting decides");
  await denoise.change("auto");
  await modal.submit();
  assert.equal((modal as any).isOpen, false);

  const upload = requests.find((r) => r.url.endsWith("/api/voices") && r.method === "POST")!;
  const form = await new Response(upload.body as ArrayBuffer, { headers: { "content-type": upload.contentType! } }).formData();
  assert.equal(form.get("name"), "Ann");
  assert.equal(form.get("consent"), "I am the speaker and I agree.");
  assert.equal(form.get("lang"), "en");
  assert.equal(form.get("denoise"), "auto");
  assert.deepEqual(
    (form.getAll("file") as File[]).map((f) => f.name),
    ["take1.wav", "take1.txt"],
  );
  assert.ok(bodies.length > 0);
  await flush(20);
  const progress = notices.find((n) => n.messages.some((m) => m.startsWith("Training “Ann”")))!;
  assert.ok(progress.messages.includes("Training “Ann”: 25 % — fitting style"), progress.messages.join("\n"));
  assert.equal(progress.message, "Voice “Ann” is ready — pick it with “Choose voice”");
  assert.equal(l.plugin.trainingJob, null);
});

test("choose voice lists the daemon's voices and saves the choice", async () => {
  const l = await load();
  daemon();
  await l.plugin.chooseVoice();
  const modal = openedModals[openedModals.length - 1] as unknown as VoiceSuggestModal;
  assert.ok(modal instanceof VoiceSuggestModal);
  const all = modal.getSuggestions("");
  assert.deepEqual(
    all.map((v) => v.id),
    ["default", "ann"],
  );
  assert.deepEqual(
    modal.getSuggestions("an").map((v) => v.id),
    ["ann"],
  );
  const el = new FakeElement();
  modal.renderSuggestion(all[0], el as any);
  assert.equal(el.getText(), "Default (current)en · built in · Apache-2.0");
  modal.onChooseSuggestion(all[1]);
  await flush();
  assert.equal(l.plugin.settings.voice, "ann");
  assert.equal((l.plugin as any).data.voice, "ann");
  assert.match(statusText(l), /ann$/);
});

test("test connection reports the version and voice, or what is wrong", async () => {
  const l = await load();
  daemon();
  assert.equal(await l.plugin.testConnection(), "Connected to ownvoice 0.1.0 with 2 voices; reading with “Default”.");
  await l.plugin.updateSettings({ voice: "ghost" });
  assert.match(await l.plugin.testConnection(), /the voice “ghost” does not exist/);
  setRequestHandler(() => {
    throw new Error("net::ERR_CONNECTION_REFUSED");
  });
  assert.match(await l.plugin.testConnection(), /^ownvoice daemon is not running/);
});

test("unloading stops the reading and removes the plugin's event handlers", async () => {
  const l = await load();
  daemon();
  const { editor, view } = openNote(l, "a.md", "Hello there.");
  await l.plugin.read(editor as any, view as any, "note");
  await flush();
  assert.ok(l.app.workspace.count("file-open") > 0);
  l.plugin.unload();
  assert.equal(l.plugin.session, null);
  assert.equal(l.app.workspace.count("file-open"), 0);
  assert.equal(l.app.workspace.count("file-menu"), 0);
  assert.ok(notices.every((n) => n instanceof Notice));
});
