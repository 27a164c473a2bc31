// The extension's visible parts in the editor: the status bar (voice, stop button) and the sentence highlight.

import * as vscode from "vscode";
import type { PlaybackMode } from "./config";
import { type Span, spanPositions } from "./highlight";
import type { ReaderState } from "./playback";

/** Status bar: the current voice (click: choose another) and, while reading, a stop button. */
export class StatusBar implements vscode.Disposable {
  readonly voiceItem: vscode.StatusBarItem;
  readonly stopItem: vscode.StatusBarItem;

  constructor() {
    this.voiceItem = vscode.window.createStatusBarItem("ownvoice.voice", vscode.StatusBarAlignment.Right, 100);
    this.voiceItem.name = "ownvoice voice";
    this.voiceItem.command = "ownvoice.chooseVoice";
    this.stopItem = vscode.window.createStatusBarItem("ownvoice.stop", vscode.StatusBarAlignment.Right, 101);
    this.stopItem.name = "ownvoice stop";
    this.stopItem.command = "ownvoice.stop";
    this.stopItem.tooltip = "Stop reading (ownvoice: Stop reading)";
  }

  showVoice(voice: string, name?: string): void {
    const label = name && name !== voice ? name : voice;
    this.voiceItem.text = `$(unmute) ${label}`;
    this.voiceItem.tooltip = `ownvoice reads with the voice "${voice}" — click to choose another`;
    this.voiceItem.show();
  }

  showState(state: ReaderState, mode: PlaybackMode | undefined): void {
    if (state === "idle") {
      this.stopItem.hide();
      return;
    }
    const where = mode === "webview" ? " (panel)" : "";
    this.stopItem.text =
      state === "preparing"
        ? `$(loading~spin) ownvoice: preparing… $(debug-stop)`
        : state === "loading-model"
          ? `$(loading~spin) ownvoice: loading the voice model… $(debug-stop)`
          : `$(debug-stop) Stop reading${where}`;
    this.stopItem.tooltip =
      state === "loading-model"
        ? "The daemon is loading its model (about a minute on its first start after an install). Click to stop."
        : "Stop reading (ownvoice: Stop reading)";
    this.stopItem.show();
  }

  dispose(): void {
    this.voiceItem.dispose();
    this.stopItem.dispose();
  }
}

/** Paints the sentence being read in every visible editor of its document and scrolls the active one to it. */
export class SentenceHighlight implements vscode.Disposable {
  readonly decoration: vscode.TextEditorDecorationType;
  private current: { key: string; span: Span } | undefined;

  constructor() {
    this.decoration = vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor("editor.findMatchHighlightBackground"),
      border: "1px solid",
      borderColor: new vscode.ThemeColor("editor.findMatchHighlightBorder"),
      borderRadius: "2px",
      overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.findMatchForeground"),
      overviewRulerLane: vscode.OverviewRulerLane.Center,
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
  }

  /** Highlights `span` in the document `key` (a URI string); undefined clears. */
  set(span: Span | undefined, key: string): void {
    const previous = this.current;
    this.current = span ? { key, span } : undefined;
    const moved = !previous || !span || previous.span.index !== span.index || previous.key !== key;
    this.paint(moved);
  }

  /** Paints again (visible editors changed). */
  refresh(): void {
    this.paint(false);
  }

  private paint(reveal: boolean): void {
    const active = vscode.window.activeTextEditor;
    for (const editor of vscode.window.visibleTextEditors) {
      const cur = this.current;
      if (!cur || editor.document.uri.toString() !== cur.key) {
        editor.setDecorations(this.decoration, []);
        continue;
      }
      const at = spanPositions(editor.document, cur.span);
      if (!at) {
        editor.setDecorations(this.decoration, []);
        continue;
      }
      const range = new vscode.Range(at[0], at[1]);
      editor.setDecorations(this.decoration, [range]);
      // Follow the reading in the editor the user looks at, without stealing the cursor.
      if (reveal && (editor === active || !active || active.document.uri.toString() !== cur.key)) {
        editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      }
    }
  }

  dispose(): void {
    this.decoration.dispose();
  }
}
