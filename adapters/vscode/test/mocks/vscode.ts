// A small, faithful stand-in for the `vscode` module (aliased in by test/run.mjs), plus `mock`: the knobs the
// tests turn (configuration values, answers to dialogs, open editors) and what the extension did (messages,
// decorations, terminals, webview posts). Text documents follow VS Code's own offset rules.

import pkg from "../../package.json";

type Listener<T> = (e: T) => unknown;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  private done = false;
  constructor(private readonly fn: () => unknown) {}
  dispose(): void {
    if (this.done) return;
    this.done = true;
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    return new Disposable(() => this.listeners.delete(listener));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  isEqual(o: Position): boolean {
    return o.line === this.line && o.character === this.character;
  }
  isBefore(o: Position): boolean {
    return this.line < o.line || (this.line === o.line && this.character < o.character);
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    const p = typeof a === "number" ? new Position(a, b as number) : a;
    const q = typeof a === "number" ? new Position(c!, d!) : (b as Position);
    [this.start, this.end] = q.isBefore(p) ? [q, p] : [p, q];
  }
  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
  get isReversed(): boolean {
    return this.active.isBefore(this.anchor);
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(path: string): Uri {
    return new Uri("file", path.replace(/\\/g, "/"));
  }
  static parse(value: string): Uri {
    const m = /^([a-z][\w+.-]*):(?:\/\/[^/]*)?(.*)$/i.exec(value);
    return m ? new Uri(m[1], m[2] || "/") : new Uri("file", value);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.path.replace(/\/$/, ""), ...parts].join("/"));
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, change.path ?? this.path);
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
  Two = 2,
}
export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}
export enum DecorationRangeBehavior {
  OpenOpen = 0,
  ClosedClosed = 1,
  OpenClosed = 2,
  ClosedOpen = 3,
}
export enum OverviewRulerLane {
  Left = 1,
  Center = 2,
  Right = 4,
  Full = 7,
}
export enum TextEditorRevealType {
  Default = 0,
  InCenter = 1,
  InCenterIfOutsideViewport = 2,
  AtTop = 3,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum EndOfLine {
  LF = 1,
  CRLF = 2,
}
export enum LogLevel {
  Off = 0,
  Trace = 1,
  Debug = 2,
  Info = 3,
  Warning = 4,
  Error = 5,
}

// ---- documents and editors ---------------------------------------------------------------------------------

/** A text document with VS Code's offset semantics: lines end at \r\n, \r or \n; offsets are UTF-16 units. */
export class MockTextDocument {
  version = 1;
  constructor(
    readonly uri: Uri,
    readonly languageId: string,
    private text: string,
  ) {}
  get eol(): EndOfLine {
    return this.text.includes("\r\n") ? EndOfLine.CRLF : EndOfLine.LF;
  }
  private lineStarts(): number[] {
    const starts = [0];
    for (let i = 0; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === "\r" && this.text[i + 1] === "\n") {
        starts.push(i + 2);
        i++;
      } else if (c === "\n" || c === "\r") starts.push(i + 1);
    }
    return starts;
  }
  /** Length of line `i` without its line break. */
  private lineLength(starts: number[], i: number): number {
    const end = i + 1 < starts.length ? starts[i + 1] : this.text.length;
    let len = end - starts[i];
    if (i + 1 < starts.length) len -= this.text[end - 2] === "\r" && this.text[end - 1] === "\n" ? 2 : 1;
    return len;
  }
  get lineCount(): number {
    return this.lineStarts().length;
  }
  getText(range?: Range): string {
    if (!range) return this.text;
    return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(this.text.length, Math.floor(offset)));
    const starts = this.lineStarts();
    let line = 0;
    while (line + 1 < starts.length && starts[line + 1] <= o) line++;
    // An offset inside a line break (between \r and \n) is the end of that line, as in VS Code.
    return new Position(line, Math.min(o - starts[line], this.lineLength(starts, line)));
  }
  offsetAt(p: Position): number {
    const starts = this.lineStarts();
    const line = Math.max(0, Math.min(starts.length - 1, p.line));
    return starts[line] + Math.max(0, Math.min(p.character, this.lineLength(starts, line)));
  }
  /** Replaces [start, end) like an edit in the editor, firing onDidChangeTextDocument. */
  edit(start: number, end: number, insert: string): void {
    this.text = this.text.slice(0, start) + insert + this.text.slice(end);
    this.version++;
    state.onDidChangeTextDocument.fire({
      document: this,
      contentChanges: [{ rangeOffset: start, rangeLength: end - start, text: insert, range: new Range(this.positionAt(start), this.positionAt(start)) }],
      reason: undefined,
    });
  }
}

export class MockTextEditor {
  readonly decorations = new Map<unknown, Range[]>();
  /** Every setDecorations call, in order. */
  readonly history: Range[][] = [];
  readonly revealed: Range[] = [];
  selection: Selection;
  constructor(readonly document: MockTextDocument) {
    this.selection = new Selection(new Position(0, 0), new Position(0, 0));
  }
  get selections(): Selection[] {
    return [this.selection];
  }
  setDecorations(type: unknown, ranges: Range[]): void {
    this.decorations.set(type, [...ranges]);
    this.history.push([...ranges]);
  }
  revealRange(range: Range): void {
    this.revealed.push(range);
  }
  /** Places the selection between two document offsets (a caret when they are equal). */
  select(anchor: number, active = anchor): void {
    this.selection = new Selection(this.document.positionAt(anchor), this.document.positionAt(active));
  }
}

// ---- recorded UI -------------------------------------------------------------------------------------------

export interface ShownMessage {
  severity: "info" | "warning" | "error";
  message: string;
  items: string[];
}

class MockStatusBarItem {
  text = "";
  tooltip: string | undefined;
  command: string | undefined;
  name: string | undefined;
  visible = false;
  disposed = false;
  constructor(
    readonly id: string,
    readonly alignment: StatusBarAlignment,
    readonly priority: number,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
    this.visible = false;
  }
}

export class MockWebviewPanel {
  readonly posted: unknown[] = [];
  readonly received = new EventEmitter<unknown>();
  readonly disposedEmitter = new EventEmitter<void>();
  disposed = false;
  revealed = 0;
  readonly webview = {
    html: "",
    cspSource: "https://mock.vscode-cdn.net",
    options: {} as Record<string, unknown>,
    postMessage: async (m: unknown): Promise<boolean> => {
      if (this.disposed) return false;
      this.posted.push(m);
      state.onPost?.(this, m);
      return true;
    },
    onDidReceiveMessage: this.received.event,
    asWebviewUri: (u: Uri) => u,
  };
  readonly onDidDispose = this.disposedEmitter.event;
  constructor(
    readonly viewType: string,
    public title: string,
    readonly showOptions: unknown,
    readonly options: Record<string, unknown>,
  ) {
    this.webview.options = options;
  }
  reveal(): void {
    this.revealed++;
  }
  /** What the page's script would post. */
  fromPage(message: unknown): void {
    this.received.fire(message);
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposedEmitter.fire();
  }
}

interface MockTerminal {
  name: string;
  sent: string[];
  shown: boolean;
  show(): void;
  sendText(text: string): void;
  dispose(): void;
}

type Responder = (m: ShownMessage) => string | undefined;

const defaults: Record<string, unknown> = {};
for (const [key, spec] of Object.entries(pkg.contributes.configuration.properties)) {
  defaults[key] = (spec as { default?: unknown }).default;
}

const state = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  executed: [] as Array<{ command: string; args: unknown[] }>,
  messages: [] as ShownMessage[],
  respond: (() => undefined) as Responder,
  settings: new Map<string, unknown>(),
  workspaceSettings: new Map<string, unknown>(),
  updates: [] as Array<{ key: string; value: unknown; target: unknown }>,
  statusItems: [] as MockStatusBarItem[],
  decorationTypes: [] as Array<{ options: unknown; disposed: boolean; dispose(): void }>,
  panels: [] as MockWebviewPanel[],
  terminals: [] as MockTerminal[],
  written: new Map<string, Uint8Array>(),
  logs: [] as string[],
  quickPick: ((items: unknown[]) => undefined) as (items: Array<{ label: string }>) => unknown,
  inputBox: (() => undefined) as (options: unknown) => string | undefined,
  saveDialog: (() => undefined) as (options: { defaultUri?: Uri }) => Uri | undefined,
  onPost: undefined as undefined | ((panel: MockWebviewPanel, message: unknown) => void),
  onPanel: undefined as undefined | ((panel: MockWebviewPanel) => void),
  editors: [] as MockTextEditor[],
  active: undefined as MockTextEditor | undefined,
  onDidChangeConfiguration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
  onDidChangeTextDocument: new EventEmitter<unknown>(),
  onDidChangeVisibleTextEditors: new EventEmitter<unknown>(),
  onDidChangeActiveTextEditor: new EventEmitter<unknown>(),
};

function show(severity: ShownMessage["severity"]) {
  return async (message: string, ...rest: unknown[]): Promise<string | undefined> => {
    const items = rest.filter((x): x is string => typeof x === "string");
    const m = { severity, message, items };
    state.messages.push(m);
    const answer = state.respond(m);
    return answer !== undefined && items.includes(answer) ? answer : undefined;
  };
}

export const window = {
  get activeTextEditor() {
    return state.active;
  },
  get visibleTextEditors() {
    return [...state.editors];
  },
  showInformationMessage: show("info"),
  showWarningMessage: show("warning"),
  showErrorMessage: show("error"),
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number) {
    const item = new MockStatusBarItem(id, alignment, priority);
    state.statusItems.push(item);
    return item;
  },
  createTextEditorDecorationType(options: unknown) {
    const t = {
      options,
      disposed: false,
      key: `decoration-${state.decorationTypes.length}`,
      dispose() {
        t.disposed = true;
      },
    };
    state.decorationTypes.push(t);
    return t;
  },
  createWebviewPanel(viewType: string, title: string, showOptions: unknown, options: Record<string, unknown>) {
    const panel = new MockWebviewPanel(viewType, title, showOptions, options);
    state.panels.push(panel);
    // The page loads after the extension has set its html: let the test attach it then.
    queueMicrotask(() => state.onPanel?.(panel));
    return panel;
  },
  createOutputChannel(name: string) {
    const line = (level: string) => (msg: string) => state.logs.push(`[${level}] ${msg}`);
    return {
      name,
      info: line("info"),
      warn: line("warn"),
      error: line("error"),
      debug: line("debug"),
      trace: line("trace"),
      appendLine: line("line"),
      append: line("text"),
      show() {},
      hide() {},
      clear() {},
      dispose() {},
      replace() {},
      logLevel: LogLevel.Info,
      onDidChangeLogLevel: new EventEmitter<LogLevel>().event,
    };
  },
  createTerminal(options: { name?: string } | string) {
    const t: MockTerminal = {
      name: typeof options === "string" ? options : options.name ?? "",
      sent: [],
      shown: false,
      show() {
        t.shown = true;
      },
      sendText(text: string) {
        t.sent.push(text);
      },
      dispose() {},
    };
    state.terminals.push(t);
    return t;
  },
  async showQuickPick(items: Array<{ label: string }>) {
    return state.quickPick(items);
  },
  async showInputBox(options: unknown) {
    return state.inputBox(options);
  },
  async showSaveDialog(options: { defaultUri?: Uri }) {
    return state.saveDialog(options);
  },
  async withProgress<R>(_options: unknown, task: (progress: { report(): void }, token: unknown) => Promise<R>): Promise<R> {
    const cancel = new EventEmitter<void>();
    return task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: cancel.event });
  },
  onDidChangeVisibleTextEditors: state.onDidChangeVisibleTextEditors.event,
  onDidChangeActiveTextEditor: state.onDidChangeActiveTextEditor.event,
};

function configuration(section: string) {
  const full = (key: string) => `${section}.${key}`;
  return {
    get<T>(key: string, fallback?: T): T | undefined {
      const k = full(key);
      if (state.workspaceSettings.has(k)) return state.workspaceSettings.get(k) as T;
      if (state.settings.has(k)) return state.settings.get(k) as T;
      return (k in defaults ? defaults[k] : fallback) as T;
    },
    has(key: string): boolean {
      return full(key) in defaults || state.settings.has(full(key));
    },
    inspect<T>(key: string) {
      const k = full(key);
      return {
        key: k,
        defaultValue: defaults[k] as T,
        globalValue: state.settings.get(k) as T | undefined,
        workspaceValue: state.workspaceSettings.get(k) as T | undefined,
      };
    },
    async update(key: string, value: unknown, target?: ConfigurationTarget) {
      const k = full(key);
      state.updates.push({ key: k, value, target });
      (target === ConfigurationTarget.Workspace ? state.workspaceSettings : state.settings).set(k, value);
      state.onDidChangeConfiguration.fire({ affectsConfiguration: (s: string) => k === s || k.startsWith(`${s}.`) });
    },
  };
}

export const workspace = {
  getConfiguration: (section = "") => configuration(section),
  onDidChangeConfiguration: state.onDidChangeConfiguration.event,
  onDidChangeTextDocument: state.onDidChangeTextDocument.event,
  onDidCloseTextDocument: new EventEmitter<unknown>().event,
  workspaceFolders: undefined as undefined | Array<{ uri: Uri; name: string; index: number }>,
  fs: {
    async writeFile(uri: Uri, content: Uint8Array) {
      state.written.set(uri.toString(), content);
    },
  },
};

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown) {
    if (state.commands.has(id)) throw new Error(`command ${id} already registered`);
    state.commands.set(id, handler);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]) {
    state.executed.push({ command: id, args });
    const handler = state.commands.get(id);
    return handler ? handler(...args) : undefined;
  },
  async getCommands() {
    return [...state.commands.keys()];
  },
};

class MockSecretStorage {
  readonly values = new Map<string, string>();
  private readonly changed = new EventEmitter<{ key: string }>();
  readonly onDidChange = this.changed.event;
  async get(key: string) {
    return this.values.get(key);
  }
  async store(key: string, value: string) {
    this.values.set(key, value);
    this.changed.fire({ key });
  }
  async delete(key: string) {
    this.values.delete(key);
    this.changed.fire({ key });
  }
}

/** Test controls. */
export const mock = {
  state,
  defaults,
  reset(): void {
    state.commands.clear();
    state.executed = [];
    state.messages = [];
    state.respond = () => undefined;
    state.settings.clear();
    state.workspaceSettings.clear();
    state.updates = [];
    state.statusItems = [];
    state.decorationTypes = [];
    state.panels = [];
    state.terminals = [];
    state.written.clear();
    state.logs = [];
    state.quickPick = () => undefined;
    state.inputBox = () => undefined;
    state.saveDialog = () => undefined;
    state.onPost = undefined;
    state.onPanel = undefined;
    state.editors = [];
    state.active = undefined;
    workspace.workspaceFolders = undefined;
  },
  /** Opens a document in a visible editor that becomes the active one. */
  openEditor(text: string, languageId = "markdown", path = "/notes/note.md"): MockTextEditor {
    const editor = new MockTextEditor(new MockTextDocument(Uri.file(path), languageId, text));
    state.editors.push(editor);
    state.active = editor;
    state.onDidChangeVisibleTextEditors.fire(state.editors);
    return editor;
  },
  setting(key: string, value: unknown): void {
    state.settings.set(`ownvoice.${key}`, value);
    state.onDidChangeConfiguration.fire({ affectsConfiguration: (s: string) => `ownvoice.${key}` === s || `ownvoice.${key}`.startsWith(`${s}.`) });
  },
  context() {
    return {
      subscriptions: [] as Array<{ dispose(): unknown }>,
      secrets: new MockSecretStorage(),
      extensionUri: Uri.file("/ext"),
      extensionPath: "/ext",
      globalState: new Map(),
      workspaceState: new Map(),
    };
  },
};
