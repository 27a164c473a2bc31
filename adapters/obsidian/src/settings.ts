// Plugin settings: defaults, repair of what loadData returns, daemon URL checks and token lookup.

import { RemoteHostRefused, TokenMissing } from "./errors";

export type CodeBlockRule = "announce" | "read" | "skip";
export type LinkRule = "text" | "announce";
export type MathRule = "formula" | "verbalize";
export type TokenSource = "file" | "pasted";

export interface OwnvoiceSettings {
  /** Base URL of the daemon's HTTP bridge. */
  daemonUrl: string;
  /** Off by default: only loopback addresses are contacted unless the user ticks this. */
  allowRemoteDaemon: boolean;
  tokenSource: TokenSource;
  /** Empty = the platform default (see defaultTokenPath). */
  tokenFile: string;
  /** Used when tokenSource is "pasted". Stored in the vault's plugin data. */
  token: string;
  voice: string;
  /** Speaking rate sent to the daemon, 0.5–2. */
  speed: number;
  codeBlocks: CodeBlockRule;
  links: LinkRule;
  math: MathRule;
  headingPause: boolean;
  stopOnNoteSwitch: boolean;
  /** Keep the sentence being read scrolled into view. */
  followHighlight: boolean;
  /** Add `![[note.ownvoice.wav]]` to the note after exporting its audio. */
  embedExportedAudio: boolean;
}

export const DEFAULT_DAEMON_URL = "http://127.0.0.1:7723";
export const MIN_SPEED = 0.5;
export const MAX_SPEED = 2;

export const DEFAULT_SETTINGS: Readonly<OwnvoiceSettings> = Object.freeze({
  daemonUrl: DEFAULT_DAEMON_URL,
  allowRemoteDaemon: false,
  tokenSource: "file",
  tokenFile: "",
  token: "",
  voice: "default",
  speed: 1,
  codeBlocks: "announce",
  links: "text",
  math: "formula",
  headingPause: true,
  stopOnNoteSwitch: true,
  followHighlight: true,
  embedExportedAudio: true,
});

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === "boolean" ? value : fallback;
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

export function clampSpeed(value: number): number {
  if (!Number.isFinite(value)) return DEFAULT_SETTINGS.speed;
  return Math.round(Math.min(MAX_SPEED, Math.max(MIN_SPEED, value)) * 100) / 100;
}

/** Defaults overlaid with whatever valid fields `loadData()` returned (null, junk and old keys are dropped). */
export function mergeSettings(loaded: unknown): OwnvoiceSettings {
  const d = DEFAULT_SETTINGS;
  const raw = (loaded && typeof loaded === "object" ? loaded : {}) as Record<string, unknown>;
  const url = str(raw.daemonUrl, d.daemonUrl).trim();
  return {
    daemonUrl: url === "" ? d.daemonUrl : url,
    allowRemoteDaemon: bool(raw.allowRemoteDaemon, d.allowRemoteDaemon),
    tokenSource: oneOf(raw.tokenSource, ["file", "pasted"] as const, d.tokenSource),
    tokenFile: str(raw.tokenFile, d.tokenFile).trim(),
    token: str(raw.token, d.token).trim(),
    voice: str(raw.voice, d.voice).trim() || d.voice,
    speed: clampSpeed(typeof raw.speed === "number" ? raw.speed : d.speed),
    codeBlocks: oneOf(raw.codeBlocks, ["announce", "read", "skip"] as const, d.codeBlocks),
    links: oneOf(raw.links, ["text", "announce"] as const, d.links),
    math: oneOf(raw.math, ["formula", "verbalize"] as const, d.math),
    headingPause: bool(raw.headingPause, d.headingPause),
    stopOnNoteSwitch: bool(raw.stopOnNoteSwitch, d.stopOnNoteSwitch),
    followHighlight: bool(raw.followHighlight, d.followHighlight),
    embedExportedAudio: bool(raw.embedExportedAudio, d.embedExportedAudio),
  };
}

/** The `rules` object of POST /api/script for these settings. */
export function scriptRules(s: OwnvoiceSettings): {
  code_blocks: CodeBlockRule;
  links: LinkRule;
  math: MathRule;
  heading_pause: boolean;
} {
  return { code_blocks: s.codeBlocks, links: s.links, math: s.math, heading_pause: s.headingPause };
}

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts contacted by default. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return !!m && m.slice(1).every((part) => Number(part) <= 255);
}

/** Parses and checks the daemon URL; returns it without a trailing slash. Throws on anything unusable. */
export function checkDaemonUrl(url: string, allowRemote: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new TypeError(`“${url}” is not a URL — expected something like ${DEFAULT_DAEMON_URL}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`the daemon URL must start with http:// (got ${parsed.protocol}//)`);
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new TypeError("the daemon URL must not contain a user name, password, query or fragment");
  }
  if (!allowRemote && !isLoopbackHost(parsed.hostname)) throw new RemoteHostRefused(parsed.host);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

export interface PlatformInfo {
  platform: string; // process.platform
  env: Record<string, string | undefined>;
  homedir: string;
}

function joinPath(platform: string, ...parts: string[]): string {
  const sep = platform === "win32" ? "\\" : "/";
  return parts
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, "") : p.replace(/^[\\/]+|[\\/]+$/g, "")))
    .join(sep);
}

/**
 * Where the daemon writes its token, mirroring ownvoice/config.py (platformdirs with appauthor=False,
 * `$OWNVOICE_HOME/config` when set). The first existing candidate wins; the first one is the default.
 */
export function tokenPathCandidates(p: PlatformInfo): string[] {
  const out: string[] = [];
  const home = p.env.OWNVOICE_HOME;
  if (home) out.push(joinPath(p.platform, home, "config", "token"));
  if (p.platform === "win32") {
    const local = p.env.LOCALAPPDATA || joinPath("win32", p.homedir, "AppData", "Local");
    out.push(joinPath("win32", local, "ownvoice", "token"));
    // platformdirs with an app author doubles the folder; older configurations may have used that.
    out.push(joinPath("win32", local, "ownvoice", "ownvoice", "token"));
  } else {
    const xdg = p.env.XDG_CONFIG_HOME;
    if (xdg && xdg.startsWith("/")) out.push(joinPath(p.platform, xdg, "ownvoice", "token"));
    if (p.platform === "darwin") {
      out.push(joinPath("darwin", p.homedir, "Library", "Application Support", "ownvoice", "token"));
    } else {
      out.push(joinPath(p.platform, p.homedir, ".config", "ownvoice", "token"));
    }
  }
  return out;
}

/** The default token file shown in the settings. */
export function defaultTokenPath(p: PlatformInfo): string {
  return tokenPathCandidates(p)[0];
}

/** Expands a leading `~` so users can type `~/…` in the setting. */
export function expandHome(path: string, p: PlatformInfo): string {
  if (path === "~") return p.homedir;
  if (path.startsWith("~/") || path.startsWith("~\\")) return joinPath(p.platform, p.homedir, path.slice(2));
  return path;
}

export interface FileReader {
  /** Resolves to the file's text, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
}

export interface ResolvedToken {
  token: string;
  /** Where it came from: a path or "settings". */
  source: string;
}

/** The token to send: pasted in settings, or read from the configured/default token file. */
export async function resolveToken(s: OwnvoiceSettings, fs: FileReader, p: PlatformInfo): Promise<ResolvedToken> {
  if (s.tokenSource === "pasted") {
    if (!s.token) throw new TokenMissing("the plugin settings (pasted token is empty)");
    return { token: s.token, source: "settings" };
  }
  const candidates = s.tokenFile ? [expandHome(s.tokenFile, p)] : tokenPathCandidates(p);
  for (const path of candidates) {
    const text = await fs.readText(path);
    if (text === null) continue;
    const token = text.trim();
    if (!token) throw new TokenMissing(`${path} (the file is empty)`);
    return { token, source: path };
  }
  throw new TokenMissing(candidates[0]);
}
