// Browser side of browser.test.ts: a real CodeMirror view with the plugin's highlight field, and the plugin's
// Player with its HTMLAudioElement backend playing WAVs served by the test.

import { EditorView, lineNumbers } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { highlightExtension, moveHighlight, sentenceRanges, startReading, stopReading } from "../../src/highlight";
import { HtmlAudioBackend } from "../../src/html-audio";
import { Player } from "../../src/player";

interface Script {
  title: string;
  source: string;
  note: string;
  voice: string;
  sentences: Array<{ text: string; start: number; end: number }>;
}

interface ClipStats {
  index: number;
  duration: number;
  maxTime: number;
  playingAt: number;
  endedAt: number;
}

const record = {
  events: [] as Array<{ type: string; index?: number; value?: unknown; t: number; highlight?: string }>,
  clips: [] as ClipStats[],
  ready: false,
};
(window as unknown as { __ownvoice: typeof record }).__ownvoice = record;

function highlightedText(): string {
  return Array.from(document.querySelectorAll(".ownvoice-current-sentence"))
    .map((e) => e.textContent ?? "")
    .join("");
}

async function main(): Promise<void> {
  const script = (await (await fetch("/script.json")).json()) as Script;
  document.getElementById("title")!.textContent = script.title;
  document.getElementById("source")!.textContent = script.source;
  document.getElementById("voice")!.textContent = script.voice;
  const view = new EditorView({
    parent: document.getElementById("editor")!,
    state: EditorState.create({
      doc: script.note,
      extensions: [highlightExtension(), EditorView.lineWrapping, lineNumbers(), EditorView.editable.of(false)],
    }),
  });
  const ranges = sentenceRanges(view.state.doc.toString(), script.sentences);

  // The app's backend, watched: how long each clip really played.
  const backend = new HtmlAudioBackend(() => document);
  let clipIndex = 0;
  const watched = {
    createClip(wav: ArrayBuffer) {
      const clip = backend.createClip(wav) as ReturnType<HtmlAudioBackend["createClip"]> & { element: HTMLAudioElement };
      const stats: ClipStats = { index: clipIndex++, duration: NaN, maxTime: 0, playingAt: 0, endedAt: 0 };
      record.clips.push(stats);
      const el = clip.element;
      el.addEventListener("loadedmetadata", () => (stats.duration = el.duration));
      el.addEventListener("playing", () => (stats.playingAt ||= performance.now()));
      el.addEventListener("timeupdate", () => (stats.maxTime = Math.max(stats.maxTime, el.currentTime || 0)));
      el.addEventListener("ended", () => (stats.endedAt = performance.now()));
      return clip;
    },
  };

  const player = new Player({
    count: script.sentences.length,
    backend: watched,
    fetchAudio: async (i) => {
      const res = await fetch(`/audio/${i}.wav`);
      if (!res.ok) throw new Error(`audio ${i}: HTTP ${res.status}`);
      return res.arrayBuffer();
    },
  });
  const progress = document.getElementById("progress")!;
  const state = document.getElementById("state")!;
  player.on({
    fetch: (i) => record.events.push({ type: "fetch", index: i, t: performance.now() }),
    sentence: (i) => {
      view.dispatch(moveHighlight(view.state, i, true));
      progress.textContent = `${i + 1}/${script.sentences.length}`;
      record.events.push({ type: "sentence", index: i, t: performance.now(), highlight: highlightedText() });
    },
    state: (s) => {
      state.textContent = s === "playing" ? "❚❚" : s === "loading" ? "…" : s === "paused" ? "▶" : "idle";
      record.events.push({ type: "state", value: s, t: performance.now() });
    },
    error: (err, i) => record.events.push({ type: "error", index: i, value: String(err), t: performance.now() }),
    end: (completed) => {
      view.dispatch({ effects: stopReading.of(null) });
      progress.textContent = "";
      record.events.push({ type: "end", value: completed, t: performance.now() });
    },
  });
  document.getElementById("read")!.addEventListener("click", () => {
    view.dispatch({ effects: startReading.of({ ranges, current: -1 }) });
    void player.start(0);
  });
  record.ready = true;
}

main().catch((err) => record.events.push({ type: "error", value: String(err), t: performance.now() }));
