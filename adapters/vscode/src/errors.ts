// Typed errors of the daemon client. Each carries the sentence the user sees; extension.ts adds the buttons.

export const DAEMON_DOWN_MESSAGE = "ownvoice daemon is not running";

/** Base class: `message` is already phrased for the user. */
export class OwnvoiceError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Nothing answers at the configured address (connection refused, reset, unreachable). */
export class DaemonDown extends OwnvoiceError {
  constructor(
    readonly url: string,
    readonly detail?: string,
  ) {
    super(DAEMON_DOWN_MESSAGE);
  }
}

/** 401: the bearer token does not match the daemon's token file. */
export class Unauthorized extends OwnvoiceError {
  constructor(readonly tokenSource: string) {
    super(`ownvoice rejected the token from ${tokenSource} — the daemon may have a new one`, 401);
  }
}

/** No token anywhere: token file missing or empty, none stored with "Set token". */
export class TokenMissing extends OwnvoiceError {
  constructor(readonly tokenFile: string) {
    super(`no ownvoice token found in ${tokenFile} — start the daemon once, or run "ownvoice: Set token"`);
  }
}

/** 503: the daemon's synthesis queue is full; `retryAfter` in seconds from the Retry-After header. */
export class Busy extends OwnvoiceError {
  constructor(readonly retryAfter: number) {
    super(`ownvoice daemon is busy (queue full) — retry after ${formatSeconds(retryAfter)} s`, 503);
  }
}

/** 404 on a request that named a voice: the voice id is unknown to the daemon. */
export class UnknownVoice extends OwnvoiceError {
  constructor(
    readonly voice: string,
    detail: string,
  ) {
    super(`unknown voice "${voice}" — pick another voice (${detail})`, 404);
  }
}

/** 404 on anything else. */
export class NotFound extends OwnvoiceError {
  constructor(message: string) {
    super(message, 404);
  }
}

/** 409 from /api/play: the daemon has no audio output device; play the audio in VS Code instead. */
export class NoAudioDevice extends OwnvoiceError {
  constructor(readonly detail: string) {
    super(`the ownvoice daemon cannot play audio here (${detail}); playing in a VS Code panel instead`, 409);
  }
}

/** Other 409s (e.g. a state conflict). */
export class Conflict extends OwnvoiceError {}

/** 400/413/422: the daemon refused the input; its own message is passed on. */
export class BadRequest extends OwnvoiceError {}

/** The daemon answered something that does not follow docs/API.md. */
export class ProtocolError extends OwnvoiceError {}

/** A request took longer than the client's limit. */
export class Timeout extends OwnvoiceError {
  constructor(readonly seconds: number) {
    super(`the ownvoice daemon did not answer within ${seconds} s`);
  }
}

/** Any other 5xx. */
export class ServerError extends OwnvoiceError {}

/** The configured daemon URL is unusable (not http, not loopback, malformed). */
export class BadSetting extends OwnvoiceError {}

/** The request was cancelled by the user (Stop, or a new read started). */
export class Cancelled extends OwnvoiceError {
  constructor() {
    super("cancelled");
  }
}

function formatSeconds(s: number): string {
  return Number.isInteger(s) ? String(s) : s.toFixed(1);
}

/** Message for anything thrown: ours are user-facing already; others get a short prefix. */
export function userMessage(err: unknown): string {
  if (err instanceof OwnvoiceError) return err.message;
  if (err instanceof Error) return `ownvoice: ${err.message}`;
  return `ownvoice: ${String(err)}`;
}
