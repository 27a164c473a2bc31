// Entry point: registers the commands, reads the settings, and wires client, reader, player, highlight and
// status bar together. Everything that can be tested without VS Code lives in the other modules.

import * as vscode from "vscode";
import { OwnvoiceClient, type TokenInfo, type Voice } from "./client";
import { findToken, readSettings, SECTION, type Settings, tokenFilesFor } from "./config";
import { OwnvoiceError, TokenMissing, userMessage } from "./errors";
import { type ActionId, noticeFor, SECRET_SOURCE } from "./messages";
import { type ReadRequest, Reader } from "./playback";
import { SentenceHighlight, StatusBar } from "./ui";
import { PanelPlayer } from "./webview";

export const SECRET_KEY = "ownvoice.token";
/** How long "Start daemon" waits for the daemon to answer before giving up. */
const START_WAIT_MS = 90_000;

/** Every command the extension contributes; package.json must list exactly these (a unit test checks). */
export const COMMANDS = [
  "ownvoice.readFile",
  "ownvoice.readSelection",
  "ownvoice.readFromCursor",
  "ownvoice.stop",
  "ownvoice.exportAudio",
  "ownvoice.chooseVoice",
  "ownvoice.showStatus",
  "ownvoice.setToken",
  "ownvoice.clearToken",
] as const;
export type CommandId = (typeof COMMANDS)[number];

type Scope = "file" | "selection" | "cursor";

export class Ownvoice implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly statusBar = new StatusBar();
  readonly highlight = new SentenceHighlight();
  readonly player = new PanelPlayer();
  readonly reader: Reader;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly voiceNames = new Map<string, string>();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel("ownvoice", { log: true });
    this.reader = new Reader({
      client: () => this.client(),
      player: () => this.player,
      log: (line) => this.log.warn(line),
      listener: {
        sentence: (span, key) => this.highlight.set(span, key),
        state: (state, mode) => this.statusBar.showState(state, mode),
        fellBack: (reason) => {
          this.log.info(`daemon playback refused (${reason.detail}); using the webview player`);
          void vscode.window.showInformationMessage(reason.message, "Always use the panel").then((pick) => {
            if (pick) void this.config().update("playback", "webview", vscode.ConfigurationTarget.Global);
          });
        },
      },
    });
    this.statusBar.showVoice(this.settings().voice);
    this.disposables.push(
      this.log,
      this.statusBar,
      this.highlight,
      this.player,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        if (e.affectsConfiguration(`${SECTION}.playback`) || e.affectsConfiguration(`${SECTION}.daemonUrl`)) {
          this.reader.resetFallback();
        }
        const voice = this.settings().voice;
        this.statusBar.showVoice(voice, this.voiceNames.get(voice));
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length === 0) return;
        this.reader.applyEdits(
          e.document.uri.toString(),
          e.contentChanges.map((c) => ({ rangeOffset: c.rangeOffset, rangeLength: c.rangeLength, text: c.text })),
        );
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.highlight.refresh()),
    );
  }

  /** Registers every command; returns them so activate() can hand them to the context. */
  registerCommands(): vscode.Disposable[] {
    const handlers: Record<CommandId, () => Promise<unknown>> = {
      "ownvoice.readFile": () => this.read("file"),
      "ownvoice.readSelection": () => this.read("selection"),
      "ownvoice.readFromCursor": () => this.read("cursor"),
      "ownvoice.stop": () => this.reader.stop(),
      "ownvoice.exportAudio": () => this.exportAudio(),
      "ownvoice.chooseVoice": () => this.chooseVoice(),
      "ownvoice.showStatus": () => this.showStatus(),
      "ownvoice.setToken": () => this.setToken(),
      "ownvoice.clearToken": () => this.clearToken(),
    };
    return COMMANDS.map((id) => vscode.commands.registerCommand(id, handlers[id]));
  }

  config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  settings(): Settings {
    return readSettings(this.config());
  }

  /** A client for the current settings (cheap: settings may change between calls). */
  client(): OwnvoiceClient {
    const settings = this.settings();
    return new OwnvoiceClient({ baseUrl: settings.daemonUrl, getToken: () => this.token(settings) });
  }

  /** The token saved with "Set token", else the daemon's token file. */
  async token(settings: Settings): Promise<TokenInfo> {
    const stored = await this.context.secrets.get(SECRET_KEY);
    if (stored) return { token: stored, source: SECRET_SOURCE };
    const files = tokenFilesFor(settings);
    const found = await findToken(files);
    if (!found) throw new TokenMissing(files[0]);
    return { token: found.token, source: found.file };
  }

  // ---- commands ----------------------------------------------------------------------------------------------

  private async read(scope: Scope): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("ownvoice: open a Markdown or text file to read it aloud");
      return;
    }
    const doc = editor.document;
    const settings = this.settings();
    let text = doc.getText();
    let base = 0;
    let from = 0;
    if (scope === "selection") {
      const sel = editor.selection;
      if (sel.isEmpty) {
        void vscode.window.showInformationMessage("ownvoice: select the text to read first");
        return;
      }
      text = doc.getText(sel);
      base = doc.offsetAt(sel.start);
    } else if (scope === "cursor") {
      from = doc.offsetAt(editor.selection.active);
    }
    if (!text.trim()) {
      void vscode.window.showInformationMessage("ownvoice: there is nothing to read");
      return;
    }
    const req: ReadRequest = {
      text,
      base,
      from,
      markdown: doc.languageId === "markdown",
      voice: settings.voice,
      speed: settings.speed,
      rules: settings.rules,
      playback: settings.playback,
      documentKey: doc.uri.toString(),
      title: basename(doc.uri),
    };
    this.log.info(`read ${scope} of ${doc.uri.toString()} (${text.length} chars, ${req.markdown ? "markdown" : "plain text"}, voice ${req.voice})`);
    await this.guard(() => this.reader.read(req), () => this.read(scope));
  }

  private async exportAudio(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("ownvoice: open a Markdown or text file to export it");
      return;
    }
    const doc = editor.document;
    const text = editor.selection.isEmpty ? doc.getText() : doc.getText(editor.selection);
    if (!text.trim()) {
      void vscode.window.showInformationMessage("ownvoice: there is nothing to export");
      return;
    }
    const target = await vscode.window.showSaveDialog({
      defaultUri: wavNextTo(doc.uri),
      filters: { "WAV audio": ["wav"] },
      saveLabel: "Export audio",
      title: "ownvoice: export audio",
    });
    if (!target) return;
    const settings = this.settings();
    await this.guard(
      () =>
        vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `ownvoice: speaking ${basename(target)}…`, cancellable: true },
          async (_progress, token) => {
            const abort = new AbortController();
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              const audio = await this.client().speakWav(
                { text, voice: settings.voice, speed: settings.speed, markdown: doc.languageId === "markdown", rules: settings.rules },
                abort.signal,
              );
              await vscode.workspace.fs.writeFile(target, audio.wav);
              this.log.info(`exported ${audio.duration.toFixed(1)} s of audio to ${target.fsPath}`);
              const pick = await vscode.window.showInformationMessage(
                `ownvoice: saved ${audio.duration.toFixed(1)} s of audio to ${basename(target)}`,
                "Reveal in file explorer",
              );
              if (pick) await vscode.commands.executeCommand("revealFileInOS", target);
            } finally {
              sub.dispose();
            }
          },
        ),
      () => this.exportAudio(),
    );
  }

  private async chooseVoice(): Promise<void> {
    await this.guard(async () => {
      const list = await this.client().voices();
      const current = this.settings().voice;
      type Item = vscode.QuickPickItem & { voice: Voice };
      const items: Item[] = list.voices.map((v) => ({
        label: `${v.id === current ? "$(check) " : ""}${v.name}`,
        description: [v.id, v.languages.join(", "), v.builtin ? "built-in" : "yours", v.id === list.default ? "daemon default" : ""]
          .filter(Boolean)
          .join(" · "),
        detail: v.licence,
        voice: v,
      }));
      const pick = await vscode.window.showQuickPick(items, { title: "ownvoice: choose a voice", placeHolder: `current: ${current}`, matchOnDescription: true });
      if (!pick) return;
      for (const v of list.voices) this.voiceNames.set(v.id, v.name);
      const cfg = this.config();
      const inspected = cfg.inspect<string>("voice");
      const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await cfg.update("voice", pick.voice.id, target);
      this.statusBar.showVoice(pick.voice.id, pick.voice.name);
    }, () => this.chooseVoice());
  }

  private async showStatus(): Promise<void> {
    await this.guard(async () => {
      const s = await this.client().status();
      this.log.info(`status: ${JSON.stringify(s)}`);
      const queue = s.queue ? `, queue ${s.queue.pending ?? 0} pending / ${s.queue.running ?? 0} running` : "";
      const mode = this.reader.reading ? `, reading (${this.reader.mode})` : "";
      const pick = await vscode.window.showInformationMessage(
        `ownvoice ${s.version} at ${this.settings().daemonUrl}: default voice ${s.default_voice ?? "?"}, ${s.voices ?? "?"} voices${queue}${mode}`,
        "Choose voice",
        "Show log",
      );
      if (pick === "Choose voice") await this.chooseVoice();
      else if (pick === "Show log") this.log.show(true);
    }, () => this.showStatus());
  }

  private async setToken(): Promise<void> {
    const token = await vscode.window.showInputBox({
      title: "ownvoice: set token",
      prompt: "The daemon's token (from its token file, shown by `ownvoice status`). Saved in VS Code's secret storage.",
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (!v.trim() ? "the token is empty" : /\s/.test(v.trim()) ? "a token has no spaces" : undefined),
    });
    if (token === undefined) return;
    await this.context.secrets.store(SECRET_KEY, token.trim());
    void vscode.window.showInformationMessage("ownvoice: token saved (it takes precedence over the token file)");
  }

  private async clearToken(): Promise<void> {
    await this.context.secrets.delete(SECRET_KEY);
    void vscode.window.showInformationMessage("ownvoice: stored token forgotten; the token file is used again");
  }

  // ---- errors -------------------------------------------------------------------------------------------------

  /** Runs `work`; on failure shows the message for it and carries out the button the user picks. */
  async guard(work: () => Thenable<unknown>, retry?: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      await this.report(err, retry);
    }
  }

  async report(err: unknown, retry?: () => Promise<unknown>): Promise<void> {
    const notice = noticeFor(err, retry !== undefined);
    if (!notice) return;
    const detail = err instanceof OwnvoiceError && "detail" in err ? ` [${String((err as { detail?: unknown }).detail)}]` : "";
    this.log.error(`${userMessage(err)}${detail}`);
    const show =
      notice.severity === "error"
        ? vscode.window.showErrorMessage
        : notice.severity === "warning"
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    const titles = notice.actions.map((a) => a.title);
    const picked = await show(notice.message, ...titles);
    const chosen = notice.actions.find((a) => a.title === picked);
    if (chosen) await this.act(chosen.id, retry);
  }

  private async act(id: ActionId, retry?: () => Promise<unknown>): Promise<void> {
    switch (id) {
      case "startDaemon":
        return this.startDaemon(retry);
      case "setToken":
        await this.setToken();
        return;
      case "useTokenFile":
        await this.clearToken();
        return;
      case "openSettings":
        await vscode.commands.executeCommand("workbench.action.openSettings", "@ext:ownvoice.ownvoice");
        return;
      case "chooseVoice":
        await this.chooseVoice();
        return;
      case "retry":
        await retry?.();
        return;
      case "showLog":
        this.log.show(true);
        return;
    }
  }

  /** Runs `<executable> start` in a terminal, waits for the daemon to answer, then retries what failed. */
  async startDaemon(retry?: () => Promise<unknown>): Promise<void> {
    const settings = this.settings();
    const terminal = vscode.window.createTerminal({ name: "ownvoice daemon" });
    terminal.show(true);
    terminal.sendText(`${shellQuote(settings.executable)} start`);
    const up = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "ownvoice: starting the daemon…", cancellable: true },
      async (_p, cancel) => {
        const until = Date.now() + START_WAIT_MS;
        while (Date.now() < until && !cancel.isCancellationRequested) {
          try {
            await this.client().status();
            return true;
          } catch {
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
        return false;
      },
    );
    if (up) {
      this.log.info("daemon is up");
      if (retry) await retry();
    } else {
      void vscode.window.showErrorMessage(
        `ownvoice: the daemon did not answer within ${START_WAIT_MS / 1000} s — see the "ownvoice daemon" terminal`,
      );
    }
  }

  dispose(): void {
    void this.reader.stop();
    this.disposables.forEach((d) => d.dispose());
  }
}

/** Quotes an executable path for the integrated terminal's shell when it has spaces. */
export function shellQuote(path: string): string {
  if (/^[\w@%+=:,./\\-]+$/.test(path)) return path;
  return process.platform === "win32" ? `& "${path.replace(/"/g, '""')}"` : `'${path.replace(/'/g, "'\\''")}'`;
}

function basename(uri: vscode.Uri): string {
  return uri.path.split("/").pop() ?? uri.path;
}

/** `notes/today.md` → `notes/today.wav`; untitled documents get a name in the first workspace folder. */
export function wavNextTo(uri: vscode.Uri): vscode.Uri | undefined {
  if (uri.scheme === "untitled") {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder ? vscode.Uri.joinPath(folder, "ownvoice.wav") : undefined;
  }
  const name = basename(uri).replace(/\.[^.]*$/, "") || "ownvoice";
  return uri.with({ path: uri.path.replace(/[^/]*$/, `${name}.wav`) });
}

let instance: Ownvoice | undefined;

export function activate(context: vscode.ExtensionContext): Ownvoice {
  instance = new Ownvoice(context);
  context.subscriptions.push(instance, ...instance.registerCommands());
  return instance;
}

export async function deactivate(): Promise<void> {
  await instance?.reader.stop();
  instance = undefined;
}
