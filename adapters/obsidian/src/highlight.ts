// Highlight of the sentence being read: offset→range math (pure) and a CodeMirror 6 StateField.

import { type EditorState, type Extension, StateEffect, StateField, type TransactionSpec } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView } from "@codemirror/view";

export interface Range {
  from: number;
  to: number;
}

export interface OffsetSpan {
  start: number;
  end: number;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Clamps to [0, text.length] and widens so the range never splits a surrogate pair (emoji, rare CJK). */
export function snapRange(text: string, from: number, to: number): Range {
  const n = text.length;
  let a = Math.min(n, Math.max(0, Math.floor(from)));
  let b = Math.min(n, Math.max(0, Math.floor(to)));
  if (b < a) [a, b] = [b, a];
  if (a > 0 && a < n && isLow(text.charCodeAt(a)) && isHigh(text.charCodeAt(a - 1))) a--;
  if (b > 0 && b < n && isLow(text.charCodeAt(b)) && isHigh(text.charCodeAt(b - 1))) b++;
  return { from: a, to: b };
}

/**
 * Maps UTF-16 offsets in `source` to offsets in the same text with CRLF (and lone CR) turned into LF,
 * which is how CodeMirror (and so Obsidian's editor) holds a document whose file has Windows line ends.
 */
export function lineEndMapper(source: string): (offset: number) => number {
  const crlf: number[] = []; // positions of the '\r' of each "\r\n" pair
  for (let i = source.indexOf("\r"); i >= 0; i = source.indexOf("\r", i + 1)) {
    if (source.charCodeAt(i + 1) === 10) crlf.push(i);
  }
  if (crlf.length === 0) return (offset) => offset;
  return (offset) => {
    // Each pair whose '\r' lies before `offset` lost one code unit.
    let lo = 0;
    let hi = crlf.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (crlf[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return offset - lo;
  };
}

export interface RangeOptions {
  /** Added to every offset: where the scripted text starts in the document (a selection's start). */
  shift?: number;
  /** The text the offsets refer to, when it differs from the document by line endings (file read from disk). */
  sourceText?: string;
}

/** Document ranges of script sentences: offsets shifted, line ends mapped, clamped and snapped to `doc`. */
export function sentenceRanges(doc: string, sentences: readonly OffsetSpan[], options: RangeOptions = {}): Range[] {
  const shift = options.shift ?? 0;
  const map = options.sourceText !== undefined ? lineEndMapper(options.sourceText) : (o: number) => o;
  return sentences.map((s) => snapRange(doc, map(s.start) + shift, map(s.end) + shift));
}

/** First sentence to read "from the cursor": the first whose end lies after it; -1 when none does. */
export function startIndexAt(ranges: readonly Range[], cursor: number): number {
  return ranges.findIndex((r) => r.to > cursor);
}

// ---------------------------------------------------------------------------------------------------------------
// CodeMirror state

export interface ReadingState {
  ranges: readonly Range[];
  /** Index into `ranges` of the sentence being read, -1 before the first. */
  current: number;
  decorations: DecorationSet;
}

/** Starts a reading: all sentence ranges (so later edits move them) and the current index. */
export const startReading = StateEffect.define<{ ranges: readonly Range[]; current: number }>();
/** Moves the highlight to sentence `index`. */
export const setCurrentSentence = StateEffect.define<number>();
/** Removes the highlight (reading stopped or finished). */
export const stopReading = StateEffect.define<null>();

export const CURRENT_CLASS = "ownvoice-current-sentence";
const currentMark = Decoration.mark({ class: CURRENT_CLASS, attributes: { "data-ownvoice": "current" } });
const EMPTY: ReadingState = { ranges: [], current: -1, decorations: Decoration.none };

function decorate(ranges: readonly Range[], current: number, docLength: number): DecorationSet {
  const r = ranges[current];
  if (!r) return Decoration.none;
  const from = Math.min(r.from, docLength);
  const to = Math.min(r.to, docLength);
  return from < to ? Decoration.set([currentMark.range(from, to)]) : Decoration.none;
}

export const readingField = StateField.define<ReadingState>({
  create: () => EMPTY,
  update(value, tr) {
    let { ranges, current } = value;
    let changed = false;
    if (tr.docChanged && ranges.length) {
      // Edits while reading move the sentences with the text around them.
      ranges = ranges.map((r) => {
        const from = tr.changes.mapPos(r.from, 1);
        return { from, to: Math.max(from, tr.changes.mapPos(r.to, -1)) };
      });
      changed = true;
    }
    for (const e of tr.effects) {
      if (e.is(startReading)) {
        ranges = e.value.ranges;
        current = e.value.current;
        changed = true;
      } else if (e.is(setCurrentSentence)) {
        current = e.value;
        changed = true;
      } else if (e.is(stopReading)) {
        return EMPTY;
      }
    }
    if (!changed) return value;
    return { ranges, current, decorations: decorate(ranges, current, tr.newDoc.length) };
  },
  provide: (field) => EditorView.decorations.from(field, (v) => v.decorations),
});

/** The editor extension to register (Plugin.registerEditorExtension). */
export function highlightExtension(): Extension {
  return [readingField];
}

/** The current sentence's range in `state`, after any edits; null when nothing is highlighted. */
export function currentRange(state: EditorState): Range | null {
  const v = state.field(readingField, false);
  if (!v) return null;
  return v.ranges[v.current] ?? null;
}

/** Transaction that moves the highlight to `index` and, with `follow`, scrolls it into view. */
export function moveHighlight(state: EditorState, index: number, follow: boolean): TransactionSpec {
  const effects: StateEffect<unknown>[] = [setCurrentSentence.of(index)];
  const v = state.field(readingField, false);
  const r = v?.ranges[index];
  if (follow && r) {
    effects.push(EditorView.scrollIntoView(Math.min(r.from, state.doc.length), { y: "nearest", yMargin: 64 }));
  }
  return { effects };
}
