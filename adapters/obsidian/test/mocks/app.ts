// A fake Obsidian App (workspace, in-memory vault) and an Editor backed by a real CodeMirror EditorState.
/* eslint-disable @typescript-eslint/no-explicit-any */

import { EditorState, type Extension, type TransactionSpec } from "@codemirror/state";
import { Events, MarkdownView, TFile, TFolder, normalizePath } from "./obsidian";

export interface Pos {
  line: number;
  ch: number;
}

/** Minimal CodeMirror "view": holds a real EditorState and applies dispatched transactions to it. */
export class FakeCmView {
  state: EditorState;
  dispatched: TransactionSpec[] = [];
  constructor(doc: string, extensions: Extension) {
    this.state = EditorState.create({ doc, extensions });
  }
  dispatch(spec: TransactionSpec): void {
    this.dispatched.push(spec);
    this.state = this.state.update(spec).state;
  }
}

/** The subset of Obsidian's Editor the plugin uses, over a real document model. */
export class FakeEditor {
  cm: FakeCmView;
  anchor = 0;
  head = 0;
  constructor(doc: string, extensions: Extension) {
    this.cm = new FakeCmView(doc, extensions);
  }
  getValue(): string {
    return this.cm.state.doc.toString();
  }
  posToOffset(p: Pos): number {
    return this.cm.state.doc.line(p.line + 1).from + p.ch;
  }
  offsetToPos(o: number): Pos {
    const line = this.cm.state.doc.lineAt(o);
    return { line: line.number - 1, ch: o - line.from };
  }
  getCursor(): Pos {
    return this.offsetToPos(this.head);
  }
  listSelections(): Array<{ anchor: Pos; head: Pos }> {
    return [{ anchor: this.offsetToPos(this.anchor), head: this.offsetToPos(this.head) }];
  }
  somethingSelected(): boolean {
    return this.anchor !== this.head;
  }
  getSelection(): string {
    return this.getValue().slice(Math.min(this.anchor, this.head), Math.max(this.anchor, this.head));
  }
  select(anchor: number, head: number): void {
    this.anchor = anchor;
    this.head = head;
  }
  lastLine(): number {
    return this.cm.state.doc.lines - 1;
  }
  getLine(n: number): string {
    return this.cm.state.doc.line(n + 1).text;
  }
  replaceRange(text: string, from: Pos, to?: Pos): void {
    const a = this.posToOffset(from);
    const b = to ? this.posToOffset(to) : a;
    this.cm.dispatch({ changes: { from: a, to: b, insert: text } });
  }
}

export class FakeVault {
  files = new Map<string, { file: TFile; data: ArrayBuffer }>();
  folders = new Map<string, TFolder>([["/", new TFolder("/")]]);

  folder(path: string): TFolder {
    const p = normalizePath(path);
    let f = this.folders.get(p);
    if (!f) {
      f = new TFolder(p);
      this.folders.set(p, f);
    }
    return f;
  }

  add(path: string, content: string | ArrayBuffer, mtime = 0): TFile {
    const p = normalizePath(path);
    const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "/";
    const file = new TFile(p, this.folder(dir));
    file.stat.mtime = mtime;
    const data = typeof content === "string" ? (new TextEncoder().encode(content).buffer as ArrayBuffer) : content;
    file.stat.size = data.byteLength;
    this.files.set(p, { file, data });
    return file;
  }

  text(path: string): string {
    const e = this.files.get(normalizePath(path));
    if (!e) throw new Error(`no file ${path}`);
    return new TextDecoder().decode(e.data);
  }

  getFiles(): TFile[] {
    return [...this.files.values()].map((e) => e.file);
  }
  getAbstractFileByPath(path: string): TFile | TFolder | null {
    const p = normalizePath(path);
    return this.files.get(p)?.file ?? (p !== "/" ? (this.folders.get(p) ?? null) : null);
  }
  async readBinary(file: TFile): Promise<ArrayBuffer> {
    return this.files.get(file.path)!.data;
  }
  async read(file: TFile): Promise<string> {
    return this.text(file.path);
  }
  async cachedRead(file: TFile): Promise<string> {
    return this.text(file.path);
  }
  async createBinary(path: string, data: ArrayBuffer): Promise<TFile> {
    if (this.files.has(normalizePath(path))) throw new Error("File already exists.");
    return this.add(path, data);
  }
  async modifyBinary(file: TFile, data: ArrayBuffer): Promise<void> {
    this.files.get(file.path)!.data = data;
  }
  async process(file: TFile, fn: (data: string) => string): Promise<string> {
    const out = fn(this.text(file.path));
    this.files.get(file.path)!.data = new TextEncoder().encode(out).buffer as ArrayBuffer;
    return out;
  }
}

export class FakeWorkspace extends Events {
  activeView: MarkdownView | null = null;
  activeFile: TFile | null = null;
  getActiveViewOfType(cls: unknown): MarkdownView | null {
    return cls === MarkdownView ? this.activeView : null;
  }
  getActiveFile(): TFile | null {
    return this.activeFile ?? this.activeView?.file ?? null;
  }
}

export function fakeApp() {
  const vault = new FakeVault();
  const workspace = new FakeWorkspace();
  const caches = new Map<string, any>();
  const metadataCache = {
    caches,
    getFileCache: (file: TFile) => caches.get(file.path) ?? null,
    getFirstLinkpathDest: (link: string, _source: string) =>
      vault.getFiles().find((f) => f.path === link || f.name === link || f.basename === link) ?? null,
  };
  const fileManager = {
    generateMarkdownLink: (file: TFile, _source: string) => `[[${file.name}]]`,
  };
  return { vault, workspace, metadataCache, fileManager };
}

export type FakeApp = ReturnType<typeof fakeApp>;
