// Typed errors of the daemon client: each carries the one sentence the user sees in a notice.

export const DAEMON_DOWN_MESSAGE =
  "ownvoice daemon is not running — start it with `ownvoice start` (or `make run` in the ownvoice folder)";
export const UNAUTHORIZED_MESSAGE = "token rejected — check the token file";
export const BUSY_MESSAGE = "daemon busy, retrying…";

/** Base class: `message` is already phrased for the user. */
export class OwnvoiceError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = new.target.name;
  }
}

/** Nothing listens on the configured address (connection refused, reset or unreachable). */
export class DaemonDown extends OwnvoiceError {
  constructor(readonly detail?: string) {
    super(DAEMON_DOWN_MESSAGE);
  }
}

/** 401: the bearer token does not match the daemon's token file. */
export class Unauthorized extends OwnvoiceError {
  constructor(readonly tokenFile?: string) {
    super(tokenFile ? `${UNAUTHORIZED_MESSAGE} (${tokenFile})` : UNAUTHORIZED_MESSAGE, 401);
  }
}

/** 503: the daemon's queue is full; `retryAfter` is the server's hint in seconds. */
export class Busy extends OwnvoiceError {
  constructor(readonly retryAfter: number, message = "daemon busy — try again in a moment") {
    super(message, 503);
  }
}

/** 404: unknown voice or job. */
export class NotFound extends OwnvoiceError {
  constructor(message: string, readonly voice?: string) {
    super(message, 404);
  }
}

/** 400/413/422: the daemon refused the input; its message is passed on. */
export class BadRequest extends OwnvoiceError {}

/** 409 or other refusals of a state change (e.g. a voice name already taken). */
export class Conflict extends OwnvoiceError {}

/** No token could be found (file missing and none pasted). */
export class TokenMissing extends OwnvoiceError {
  constructor(readonly tokenFile: string) {
    super(
      `no ownvoice token found at ${tokenFile} — start the daemon once (\`ownvoice start\`) ` +
        "or paste the token in the plugin settings",
    );
  }
}

/** The configured URL is not a loopback address and the user has not allowed that explicitly. */
export class RemoteHostRefused extends OwnvoiceError {
  constructor(readonly host: string) {
    super(
      `refusing to connect to ${host}: not a local address. ` +
        "Tick “Allow a non-local daemon” in the settings if you really mean it",
    );
  }
}

/** The daemon answered something that does not follow docs/API.md. */
export class ProtocolError extends OwnvoiceError {}

/** A request took longer than the client's limit. */
export class Timeout extends OwnvoiceError {
  constructor(readonly seconds: number) {
    super(`the daemon did not answer within ${seconds} s`);
  }
}

/** Any other 5xx. */
export class ServerError extends OwnvoiceError {}

/** Message for anything thrown: ours are already user-facing; others get a short prefix. */
export function userMessage(err: unknown): string {
  if (err instanceof OwnvoiceError) return err.message;
  if (err instanceof Error) return `ownvoice: ${err.message}`;
  return `ownvoice: ${String(err)}`;
}
