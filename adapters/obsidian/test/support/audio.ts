// Test doubles for the player: a scriptable audio backend and deferred promises.

import type { AudioBackend, AudioClip } from "../../src/player";
import { wavHeader } from "../../src/wav";

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setImmediate(r));
}

/** A WAV of `seconds` of 16-bit mono silence: for the player's mechanics only, never as speech. */
export function silentWav(seconds: number, sampleRate = 24000, tag = 0): ArrayBuffer {
  const frames = Math.round(seconds * sampleRate);
  const out = new Uint8Array(44 + frames * 2);
  out.set(new Uint8Array(wavHeader(sampleRate, 1, 16, frames * 2)), 0);
  if (frames > 0) out[44] = tag & 0xff; // lets tests tell clips apart
  return out.buffer;
}

export class FakeClip implements AudioClip {
  onEnded: (() => void) | null = null;
  onError: ((err: Error) => void) | null = null;
  playing = false;
  plays = 0;
  rate = 1;
  disposed = false;
  constructor(
    readonly wav: ArrayBuffer,
    private readonly refuse: boolean,
  ) {}
  get tag(): number {
    return new Uint8Array(this.wav)[44] ?? -1;
  }
  async play(): Promise<void> {
    if (this.refuse) throw new Error("the system refused to start audio playback (autoplay blocked)");
    this.playing = true;
    this.plays++;
  }
  pause(): void {
    this.playing = false;
  }
  setRate(rate: number): void {
    this.rate = rate;
  }
  dispose(): void {
    this.disposed = true;
  }
  /** The audio reached its end. */
  finish(): void {
    this.playing = false;
    this.onEnded?.();
  }
}

export class FakeBackend implements AudioBackend {
  clips: FakeClip[] = [];
  refuse = false;
  createClip(wav: ArrayBuffer): FakeClip {
    const clip = new FakeClip(wav, this.refuse);
    this.clips.push(clip);
    return clip;
  }
  get last(): FakeClip {
    return this.clips[this.clips.length - 1];
  }
}
