// Offset → range math: UTF-16 offsets with surrogate pairs and CRLF, selections, edits while reading, timings.

import assert from "node:assert/strict";
import { test } from "node:test";
import { firstSentenceFrom, sentenceAtTime, shiftSpans, snapRange, spanPositions, toSpans } from "../src/highlight";
import { MockTextDocument, Uri } from "./mocks/vscode";

const doc = (text: string) => new MockTextDocument(Uri.file("/n.md"), "markdown", text);

function rangeOf(text: string, start: number, end: number) {
  const [s, e] = snapRange(text, start, end);
  const at = spanPositions(doc(text), { index: 0, start: s, end: e })!;
  return [at[0].line, at[0].character, at[1].line, at[1].character];
}

test("sentence after an emoji maps to the right columns (UTF-16 offsets)", () => {
  const text = "I 😀 notes. Next one.";
  // "😀" is two UTF-16 code units: "Next" starts at JS index 12, one more than its code point index.
  const start = text.indexOf("Next");
  assert.equal(start, 12);
  assert.deepEqual(rangeOf(text, start, text.length), [0, 12, 0, 21]);
  assert.equal(text.slice(start, text.length), "Next one.");
});

test("an offset inside a surrogate pair is widened to the whole character", () => {
  const text = "a😀b";
  assert.deepEqual(snapRange(text, 2, 3), [1, 3]); // start moved back onto the high surrogate
  assert.deepEqual(snapRange(text, 0, 2), [0, 3]); // end moved past the low surrogate
  const [s, e] = snapRange(text, 2, 2);
  assert.ok(s <= e);
});

test("CRLF documents: a sentence on the second line starts at column 0 and ends before the line break", () => {
  const text = "# Title\r\n\r\nFirst sentence here.\r\nSecond line.\r\n";
  const start = text.indexOf("First");
  const end = text.indexOf("\r\nSecond") + 2; // a span that swallowed the line break
  assert.deepEqual(rangeOf(text, start, end), [2, 0, 2, "First sentence here.".length]);
  const s2 = text.indexOf("Second");
  assert.deepEqual(rangeOf(text, s2, text.length), [3, 0, 3, "Second line.".length]);
});

test("an offset between \\r and \\n is the end of that line, as in VS Code", () => {
  const d = doc("ab\r\ncd");
  const p = d.positionAt(3);
  assert.deepEqual([p.line, p.character], [0, 2]);
  assert.equal(d.offsetAt(d.positionAt(4)), 4);
});

test("offsets past the end are clamped to the text", () => {
  assert.deepEqual(snapRange("short", 2, 999), [2, 5]);
  assert.deepEqual(snapRange("short", -5, 3), [0, 3]);
});

test("offsets relative to a selection are moved by the selection's document offset", () => {
  const full = "Intro. 😀 Selected one. Selected two.";
  const base = full.indexOf("😀");
  const sent = full.slice(base);
  const spans = toSpans(
    [
      { index: 0, start: sent.indexOf("Selected one"), end: sent.indexOf("Selected one") + 13 },
      { index: 1, start: sent.indexOf("Selected two"), end: sent.length },
    ],
    sent,
    base,
  );
  assert.equal(full.slice(spans[0].start, spans[0].end), "Selected one.");
  assert.equal(full.slice(spans[1].start, spans[1].end), "Selected two.");
});

test("typing before the sentence being read shifts its highlight", () => {
  const spans = [{ index: 0, start: 10, end: 20 }];
  assert.deepEqual(shiftSpans(spans, [{ rangeOffset: 0, rangeLength: 0, text: "abc" }]), [{ index: 0, start: 13, end: 23 }]);
  // Deleting text before it moves it back.
  assert.deepEqual(shiftSpans(spans, [{ rangeOffset: 2, rangeLength: 5, text: "" }]), [{ index: 0, start: 5, end: 15 }]);
});

test("typing inside or after the sentence stretches it or leaves it alone", () => {
  const spans = [{ index: 0, start: 10, end: 20 }];
  assert.deepEqual(shiftSpans(spans, [{ rangeOffset: 15, rangeLength: 0, text: "xy" }]), [{ index: 0, start: 10, end: 22 }]);
  assert.deepEqual(shiftSpans(spans, [{ rangeOffset: 25, rangeLength: 3, text: "" }]), spans);
  // An insert exactly at the start belongs before the sentence; at the end it stays outside.
  assert.deepEqual(shiftSpans(spans, [{ rangeOffset: 10, rangeLength: 0, text: "#" }]), [{ index: 0, start: 11, end: 21 }]);
  assert.deepEqual(shiftSpans(spans, [{ rangeOffset: 20, rangeLength: 0, text: "!" }]), [{ index: 0, start: 10, end: 20 }]);
});

test("deleting the whole sentence collapses its span so nothing is painted", () => {
  const [gone] = shiftSpans([{ index: 3, start: 10, end: 20 }], [{ rangeOffset: 5, rangeLength: 20, text: "" }]);
  assert.equal(gone.start, gone.end);
  assert.equal(spanPositions(doc("x".repeat(40)), gone), undefined);
});

test("the sentence playing at a time is found from t0/t1, gaps keep the previous one", () => {
  const timed = [
    { index: 0, t0: 0, t1: 1.5 },
    { index: 1, t0: 1.62, t1: 3 },
    { index: 2, t0: 3.12, t1: 4 },
  ];
  assert.equal(sentenceAtTime(timed, 0), 0);
  assert.equal(sentenceAtTime(timed, 1.55), 0);
  assert.equal(sentenceAtTime(timed, 2), 1);
  assert.equal(sentenceAtTime(timed, 9), 2);
  assert.equal(sentenceAtTime(timed, -1), undefined);
  assert.equal(sentenceAtTime([{ index: 0 }], 1), undefined);
});

test("reading from the cursor starts with the sentence the cursor is in", () => {
  const spans = [
    { index: 0, start: 0, end: 10 },
    { index: 1, start: 11, end: 30 },
  ];
  assert.equal(firstSentenceFrom(spans, 0), 0);
  assert.equal(firstSentenceFrom(spans, 10), 1);
  assert.equal(firstSentenceFrom(spans, 15), 1);
  assert.equal(firstSentenceFrom(spans, 30), -1);
});
