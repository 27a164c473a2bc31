// Audio backend of the app (and of the browser test): HTMLAudioElement playing a blob URL per sentence.

import type { AudioBackend, AudioClip } from "./player";

class HtmlAudioClip implements AudioClip {
  onEnded: (() => void) | null = null;
  onError: ((err: Error) => void) | null = null;
  readonly element: HTMLAudioElement;
  private url: string | null;

  constructor(wav: ArrayBuffer, doc: Document) {
    this.url = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
    this.element = doc.createElement("audio");
    this.element.preload = "auto";
    this.element.src = this.url;
    // Speed changes keep the voice's pitch.
    this.element.preservesPitch = true;
    this.element.addEventListener("ended", () => this.onEnded?.());
    this.element.addEventListener("error", () => {
      const code = this.element.error?.code;
      this.onError?.(new Error(`the audio could not be played (media error ${code ?? "unknown"})`));
    });
  }

  async play(): Promise<void> {
    try {
      await this.element.play();
    } catch (err) {
      // pause() before play() settles rejects with AbortError: that is a pause, not a failure.
      if (err instanceof DOMException && err.name === "AbortError") return;
      if (err instanceof DOMException && err.name === "NotAllowedError") {
        throw new Error("the system refused to start audio playback (autoplay blocked)");
      }
      throw err;
    }
  }

  pause(): void {
    this.element.pause();
  }

  setRate(rate: number): void {
    this.element.playbackRate = rate;
  }

  dispose(): void {
    this.element.removeAttribute("src");
    this.element.load(); // releases the decoder and the media resource
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }
}

/** Creates one detached <audio> element per sentence in `doc` (the active window's document in Obsidian). */
export class HtmlAudioBackend implements AudioBackend {
  constructor(private readonly doc: () => Document = () => document) {}

  createClip(wav: ArrayBuffer): AudioClip {
    return new HtmlAudioClip(wav, this.doc());
  }
}
