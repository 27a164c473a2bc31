import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RemoteHostRefused, TokenMissing } from "../src/errors";
import { nodeFileReader } from "../src/node-env";
import {
  DEFAULT_SETTINGS,
  checkDaemonUrl,
  defaultTokenPath,
  isLoopbackHost,
  mergeSettings,
  resolveToken,
  scriptRules,
} from "../src/settings";

test("defaults: local daemon on 7723, token from file, default voice at normal speed", () => {
  const s = mergeSettings(null);
  assert.deepEqual(s, { ...DEFAULT_SETTINGS });
  assert.equal(s.daemonUrl, "http://127.0.0.1:7723");
  assert.equal(s.allowRemoteDaemon, false);
  assert.equal(s.tokenSource, "file");
  assert.equal(s.voice, "default");
  assert.equal(s.speed, 1);
  assert.deepEqual(scriptRules(s), { code_blocks: "announce", links: "text", math: "formula", heading_pause: true });
});

test("saved settings are merged over defaults; junk values and unknown keys are dropped", () => {
  const s = mergeSettings({
    voice: "ann",
    speed: 7,
    codeBlocks: "skip",
    links: "shout",
    stopOnNoteSwitch: "yes",
    daemonUrl: "  ",
    obsoleteKey: 1,
  });
  assert.equal(s.voice, "ann");
  assert.equal(s.speed, 2, "speed is clamped to the daemon's 0.5–2 range");
  assert.equal(s.codeBlocks, "skip");
  assert.equal(s.links, "text");
  assert.equal(s.stopOnNoteSwitch, true);
  assert.equal(s.daemonUrl, DEFAULT_SETTINGS.daemonUrl);
  assert.ok(!("obsoleteKey" in s));
  assert.equal(mergeSettings({ speed: Number.NaN }).speed, 1);
  assert.equal(mergeSettings("garbage").voice, "default");
});

test("only loopback hosts are contacted unless the user allows others", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "[::1]", "::1"]) assert.ok(isLoopbackHost(h), h);
  for (const h of ["0.0.0.0", "192.168.1.2", "example.com", "127.0.0.1.nip.io", "128.0.0.1", "localhost.evil"]) {
    assert.ok(!isLoopbackHost(h), h);
  }
  assert.equal(checkDaemonUrl("http://127.0.0.1:7723/", false), "http://127.0.0.1:7723");
  assert.equal(checkDaemonUrl("http://[::1]:9000", false), "http://[::1]:9000");
  assert.throws(() => checkDaemonUrl("http://192.168.1.5:7723", false), RemoteHostRefused);
  assert.equal(checkDaemonUrl("http://192.168.1.5:7723", true), "http://192.168.1.5:7723");
  assert.throws(() => checkDaemonUrl("127.0.0.1:7723", false), /http/);
  assert.throws(() => checkDaemonUrl("http://127.0.0.1:7723/?token=x", false), /query/);
  assert.throws(() => checkDaemonUrl("not a url", false), /not a URL/);
});

test("default token file follows the daemon's platform directories", () => {
  assert.equal(
    defaultTokenPath({ platform: "linux", env: {}, homedir: "/home/ann" }),
    "/home/ann/.config/ownvoice/token",
  );
  assert.equal(
    defaultTokenPath({ platform: "linux", env: { XDG_CONFIG_HOME: "/xdg" }, homedir: "/home/ann" }),
    "/xdg/ownvoice/token",
  );
  assert.equal(
    defaultTokenPath({ platform: "darwin", env: {}, homedir: "/Users/ann" }),
    "/Users/ann/Library/Application Support/ownvoice/token",
  );
  assert.equal(
    defaultTokenPath({ platform: "win32", env: { LOCALAPPDATA: "C:\\Users\\ann\\AppData\\Local" }, homedir: "C:\\Users\\ann" }),
    "C:\\Users\\ann\\AppData\\Local\\ownvoice\\token",
  );
  assert.equal(
    defaultTokenPath({ platform: "linux", env: { OWNVOICE_HOME: "/tmp/ov" }, homedir: "/home/ann" }),
    "/tmp/ov/config/token",
  );
});

test("token is read from the token file on disk, trimmed; a missing file says where it looked", async () => {
  const home = mkdtempSync(join(tmpdir(), "ownvoice-token-"));
  const platform = { platform: "linux", env: {}, homedir: home };
  const s = mergeSettings(null);
  await assert.rejects(resolveToken(s, nodeFileReader, platform), (err: unknown) => {
    assert.ok(err instanceof TokenMissing);
    assert.match((err as Error).message, new RegExp(`${home}/.config/ownvoice/token`));
    return true;
  });
  mkdirSync(join(home, ".config", "ownvoice"), { recursive: true });
  writeFileSync(join(home, ".config", "ownvoice", "token"), "s3cret-token\n", { mode: 0o600 });
  assert.deepEqual(await resolveToken(s, nodeFileReader, platform), {
    token: "s3cret-token",
    source: join(home, ".config", "ownvoice", "token"),
  });
  // A custom path with ~ is expanded.
  writeFileSync(join(home, "other-token"), "other");
  const custom = mergeSettings({ tokenFile: "~/other-token" });
  assert.equal((await resolveToken(custom, nodeFileReader, platform)).token, "other");
});

test("a pasted token is used as is; an empty one is an error", async () => {
  const platform = { platform: "linux", env: {}, homedir: "/nonexistent" };
  const reader = { readText: async () => null };
  assert.equal((await resolveToken(mergeSettings({ tokenSource: "pasted", token: " abc " }), reader, platform)).token, "abc");
  await assert.rejects(resolveToken(mergeSettings({ tokenSource: "pasted" }), reader, platform), TokenMissing);
});
