// Settings of the extension (the `ownvoice.*` configuration) and where the daemon's token lives.
// Pure: takes a configuration reader, the platform and the environment, so tests need no VS Code.

import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { posix, win32 } from "node:path";
import { BadSetting } from "./errors";

export const SECTION = "ownvoice";
export const DEFAULT_DAEMON_URL = "http://127.0.0.1:7723";
export const DEFAULT_VOICE = "default";
export const SPEED_RANGE = [0.5, 2] as const;
/** A token file is one short line; anything larger is not a token file. */
const MAX_TOKEN_FILE_BYTES = 4096;

export type PlaybackMode = "daemon" | "webview";
export type CodeBlocks = "announce" | "read" | "skip";
export type Links = "text" | "announce";
export type MathRule = "formula" | "verbalize";

/** Reading rules in the daemon's wire format (`rules` of POST /api/script). */
export interface ScriptRules {
  code_blocks: CodeBlocks;
  links: Links;
  math: MathRule;
}

export interface Settings {
  daemonUrl: string;
  /** The token file setting as typed; empty = the daemon's default path (see tokenFileCandidates). */
  tokenFile: string;
  voice: string;
  speed: number;
  playback: PlaybackMode;
  rules: ScriptRules;
  executable: string;
}

/** The part of vscode.WorkspaceConfiguration this module uses. */
export interface ConfigReader {
  get<T>(key: string): T | undefined;
}

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function text(value: unknown, fallback: string): string {
  return typeof value === "string" && value.trim() ? value.trim() : fallback;
}

/** Speed within the daemon's accepted range; anything unusable becomes 1.0. */
export function clampSpeed(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) return 1;
  return Math.min(SPEED_RANGE[1], Math.max(SPEED_RANGE[0], n));
}

/** Reads every `ownvoice.*` setting (from `getConfiguration("ownvoice")`), replacing invalid values by defaults. */
export function readSettings(cfg: ConfigReader): Settings {
  return {
    daemonUrl: text(cfg.get("daemonUrl"), DEFAULT_DAEMON_URL),
    tokenFile: typeof cfg.get("tokenFile") === "string" ? (cfg.get<string>("tokenFile") ?? "").trim() : "",
    voice: text(cfg.get("voice"), DEFAULT_VOICE),
    speed: clampSpeed(cfg.get("speed") ?? 1),
    playback: pick(cfg.get("playback"), ["daemon", "webview"], "daemon"),
    rules: {
      code_blocks: pick(cfg.get("codeBlocks"), ["announce", "read", "skip"], "announce"),
      links: pick(cfg.get("links"), ["text", "announce"], "text"),
      math: pick(cfg.get("math"), ["formula", "verbalize"], "formula"),
    },
    executable: text(cfg.get("executable"), "ownvoice"),
  };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Validates the daemon URL: http(s), loopback host, no credentials/query; returns it without trailing slash. */
export function checkDaemonUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new BadSetting(`ownvoice.daemonUrl "${raw}" is not a URL (expected e.g. ${DEFAULT_DAEMON_URL})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BadSetting(`ownvoice.daemonUrl must start with http:// (got ${url.protocol})`);
  }
  if (!LOOPBACK.has(url.hostname.toLowerCase()) && !/^127\.\d+\.\d+\.\d+$/.test(url.hostname)) {
    // The token would travel over the network, and the daemon only answers to loopback Host headers anyway.
    throw new BadSetting(
      `ownvoice.daemonUrl must point at this computer (127.0.0.1, localhost or [::1]), not ${url.hostname}`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new BadSetting("ownvoice.daemonUrl must not contain credentials, a query or a fragment");
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

export interface Platform {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  home: string;
}

export function currentPlatform(): Platform {
  return { platform: process.platform, env: process.env, home: homedir() };
}

/**
 * Token files to try, in order, when `ownvoice.tokenFile` is empty: the daemon's config directory
 * (platformdirs' user_config_dir for "ownvoice"), or `$OWNVOICE_HOME/config/token` when that is set.
 */
export function tokenFileCandidates(p: Platform = currentPlatform()): string[] {
  const home = p.env.OWNVOICE_HOME?.trim();
  if (p.platform === "win32") {
    if (home) return [win32.join(home, "config", "token")];
    const local = p.env.LOCALAPPDATA?.trim() || win32.join(p.home, "AppData", "Local");
    // platformdirs puts config under <appauthor>\<appname>; with appauthor disabled it is just <appname>.
    return [win32.join(local, "ownvoice", "ownvoice", "token"), win32.join(local, "ownvoice", "token")];
  }
  if (home) return [posix.join(home.replace(/^~(?=\/|$)/, p.home), "config", "token")];
  if (p.platform === "darwin") return [posix.join(p.home, "Library", "Application Support", "ownvoice", "token")];
  const xdg = p.env.XDG_CONFIG_HOME?.trim();
  const base = xdg && xdg.startsWith("/") ? xdg : posix.join(p.home, ".config");
  return [posix.join(base, "ownvoice", "token")];
}

/** Expands a leading `~` and `${env:NAME}` in a user-typed path. */
export function expandPath(raw: string, p: Platform = currentPlatform()): string {
  let out = raw.trim().replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => p.env[name] ?? "");
  if (out === "~" || out.startsWith("~/") || out.startsWith("~\\")) out = p.home + out.slice(1);
  return out;
}

/** Token files to try for these settings: the configured one only, or the per-OS defaults. */
export function tokenFilesFor(settings: Pick<Settings, "tokenFile">, p: Platform = currentPlatform()): string[] {
  return settings.tokenFile ? [expandPath(settings.tokenFile, p)] : tokenFileCandidates(p);
}

/** The token in `file`, or undefined when the file is missing or empty. Refuses oversized files. */
export async function readTokenFile(file: string): Promise<string | undefined> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    size = st.size;
  } catch {
    return undefined;
  }
  if (size > MAX_TOKEN_FILE_BYTES) {
    throw new BadSetting(`${file} is ${size} bytes: not an ownvoice token file (check ownvoice.tokenFile)`);
  }
  const token = (await readFile(file, "utf8")).trim();
  return token || undefined;
}

/** The first token found among `files`, with the file it came from. */
export async function findToken(files: string[]): Promise<{ token: string; file: string } | undefined> {
  for (const file of files) {
    const token = await readTokenFile(file);
    if (token) return { token, file };
  }
  return undefined;
}
