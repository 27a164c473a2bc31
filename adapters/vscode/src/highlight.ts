// Sentence offsets → document ranges, kept right while the user edits, and which sentence plays at a time.
// Offsets are UTF-16 code units, the unit of JavaScript strings and of VS Code's `document.positionAt`.

export interface Span {
  /** The sentence's index in the reading (what the player reports). */
  index: number;
  /** Absolute UTF-16 offsets into the document; start < end, or the span is gone (edited away). */
  start: number;
  end: number;
}

export interface SentenceOffsets {
  index: number;
  start: number;
  end: number;
}

/** One edit of the document, as in vscode.TextDocumentContentChangeEvent. */
export interface Edit {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Makes [start, end) safe to highlight in `text`: clamped to the text, never splitting a surrogate pair
 * (start moves back, end moves forward), and without leading/trailing whitespace or line breaks (so a
 * sentence that ends with "\r\n" does not paint the next line's start).
 */
export function snapRange(text: string, start: number, end: number): [number, number] {
  let s = Math.max(0, Math.min(text.length, Math.floor(start)));
  let e = Math.max(s, Math.min(text.length, Math.ceil(end)));
  if (s > 0 && s < text.length && isLow(text.charCodeAt(s)) && isHigh(text.charCodeAt(s - 1))) s--;
  if (e > 0 && e < text.length && isLow(text.charCodeAt(e)) && isHigh(text.charCodeAt(e - 1))) e++;
  while (s < e && /\s/.test(text[s])) s++;
  while (e > s && /\s/.test(text[e - 1])) e--;
  return [s, e];
}

/**
 * Document spans for sentences whose offsets are relative to `sent`, a piece of the document starting at
 * document offset `base` (0 for the whole file, the selection's or cursor's offset otherwise).
 */
export function toSpans(sentences: readonly SentenceOffsets[], sent: string, base: number): Span[] {
  return sentences.map((s) => {
    const [start, end] = snapRange(sent, s.start, s.end);
    return { index: s.index, start: base + start, end: base + end };
  });
}

/**
 * Moves spans through document edits (applied in order, offsets as VS Code reports them): text inserted
 * before a span shifts it; an edit inside a span stretches or shrinks it; a span deleted whole collapses.
 */
export function shiftSpans(spans: readonly Span[], edits: readonly Edit[]): Span[] {
  let out = spans.map((s) => ({ ...s }));
  // Applied one after the other in the reported order, the way VS Code applies them to its own copy.
  for (const edit of edits) {
    const a = edit.rangeOffset;
    const b = edit.rangeOffset + edit.rangeLength;
    const delta = edit.text.length - edit.rangeLength;
    out = out.map((s) => {
      const move = (x: number, isEnd: boolean): number => {
        if (x < a) return x; // before the edit
        // At the edit's start: text typed just before a sentence pushes it, text added after its end stays out.
        if (x === a) return isEnd ? x : a === b ? x + delta : x;
        if (x >= b) return x + delta; // after the edit
        return isEnd ? a + edit.text.length : a; // inside the replaced text
      };
      const start = move(s.start, false);
      const end = move(s.end, true);
      return { index: s.index, start, end: Math.max(start, end) };
    });
  }
  return out;
}

export interface Timed {
  index: number;
  t0?: number;
  t1?: number;
}

/**
 * The sentence playing at `seconds` into the audio: the one whose [t0, t1) holds it, else the last one that
 * started before it (the gap between two sentences still shows the one just read). Undefined before the first.
 */
export function sentenceAtTime(sentences: readonly Timed[], seconds: number): number | undefined {
  let best: Timed | undefined;
  for (const s of sentences) {
    if (s.t0 === undefined || s.t1 === undefined) continue;
    if (seconds >= s.t0 && seconds < s.t1) return s.index;
    if (s.t0 <= seconds && (!best || (best.t0 ?? -1) < s.t0)) best = s;
  }
  return best?.index;
}

/** Index of the first sentence that ends after `offset` (where "read from cursor" starts), or -1. */
export function firstSentenceFrom(spans: readonly Span[], offset: number): number {
  for (let i = 0; i < spans.length; i++) {
    if (spans[i].end > offset) return i;
  }
  return -1;
}

/** The minimal document interface the range conversion needs (vscode.TextDocument has it). */
export interface PositionSource<P> {
  positionAt(offset: number): P;
}

/** [start, end] positions of a span, or undefined when an edit removed it. */
export function spanPositions<P>(doc: PositionSource<P>, span: Span): [P, P] | undefined {
  if (span.end <= span.start) return undefined;
  return [doc.positionAt(span.start), doc.positionAt(span.end)];
}
