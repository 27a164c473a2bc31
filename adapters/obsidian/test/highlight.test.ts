import assert from "node:assert/strict";
import { test } from "node:test";
import { EditorState } from "@codemirror/state";
import {
  CURRENT_CLASS,
  currentRange,
  highlightExtension,
  lineEndMapper,
  moveHighlight,
  readingField,
  sentenceRanges,
  setCurrentSentence,
  snapRange,
  startIndexAt,
  startReading,
  stopReading,
} from "../src/highlight";

/** Sentence spans as the daemon returns them: UTF-16 offsets of each sentence in `text`. */
function spans(text: string, sentences: string[]) {
  let from = 0;
  return sentences.map((s) => {
    const start = text.indexOf(s, from);
    assert.ok(start >= 0, s);
    from = start + s.length;
    return { start, end: from };
  });
}

function highlighted(state: EditorState): string[] {
  const out: string[] = [];
  const deco = state.field(readingField).decorations;
  deco.between(0, state.doc.length, (from, to, value) => {
    out.push(`${state.doc.sliceString(from, to)}|${(value.spec as { class: string }).class}`);
  });
  return out;
}

test("ranges from UTF-16 offsets cover emoji and astral CJK exactly", () => {
  const doc = "# Hi 👋\n\nSmile 😀 please. 𠜎 is rare. Done.";
  const sentences = ["Hi 👋", "Smile 😀 please.", "𠜎 is rare.", "Done."];
  const ranges = sentenceRanges(doc, spans(doc, sentences));
  assert.deepEqual(
    ranges.map((r) => doc.slice(r.from, r.to)),
    sentences,
  );
  // "😀" is two code units: code point offsets (Python's) would be one short per emoji before a sentence.
  assert.equal(ranges[2].from, doc.indexOf("𠜎"));
});

test("a range never splits a surrogate pair", () => {
  const doc = "a😀b";
  assert.deepEqual(snapRange(doc, 2, 3), { from: 1, to: 3 }, "start inside the pair moves back");
  assert.deepEqual(snapRange(doc, 0, 2), { from: 0, to: 3 }, "end inside the pair moves forward");
  assert.deepEqual(snapRange(doc, -5, 99), { from: 0, to: 4 }, "clamped to the document");
  assert.deepEqual(snapRange(doc, 3, 1), { from: 1, to: 3 }, "reversed offsets are ordered");
});

test("offsets into a CRLF file map onto the editor's LF document", () => {
  const source = "First line.\r\nSecond line.\r\n\r\nThird 😀 line.\r\n";
  const doc = source.replace(/\r\n/g, "\n");
  const sentences = ["First line.", "Second line.", "Third 😀 line."];
  const ranges = sentenceRanges(doc, spans(source, sentences), { sourceText: source });
  assert.deepEqual(
    ranges.map((r) => doc.slice(r.from, r.to)),
    sentences,
  );
  const map = lineEndMapper(source);
  assert.equal(map(0), 0);
  assert.equal(map(12), 11, "between \\r and \\n maps onto the \\n");
  assert.equal(map(source.length), doc.length);
  assert.equal(lineEndMapper("no breaks")(5), 5);
});

test("a selection's script offsets are shifted by the selection start", () => {
  const doc = "Intro text. Selected one. Selected two. Outro.";
  const from = doc.indexOf("Selected one");
  const text = doc.slice(from, doc.indexOf(" Outro"));
  const ranges = sentenceRanges(doc, spans(text, ["Selected one.", "Selected two."]), { shift: from });
  assert.deepEqual(
    ranges.map((r) => doc.slice(r.from, r.to)),
    ["Selected one.", "Selected two."],
  );
});

test("reading from the cursor starts at the first sentence ending after it", () => {
  const ranges = [
    { from: 0, to: 10 },
    { from: 11, to: 20 },
    { from: 21, to: 30 },
  ];
  assert.equal(startIndexAt(ranges, 0), 0);
  assert.equal(startIndexAt(ranges, 10), 1, "cursor at the end of a sentence: the next one");
  assert.equal(startIndexAt(ranges, 15), 1, "cursor inside a sentence: that sentence");
  assert.equal(startIndexAt(ranges, 30), -1, "cursor after the last sentence: nothing");
});

test("the editor field marks the current sentence and moves from sentence 0 to 1", () => {
  const doc = "One 😀 here. Two there.";
  const ranges = sentenceRanges(doc, spans(doc, ["One 😀 here.", "Two there."]));
  let state = EditorState.create({ doc, extensions: highlightExtension() });
  state = state.update({ effects: startReading.of({ ranges, current: -1 }) }).state;
  assert.deepEqual(highlighted(state), [], "nothing is marked before audio plays");
  state = state.update(moveHighlight(state, 0, false)).state;
  assert.deepEqual(highlighted(state), [`One 😀 here.|${CURRENT_CLASS}`]);
  state = state.update({ effects: setCurrentSentence.of(1) }).state;
  assert.deepEqual(highlighted(state), [`Two there.|${CURRENT_CLASS}`]);
  state = state.update({ effects: stopReading.of(null) }).state;
  assert.deepEqual(highlighted(state), []);
  assert.equal(currentRange(state), null);
});

test("edits while reading move the remaining sentences with their text", () => {
  const doc = "First one. Second one. Third one.";
  const ranges = sentenceRanges(doc, spans(doc, ["First one.", "Second one.", "Third one."]));
  let state = EditorState.create({ doc, extensions: highlightExtension() });
  state = state.update({ effects: startReading.of({ ranges, current: 0 }) }).state;
  state = state.update({ changes: { from: 0, insert: "New start. " } }).state; // typed before everything
  state = state.update({ changes: { from: state.doc.toString().indexOf("Second"), to: state.doc.toString().indexOf("Second") + 6, insert: "2nd" } }).state;
  state = state.update({ effects: setCurrentSentence.of(1) }).state;
  assert.deepEqual(highlighted(state), [`2nd one.|${CURRENT_CLASS}`]);
  state = state.update({ effects: setCurrentSentence.of(2) }).state;
  const r = currentRange(state)!;
  assert.equal(state.doc.sliceString(r.from, r.to), "Third one.");
});

test("following the highlight adds a scroll effect; not following does not", () => {
  const doc = "A. B.";
  let state = EditorState.create({ doc, extensions: highlightExtension() });
  state = state.update({ effects: startReading.of({ ranges: [{ from: 0, to: 2 }, { from: 3, to: 5 }], current: -1 }) }).state;
  const follow = moveHighlight(state, 1, true);
  const still = moveHighlight(state, 1, false);
  assert.equal((follow.effects as unknown[]).length, 2);
  assert.equal((still.effects as unknown[]).length, 1);
});

test("a sentence deleted while reading is not marked (no zero-length or stale decoration)", () => {
  const doc = "Keep this. Delete this.";
  const ranges = sentenceRanges(doc, spans(doc, ["Keep this.", "Delete this."]));
  let state = EditorState.create({ doc, extensions: highlightExtension() });
  state = state.update({ effects: startReading.of({ ranges, current: 0 }) }).state;
  state = state.update({ changes: { from: 10, to: doc.length } }).state;
  state = state.update({ effects: setCurrentSentence.of(1) }).state;
  assert.deepEqual(highlighted(state), []);
});
