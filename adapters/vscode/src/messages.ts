// What the user is told when something fails, and which buttons the message offers. Pure, so every case is
// tested without VS Code; extension.ts shows the message and carries out the chosen action.

import {
  BadRequest,
  BadSetting,
  Busy,
  Cancelled,
  DaemonDown,
  NoAudioDevice,
  OwnvoiceError,
  Timeout,
  TokenMissing,
  Unauthorized,
  UnknownVoice,
  userMessage,
} from "./errors";

export type ActionId = "startDaemon" | "setToken" | "useTokenFile" | "openSettings" | "chooseVoice" | "retry" | "showLog";

export interface Action {
  title: string;
  id: ActionId;
}

export interface Notice {
  severity: "error" | "warning" | "info";
  message: string;
  actions: Action[];
}

export const ACTION_TITLES: Record<ActionId, string> = {
  startDaemon: "Start daemon",
  setToken: "Set token",
  useTokenFile: "Use token file",
  openSettings: "Open settings",
  chooseVoice: "Choose voice",
  retry: "Retry",
  showLog: "Show log",
};

const action = (id: ActionId): Action => ({ id, title: ACTION_TITLES[id] });

/** Source label used for a token saved with "ownvoice: Set token". */
export const SECRET_SOURCE = "VS Code secret storage (ownvoice: Set token)";

/** The notice for an error, or undefined when nothing should be shown (the user cancelled). */
export function noticeFor(err: unknown, canRetry: boolean): Notice | undefined {
  if (err instanceof Cancelled) return undefined;
  if (err instanceof DaemonDown) {
    return { severity: "error", message: `${err.message} (${err.url})`, actions: [action("startDaemon")] };
  }
  if (err instanceof Unauthorized) {
    const actions = [action("setToken"), action("openSettings")];
    // A token stored in VS Code wins over the file: when that one is stale, offer to go back to the file.
    if (err.tokenSource === SECRET_SOURCE) actions.push(action("useTokenFile"));
    return { severity: "error", message: err.message, actions };
  }
  if (err instanceof TokenMissing) {
    return { severity: "error", message: err.message, actions: [action("startDaemon"), action("setToken"), action("openSettings")] };
  }
  if (err instanceof Busy) {
    return { severity: "warning", message: err.message, actions: canRetry ? [action("retry")] : [] };
  }
  if (err instanceof UnknownVoice) {
    return { severity: "error", message: err.message, actions: [action("chooseVoice")] };
  }
  if (err instanceof BadSetting) {
    return { severity: "error", message: err.message, actions: [action("openSettings")] };
  }
  if (err instanceof NoAudioDevice) {
    return { severity: "info", message: err.message, actions: [] };
  }
  if (err instanceof Timeout) {
    return { severity: "error", message: err.message, actions: canRetry ? [action("retry"), action("showLog")] : [action("showLog")] };
  }
  if (err instanceof BadRequest) {
    return { severity: "error", message: err.message, actions: [] };
  }
  if (err instanceof OwnvoiceError) {
    return { severity: "error", message: err.message, actions: [action("showLog")] };
  }
  return { severity: "error", message: userMessage(err), actions: [action("showLog")] };
}
