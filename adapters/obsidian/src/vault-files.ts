// Vault-side file work: where exported audio goes, embedding it, and gathering recordings for training.

import { type App, type MarkdownView, TFile, normalizePath } from "obsidian";
import type { TrainFile } from "./client";
import { OwnvoiceError } from "./errors";
import { AUDIO_EXTENSIONS } from "./ui/train-modal";

/** Largest upload the daemon accepts by default (its setting max_upload_mb = 200). */
export const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

function siblingPath(file: TFile, name: string): string {
  const dir = file.parent?.path;
  return normalizePath(!dir || dir === "/" ? name : `${dir}/${name}`);
}

/** `<folder>/<note>.ownvoice.wav`, next to the note. */
export function exportPathFor(file: TFile): string {
  return siblingPath(file, `${file.basename}.ownvoice.wav`);
}

/** Writes (or replaces) the exported audio file. */
export async function writeAudio(app: App, path: string, wav: ArrayBuffer): Promise<TFile> {
  const existing = app.vault.getAbstractFileByPath(path);
  if (existing instanceof TFile) {
    await app.vault.modifyBinary(existing, wav);
    return existing;
  }
  if (existing) throw new OwnvoiceError(`cannot export: ${path} is a folder`);
  return app.vault.createBinary(path, wav);
}

/** Adds an embed of `audio` at the end of `note` unless it is already there. */
export async function embedAudio(app: App, note: TFile, audio: TFile, open: MarkdownView | null): Promise<void> {
  const embed = "!" + app.fileManager.generateMarkdownLink(audio, note.path);
  const sepFor = (content: string) => (content === "" || content.endsWith("\n") ? "\n" : "\n\n");
  if (open) {
    // The note is in an editor: edit through it so that the cursor and undo history survive.
    const editor = open.editor;
    const content = editor.getValue();
    if (content.includes(embed)) return;
    const last = editor.lastLine();
    editor.replaceRange(`${sepFor(content)}${embed}\n`, { line: last, ch: editor.getLine(last).length });
    return;
  }
  await app.vault.process(note, (data) => (data.includes(embed) ? data : `${data}${sepFor(data)}${embed}\n`));
}

export function isAudio(file: TFile): boolean {
  return AUDIO_EXTENSIONS.has(file.extension.toLowerCase());
}

/** Audio files embedded in or linked from the active note. */
export function audioInActiveNote(app: App): TFile[] {
  const note = app.workspace.getActiveFile();
  if (!note) return [];
  const cache = app.metadataCache.getFileCache(note);
  const out = new Set<TFile>();
  for (const ref of [...(cache?.embeds ?? []), ...(cache?.links ?? [])]) {
    const target = app.metadataCache.getFirstLinkpathDest(ref.link.split("#")[0], note.path);
    if (target && isAudio(target)) out.add(target);
  }
  return [...out];
}

/** Every audio file in the vault, newest first. */
export function allAudio(app: App): TFile[] {
  return app.vault
    .getFiles()
    .filter(isAudio)
    .sort((a, b) => b.stat.mtime - a.stat.mtime);
}

/** Reads the recordings and their same-name .txt transcripts as upload parts, within the upload limit. */
export async function collectRecordings(app: App, files: TFile[]): Promise<TrainFile[]> {
  const out: TrainFile[] = [];
  const used = new Set<string>();
  let total = 0;
  for (const f of files) {
    // Two recordings called take1.wav in different folders must not overwrite each other on the daemon.
    let base = f.basename;
    for (let n = 2; used.has(`${base}.${f.extension}`.toLowerCase()); n++) base = `${f.basename}-${n}`;
    used.add(`${base}.${f.extension}`.toLowerCase());
    const data = await app.vault.readBinary(f);
    total += data.byteLength;
    out.push({ filename: `${base}.${f.extension}`, data });
    const txt = app.vault.getAbstractFileByPath(siblingPath(f, `${f.basename}.txt`));
    if (txt instanceof TFile) {
      const transcript = await app.vault.readBinary(txt);
      total += transcript.byteLength;
      out.push({ filename: `${base}.txt`, data: transcript });
    }
    if (total > MAX_UPLOAD_BYTES) {
      throw new OwnvoiceError("the recordings are larger than 200 MB together; pick fewer or shorter ones");
    }
  }
  return out;
}
