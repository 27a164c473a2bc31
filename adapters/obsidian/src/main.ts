// The Obsidian plugin: commands, ribbon, status-bar player, highlight, export, voice training, settings.

import type { EditorView } from "@codemirror/view";
import {
  type Editor,
  MarkdownView,
  type MarkdownFileInfo,
  Notice,
  Plugin,
  TFile,
  type TAbstractFile,
} from "obsidian";
import { OwnvoiceClient, type Transport } from "./client";
import { BUSY_MESSAGE, DaemonDown, OwnvoiceError, Timeout, userMessage } from "./errors";
import { highlightExtension, moveHighlight, startReading, stopReading } from "./highlight";
import { HtmlAudioBackend } from "./html-audio";
import { describeJob, watchJob } from "./jobs";
import { currentPlatform, nodeFileReader } from "./node-env";
import { obsidianTransport } from "./obsidian-transport";
import type { AudioBackend } from "./player";
import { NothingToRead, type ReadTarget, ReadingSession, planReading, renderAudio, waitForModel } from "./reader";
import {
  type FileReader,
  type OwnvoiceSettings,
  type PlatformInfo,
  type ResolvedToken,
  clampSpeed,
  mergeSettings,
  resolveToken,
  scriptRules,
} from "./settings";
import { OwnvoiceSettingTab } from "./ui/settings-tab";
import { StatusBarPlayer } from "./ui/status-bar";
import { type TrainChoice, TrainVoiceModal } from "./ui/train-modal";
import { VoiceSuggestModal } from "./ui/voice-modal";
import {
  allAudio,
  audioInActiveNote,
  collectRecordings,
  embedAudio,
  exportPathFor,
  isAudio,
  writeAudio,
} from "./vault-files";
import { parseWav } from "./wav";

type ReadMode = "note" | "selection" | "cursor";

/** The CodeMirror 6 view behind an Obsidian editor (null in reading mode or on very old versions). */
function editorViewOf(editor: Editor): EditorView | null {
  const cm = (editor as unknown as { cm?: EditorView }).cm;
  return cm && typeof cm.dispatch === "function" ? cm : null;
}

function dispatchSafely(view: EditorView | null, spec: Parameters<EditorView["dispatch"]>[0]): void {
  if (!view) return;
  try {
    view.dispatch(spec);
  } catch {
    // The editor was closed while reading: there is nothing left to highlight.
  }
}

export default class OwnvoicePlugin extends Plugin {
  override settings: OwnvoiceSettings = mergeSettings(null);
  // Seams for tests; the defaults are what the app uses.
  platform: PlatformInfo = currentPlatform();
  fileReader: FileReader = nodeFileReader;
  transport: Transport = obsidianTransport;
  audioBackend: AudioBackend = new HtmlAudioBackend(() => activeDocument);
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

  session: ReadingSession | null = null;
  statusBar: StatusBarPlayer | null = null;
  private sessionView: EditorView | null = null;
  private sessionFile: string | null = null;
  /** Bumped by every start/stop so that a script arriving after "stop" is dropped. */
  private readGeneration = 0;
  private token: ResolvedToken | null = null;
  private busyNotice: Notice | null = null;
  /** The daemon said its model is loaded (asked before the first reading, and again after it was down). */
  private modelReady = false;
  private exporting = false;
  private exportCancelled = false;
  trainingJob: { id: string; name: string } | null = null;
  private unloaded = false;

  override async onload(): Promise<void> {
    await this.loadSettings();
    this.registerEditorExtension(highlightExtension());

    this.addCommand({
      id: "read-note",
      name: "Read note aloud",
      icon: "volume-2",
      editorCallback: (editor, ctx) => void this.read(editor, ctx, "note"),
    });
    this.addCommand({
      id: "read-selection",
      name: "Read selection aloud",
      editorCheckCallback: (checking, editor, ctx) => {
        if (!editor.somethingSelected()) return false;
        if (!checking) void this.read(editor, ctx, "selection");
        return true;
      },
    });
    this.addCommand({
      id: "read-from-cursor",
      name: "Read aloud from cursor",
      editorCallback: (editor, ctx) => void this.read(editor, ctx, "cursor"),
    });
    this.addCommand({
      id: "pause-resume",
      name: "Pause or resume reading",
      checkCallback: (checking) => {
        if (!this.session) return false;
        if (!checking) this.session.player.toggle();
        return true;
      },
    });
    this.addCommand({
      id: "stop",
      name: "Stop reading",
      checkCallback: (checking) => {
        if (!this.session && !this.exporting) return false;
        if (!checking) this.stopAll();
        return true;
      },
    });
    this.addCommand({
      id: "export-note-audio",
      name: "Export note audio",
      checkCallback: (checking) => {
        const file = this.app.workspace.getActiveFile();
        if (!file || file.extension !== "md") return false;
        if (!checking) void this.exportNote(file);
        return true;
      },
    });
    this.addCommand({
      id: "train-voice",
      name: "Train a voice from audio attachments",
      callback: () => this.openTrainModal(),
    });
    this.addCommand({
      id: "cancel-training",
      name: "Cancel voice training",
      checkCallback: (checking) => {
        if (!this.trainingJob) return false;
        if (!checking) void this.cancelTraining();
        return true;
      },
    });
    this.addCommand({
      id: "choose-voice",
      name: "Choose voice",
      callback: () => void this.chooseVoice(),
    });

    this.addRibbonIcon("volume-2", "Read note aloud", () => this.toggleOrReadActive());

    this.statusBar = new StatusBarPlayer(this.addStatusBarItem(), {
      toggle: () => this.toggleOrReadActive(),
      stop: () => this.stopAll(),
      setSpeed: (speed) => void this.updateSettings({ speed }),
      chooseVoice: () => void this.chooseVoice(),
    });
    this.statusBar.render({ speed: this.settings.speed, voice: this.settings.voice });

    this.addSettingTab(new OwnvoiceSettingTab(this.app, this));

    this.registerEvent(
      this.app.workspace.on("file-open", (file) => {
        // sessionFile is set from the moment a reading is asked for, so a pending one is stopped too.
        if (this.sessionFile !== null && this.settings.stopOnNoteSwitch && file?.path !== this.sessionFile) {
          this.stopReading();
        }
      }),
    );
    this.registerEvent(
      this.app.workspace.on("file-menu", (menu, file) => {
        if (!(file instanceof TFile) || !isAudio(file)) return;
        menu.addItem((item) =>
          item
            .setTitle("Train a voice from this recording")
            .setIcon("mic")
            .onClick(() => this.openTrainModal([file])),
        );
      }),
    );
    this.registerEvent(
      this.app.workspace.on("files-menu", (menu, files) => {
        const audio = files.filter(
          (f: TAbstractFile): f is TFile => f instanceof TFile && isAudio(f),
        );
        if (audio.length === 0) return;
        menu.addItem((item) =>
          item
            .setTitle("Train a voice from these recordings")
            .setIcon("mic")
            .onClick(() => this.openTrainModal(audio)),
        );
      }),
    );
  }

  override onunload(): void {
    this.unloaded = true;
    this.stopAll();
    this.busyNotice?.hide();
  }

  async loadSettings(): Promise<void> {
    this.settings = mergeSettings(await this.loadData());
    this.token = null;
  }

  override async onExternalSettingsChange(): Promise<void> {
    await this.loadSettings();
    this.statusBar?.render({ speed: this.settings.speed, voice: this.settings.voice });
  }

  /** Applies and saves a settings change, and reflects it in a reading in progress. */
  async updateSettings(patch: Partial<OwnvoiceSettings>): Promise<void> {
    this.settings = mergeSettings({ ...this.settings, ...patch });
    if ("tokenSource" in patch || "tokenFile" in patch || "token" in patch) this.token = null;
    if (patch.speed !== undefined) this.session?.player.setSpeed(clampSpeed(patch.speed));
    this.statusBar?.render({ speed: this.settings.speed, voice: this.settings.voice });
    await this.saveData(this.settings);
  }

  /** A client for the current settings; throws for an unusable or non-local URL. */
  client(): OwnvoiceClient {
    return new OwnvoiceClient({
      baseUrl: this.settings.daemonUrl,
      allowRemote: this.settings.allowRemoteDaemon,
      transport: this.transport,
      sleep: this.sleep,
      getToken: async (refresh) => {
        if (!this.token || refresh) this.token = await resolveToken(this.settings, this.fileReader, this.platform);
        return this.token.token;
      },
      tokenSource: () => this.token?.source,
      onBusy: (wait) => this.showBusy(wait),
    });
  }

  private showBusy(waitSeconds: number): void {
    this.busyNotice?.hide();
    this.busyNotice = new Notice(`${BUSY_MESSAGE} (in ${Math.ceil(waitSeconds)} s)`, Math.min(10_000, waitSeconds * 1000 + 1500));
  }

  private notify(err: unknown): void {
    new Notice(userMessage(err), 8000);
  }

  /** "Test connection" in the settings: one sentence saying what works or what to fix. */
  async testConnection(): Promise<string> {
    try {
      const client = this.client();
      const status = await client.status();
      const list = await client.voices();
      const chosen = list.voices.find((v) => v.id === this.settings.voice);
      const base = `Connected to ownvoice ${status.version} with ${list.voices.length} voice${list.voices.length === 1 ? "" : "s"}`;
      return chosen
        ? `${base}; reading with “${chosen.name}”.`
        : `${base}, but the voice “${this.settings.voice}” does not exist — choose another one.`;
    } catch (err) {
      return userMessage(err);
    }
  }

  // ---- reading ---------------------------------------------------------------------------------------------

  /** Reads the note, the selection or from the cursor, highlighting each sentence as it plays. */
  async read(editor: Editor, ctx: MarkdownView | MarkdownFileInfo, mode: ReadMode): Promise<void> {
    this.stopReading();
    const generation = ++this.readGeneration;
    const doc = editor.getValue();
    let target: ReadTarget = { doc, text: doc, shift: 0 };
    if (mode === "selection") {
      const sel = editor.listSelections()[0];
      const a = editor.posToOffset(sel.anchor);
      const h = editor.posToOffset(sel.head);
      const from = Math.min(a, h);
      target = { doc, text: doc.slice(from, Math.max(a, h)), shift: from };
    } else if (mode === "cursor") {
      target = { doc, text: doc, shift: 0, cursor: editor.posToOffset(editor.getCursor("head")) };
    }
    this.sessionFile = ctx.file?.path ?? null;
    this.statusBar?.render({ state: "loading", index: -1, count: 0 });
    const loading: { notice?: Notice } = {};
    try {
      const client = this.client();
      if (!this.modelReady) {
        const ready = await waitForModel(client, {
          isCancelled: () => generation !== this.readGeneration,
          sleep: this.sleep,
          onLoading: () => {
            loading.notice = new Notice("ownvoice is loading its voice model (about a minute on its first start after an install)…", 0);
          },
        });
        loading.notice?.hide();
        if (!ready) return;
        this.modelReady = true;
      }
      const plan = await planReading(client, target, scriptRules(this.settings));
      if (generation !== this.readGeneration) return;
      const view = editorViewOf(editor);
      dispatchSafely(view, { effects: startReading.of({ ranges: plan.ranges, current: -1 }) });
      this.sessionView = view;
      const session = new ReadingSession({
        client,
        plan,
        backend: this.audioBackend,
        voice: this.settings.voice,
        speed: this.settings.speed,
        ui: {
          highlight: (i) => {
            if (view) dispatchSafely(view, moveHighlight(view.state, i, this.settings.followHighlight));
          },
          clear: () => {
            dispatchSafely(view, { effects: stopReading.of(null) });
            this.statusBar?.render({ state: "idle", index: -1, count: 0 });
          },
          progress: (index, count, state) => this.statusBar?.render({ state, index, count }),
          error: (err, fatal) =>
            fatal ? this.notify(err) : new Notice(`Skipped a sentence: ${userMessage(err)}`, 5000),
        },
      });
      this.session = session;
      void session.done.then(() => {
        if (this.session === session) {
          this.session = null;
          this.sessionView = null;
          this.sessionFile = null;
        }
      });
    } catch (err) {
      loading.notice?.hide();
      // the daemon may have restarted (an upgrade converts the model again): ask next time
      if (err instanceof DaemonDown || err instanceof Timeout) this.modelReady = false;
      if (generation !== this.readGeneration) return;
      this.sessionFile = null;
      this.statusBar?.render({ state: "idle", index: -1, count: 0 });
      this.notify(err);
    }
  }

  stopReading(): void {
    this.readGeneration++;
    const session = this.session;
    this.session = null;
    session?.stop();
    if (this.sessionView) dispatchSafely(this.sessionView, { effects: stopReading.of(null) });
    this.sessionView = null;
    this.sessionFile = null;
    this.statusBar?.render({ state: "idle", index: -1, count: 0 });
  }

  private stopAll(): void {
    this.exportCancelled = true;
    this.stopReading();
  }

  /** Ribbon and status-bar button: pause/resume a reading, or read the active note. */
  private toggleOrReadActive(): void {
    if (this.session) {
      this.session.player.toggle();
      return;
    }
    const view = this.app.workspace.getActiveViewOfType(MarkdownView);
    if (!view) {
      new Notice("Open a note to read it aloud.");
      return;
    }
    void this.read(view.editor, view, "note");
  }

  // ---- voices ----------------------------------------------------------------------------------------------

  async chooseVoice(): Promise<void> {
    try {
      const list = await this.client().voices();
      if (list.voices.length === 0) {
        new Notice("The daemon has no voices yet.");
        return;
      }
      new VoiceSuggestModal(this.app, list.voices, this.settings.voice, (voice) => {
        void this.updateSettings({ voice: voice.id });
        new Notice(`Reading with “${voice.name}”${this.session ? " from the next reading" : ""}.`);
      }).open();
    } catch (err) {
      this.notify(err);
    }
  }

  // ---- export ----------------------------------------------------------------------------------------------

  /** Synthesises the whole note into `<note>.ownvoice.wav` next to it, and optionally embeds it. */
  async exportNote(file: TFile): Promise<TFile | null> {
    if (this.exporting) {
      new Notice("An export is already running.");
      return null;
    }
    this.exporting = true;
    this.exportCancelled = false;
    const notice = new Notice("Exporting audio…", 0);
    try {
      const view = this.app.workspace.getActiveViewOfType(MarkdownView);
      const open = view && view.file === file ? view : null;
      const text = open ? open.editor.getValue() : await this.app.vault.cachedRead(file);
      const client = this.client();
      const sentences = await client.script(text, scriptRules(this.settings), true);
      if (sentences.length === 0) throw new NothingToRead("nothing to read in this note");
      const wav = await renderAudio(
        client,
        sentences,
        this.settings.voice,
        this.settings.speed,
        (done, total) => notice.setMessage(`Exporting audio: ${done}/${total} sentences`),
        () => this.exportCancelled || this.unloaded,
      );
      const audio = await writeAudio(this.app, exportPathFor(file), wav);
      if (this.settings.embedExportedAudio) await embedAudio(this.app, file, audio, open);
      const seconds = Math.round(parseWav(wav).duration);
      notice.setMessage(`Saved ${audio.name} (${Math.floor(seconds / 60)} min ${seconds % 60} s).`);
      window.setTimeout(() => notice.hide(), 5000);
      return audio;
    } catch (err) {
      notice.hide();
      this.notify(err);
      return null;
    } finally {
      this.exporting = false;
    }
  }

  // ---- training --------------------------------------------------------------------------------------------

  openTrainModal(preselected?: TFile[]): void {
    const chosen = preselected ?? audioInActiveNote(this.app);
    const candidates = [...chosen, ...allAudio(this.app).filter((f) => !chosen.includes(f))];
    new TrainVoiceModal(this.app, candidates, chosen, async (choice) => {
      await this.startTraining(choice);
    }).open();
  }

  /** Uploads the recordings (and same-name .txt transcripts) and follows the training job. */
  async startTraining(choice: TrainChoice): Promise<string> {
    if (this.trainingJob) throw new OwnvoiceError(`“${this.trainingJob.name}” is still training; wait for it or cancel it`);
    const files = await collectRecordings(this.app, choice.files);
    const client = this.client();
    const jobId = await client.trainVoice({ name: choice.name, consent: choice.consent, lang: choice.lang, files, denoise: choice.denoise });
    this.trainingJob = { id: jobId, name: choice.name };
    void this.followJob(client, jobId, choice.name);
    return jobId;
  }

  private async followJob(client: OwnvoiceClient, id: string, name: string): Promise<void> {
    const notice = new Notice(`Training “${name}”: uploaded`, 0);
    this.statusBar?.render({ training: "Training…" });
    try {
      const job = await watchJob(client, id, {
        sleep: this.sleep,
        isStopped: () => this.unloaded,
        onUpdate: (j) => {
          notice.setMessage(describeJob(name, j));
          this.statusBar?.render({
            training: j.state === "running" ? `Training ${Math.round(j.progress * 100)} %` : "Training…",
          });
        },
      });
      notice.setMessage(describeJob(name, job));
    } catch (err) {
      notice.setMessage(`Training “${name}”: ${userMessage(err)}`);
    } finally {
      this.trainingJob = null;
      this.statusBar?.render({ training: "" });
      if (!this.unloaded) window.setTimeout(() => notice.hide(), 10_000);
      else notice.hide();
    }
  }

  private async cancelTraining(): Promise<void> {
    const job = this.trainingJob;
    if (!job) return;
    try {
      await this.client().cancelJob(job.id);
      new Notice(`Cancelling the training of “${job.name}”…`);
    } catch (err) {
      this.notify(err);
    }
  }
}
