// Following a daemon job (voice training) by polling GET /api/jobs/{id} until it ends.

import type { Job, OwnvoiceClient } from "./client";
import { DaemonDown, OwnvoiceError, Timeout } from "./errors";

export const FINAL_STATES: ReadonlySet<string> = new Set(["done", "failed", "cancelled"]);

export interface WatchOptions {
  intervalMs?: number;
  /** Consecutive failed polls (daemon restarting, timeouts) tolerated before giving up. */
  maxFailures?: number;
  sleep?: (ms: number) => Promise<void>;
  onUpdate?: (job: Job) => void;
  /** Checked before each poll: true stops watching (the plugin was unloaded). */
  isStopped?: () => boolean;
}

/** Polls until the job is done, failed or cancelled; resolves to its last state. */
export async function watchJob(client: OwnvoiceClient, id: string, opts: WatchOptions = {}): Promise<Job> {
  const interval = opts.intervalMs ?? 2000;
  const maxFailures = opts.maxFailures ?? 5;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let failures = 0;
  for (;;) {
    if (opts.isStopped?.()) throw new OwnvoiceError("stopped following the training job");
    try {
      const job = await client.job(id);
      failures = 0;
      opts.onUpdate?.(job);
      if (FINAL_STATES.has(job.state)) return job;
    } catch (err) {
      // The daemon persists jobs and resumes them after a restart, so a few failed polls are not fatal.
      if (!(err instanceof DaemonDown) && !(err instanceof Timeout)) throw err;
      if (++failures > maxFailures) throw err;
    }
    await sleep(interval);
  }
}

/** "Training “Ann”: 42 % — fitting style" */
export function describeJob(name: string, job: Job): string {
  const pct = Math.round(job.progress * 100);
  const msg = job.message ? ` — ${job.message}` : "";
  switch (job.state) {
    case "queued":
      return `Training “${name}”: waiting for its turn${msg}`;
    case "running":
      return `Training “${name}”: ${pct} %${msg}`;
    case "done":
      return `Voice “${name}” is ready — pick it with “Choose voice”`;
    case "failed":
      return `Training “${name}” failed${msg}`;
    case "cancelled":
      return `Training “${name}” was cancelled`;
    default:
      return `Training “${name}”: ${job.state}${msg}`;
  }
}
