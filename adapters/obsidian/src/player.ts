// Sentence queue player: fetches sentence i+1 while i plays; the audio output is an injected backend.

/** One decoded sentence, ready to play. */
export interface AudioClip {
  /** Starts or resumes; rejects when the platform refuses (autoplay policy, undecodable data). */
  play(): Promise<void>;
  pause(): void;
  /** Playback rate relative to the clip's own speed (1 = as synthesised). */
  setRate(rate: number): void;
  /** Frees what the clip holds (object URLs); the clip is not used again. */
  dispose(): void;
  onEnded: (() => void) | null;
  onError: ((err: Error) => void) | null;
}

export interface AudioBackend {
  createClip(wav: ArrayBuffer): AudioClip;
}

export type PlayerState = "idle" | "loading" | "playing" | "paused";

/** Fetches sentence `index` synthesised at `speed` (a WAV file). */
export type FetchAudio = (index: number, speed: number) => Promise<ArrayBuffer>;

export interface PlayerOptions {
  count: number;
  fetchAudio: FetchAudio;
  backend: AudioBackend;
  speed?: number;
  /** Sentences fetched ahead of the one playing. */
  prefetch?: number;
  /** Errors that end the reading; others skip the sentence. Default: every error is fatal. */
  isFatal?: (err: unknown) => boolean;
}

export interface PlayerListener {
  /** Sentence `index` starts playing (or is loaded while paused): move the highlight. */
  sentence?(index: number): void;
  state?(state: PlayerState): void;
  /** A fetch of sentence `index` started. */
  fetch?(index: number): void;
  error?(err: unknown, index: number, fatal: boolean): void;
  /** Reading is over: `completed` is false when stopped or ended by an error. */
  end?(completed: boolean): void;
}

interface Pending {
  speed: number;
  promise: Promise<ArrayBuffer>;
}

export class Player {
  readonly count: number;
  private readonly fetchAudio: FetchAudio;
  private readonly backend: AudioBackend;
  private readonly prefetch: number;
  private readonly isFatal: (err: unknown) => boolean;
  private readonly listeners: PlayerListener[] = [];
  private readonly pending = new Map<number, Pending>();
  private speedValue: number;
  private current = -1;
  private stateValue: PlayerState = "idle";
  private clip: AudioClip | null = null;
  private clipSpeed = 1;
  /** Bumped by stop/seek so that late fetches and events of an old position are ignored. */
  private generation = 0;
  private wantPause = false;
  private finished: Promise<boolean> | null = null;
  private resolveFinished: ((completed: boolean) => void) | null = null;

  constructor(options: PlayerOptions) {
    if (!Number.isInteger(options.count) || options.count < 0) throw new RangeError("count must be a whole number ≥ 0");
    this.count = options.count;
    this.fetchAudio = options.fetchAudio;
    this.backend = options.backend;
    this.prefetch = Math.max(0, options.prefetch ?? 1);
    this.isFatal = options.isFatal ?? (() => true);
    this.speedValue = options.speed ?? 1;
  }

  get index(): number {
    return this.current;
  }

  get state(): PlayerState {
    return this.stateValue;
  }

  get speed(): number {
    return this.speedValue;
  }

  /** Registers a listener; returns a function that removes it. */
  on(listener: PlayerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Starts reading at sentence `from`; resolves when reading ends (true = reached the end). */
  start(from = 0): Promise<boolean> {
    if (!this.finished) {
      this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    }
    const finished = this.finished; // playAt may finish synchronously (empty script) and clear the field
    this.wantPause = false;
    void this.playAt(Math.max(0, from), ++this.generation);
    return finished;
  }

  pause(): void {
    if (this.stateValue === "playing") {
      this.clip?.pause();
      this.setState("paused");
    } else if (this.stateValue === "loading") {
      this.wantPause = true;
      this.setState("paused");
    }
  }

  resume(): void {
    if (this.stateValue !== "paused") return;
    this.wantPause = false;
    if (this.clip) {
      this.setState("playing");
      this.clip.play().catch((err) => this.clipFailed(err, this.current, this.generation));
    } else {
      this.setState("loading"); // the clip is still being fetched; it will start when it arrives
    }
  }

  /** Pauses when playing, resumes when paused. */
  toggle(): void {
    if (this.stateValue === "paused") this.resume();
    else this.pause();
  }

  /** Moves to sentence current+delta (clamped), keeping the paused/playing state. */
  skip(delta: number): void {
    if (this.stateValue === "idle") return;
    const target = Math.min(this.count - 1, Math.max(0, this.current + delta));
    this.dropClip();
    void this.playAt(target, ++this.generation);
  }

  /** Changes the speed now (playback rate of the current clip) and for sentences fetched from now on. */
  setSpeed(speed: number): void {
    this.speedValue = speed;
    this.clip?.setRate(speed / this.clipSpeed);
    // Clips fetched ahead at the old speed would jump back to it: fetch them again at the new one.
    for (const [i, p] of this.pending) if (i > this.current && p.speed !== speed) this.pending.delete(i);
    if (this.clip) this.prefetchAfter(this.current);
  }

  stop(): void {
    if (this.stateValue === "idle" && !this.finished) return;
    this.finish(false);
  }

  private emit<K extends keyof PlayerListener>(key: K, ...args: Parameters<NonNullable<PlayerListener[K]>>): void {
    for (const l of [...this.listeners]) {
      const fn = l[key] as ((...a: unknown[]) => void) | undefined;
      fn?.apply(l, args);
    }
  }

  private setState(state: PlayerState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit("state", state);
  }

  private request(index: number): Promise<ArrayBuffer> {
    const have = this.pending.get(index);
    if (have && have.speed === this.speedValue) return have.promise;
    const speed = this.speedValue;
    this.emit("fetch", index);
    const promise = this.fetchAudio(index, speed);
    promise.catch(() => undefined); // handled where awaited; avoids unhandled rejections of prefetches
    this.pending.set(index, { speed, promise });
    return promise;
  }

  private prefetchAfter(index: number): void {
    for (let j = index + 1; j <= index + this.prefetch && j < this.count; j++) this.request(j);
  }

  private dropClip(): void {
    if (!this.clip) return;
    this.clip.onEnded = null;
    this.clip.onError = null;
    this.clip.pause();
    this.clip.dispose();
    this.clip = null;
  }

  private async playAt(index: number, gen: number): Promise<void> {
    if (index >= this.count) {
      this.finish(true);
      return;
    }
    this.current = index;
    // Memory stays bounded: only the sentence playing and those fetched ahead are kept.
    for (const i of this.pending.keys()) if (i < index) this.pending.delete(i);
    this.setState(this.wantPause ? "paused" : "loading");
    const speed = this.speedValue;
    let wav: ArrayBuffer;
    try {
      wav = await this.request(index);
    } catch (err) {
      if (gen !== this.generation) return;
      this.pending.delete(index);
      const fatal = this.isFatal(err);
      this.emit("error", err, index, fatal);
      if (fatal) this.finish(false);
      else void this.playAt(index + 1, gen);
      return;
    }
    if (gen !== this.generation) return;
    let clip: AudioClip;
    try {
      clip = this.backend.createClip(wav);
    } catch (err) {
      this.clipFailed(err, index, gen);
      return;
    }
    this.clip = clip;
    this.clipSpeed = speed;
    clip.setRate(this.speedValue / speed);
    clip.onEnded = () => {
      if (gen !== this.generation) return;
      this.dropClip();
      this.pending.delete(index);
      void this.playAt(index + 1, gen);
    };
    clip.onError = (err) => this.clipFailed(err, index, gen);
    this.prefetchAfter(index);
    this.emit("sentence", index);
    if (this.wantPause) {
      this.setState("paused");
      return;
    }
    this.setState("playing");
    try {
      await clip.play();
    } catch (err) {
      this.clipFailed(err, index, gen);
    }
  }

  private clipFailed(err: unknown, index: number, gen: number): void {
    if (gen !== this.generation) return;
    this.dropClip();
    // A clip that cannot play (autoplay refused, bad data) would fail the same way for every sentence.
    this.emit("error", err, index, true);
    this.finish(false);
  }

  private finish(completed: boolean): void {
    this.generation++;
    this.dropClip();
    this.pending.clear();
    this.wantPause = false;
    this.setState("idle");
    const resolve = this.resolveFinished;
    this.finished = null;
    this.resolveFinished = null;
    this.emit("end", completed);
    resolve?.(completed);
  }
}
