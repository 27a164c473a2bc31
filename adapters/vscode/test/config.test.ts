// Settings: defaults match package.json, bad values fall back, the token file is found per OS.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  checkDaemonUrl,
  clampSpeed,
  expandPath,
  findToken,
  readSettings,
  readTokenFile,
  tokenFileCandidates,
  tokenFilesFor,
} from "../src/config";
import { BadSetting } from "../src/errors";
import pkg from "../package.json";
import { mock, workspace } from "./mocks/vscode";

const dir = mkdtempSync(join(tmpdir(), "ownvoice-vscode-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("settings read through VS Code's configuration come from package.json defaults", () => {
  mock.reset();
  const s = readSettings(workspace.getConfiguration("ownvoice"));
  assert.deepEqual(s, {
    daemonUrl: "http://127.0.0.1:7723",
    tokenFile: "",
    voice: "default",
    speed: 1,
    playback: "daemon",
    rules: { code_blocks: "announce", links: "text", math: "formula" },
    executable: "ownvoice",
  });
  // And readSettings with nothing configured at all agrees with package.json.
  assert.deepEqual(readSettings({ get: () => undefined }), s);
});

test("user settings are read and every contributed setting is understood", () => {
  mock.reset();
  mock.setting("daemonUrl", "http://localhost:9000/");
  mock.setting("tokenFile", " ~/tok ");
  mock.setting("voice", "me");
  mock.setting("speed", 1.25);
  mock.setting("playback", "webview");
  mock.setting("codeBlocks", "skip");
  mock.setting("links", "announce");
  mock.setting("math", "verbalize");
  mock.setting("executable", "/opt/ownvoice/bin/ownvoice");
  const s = readSettings(workspace.getConfiguration("ownvoice"));
  assert.deepEqual(s, {
    daemonUrl: "http://localhost:9000/",
    tokenFile: "~/tok",
    voice: "me",
    speed: 1.25,
    playback: "webview",
    rules: { code_blocks: "skip", links: "announce", math: "verbalize" },
    executable: "/opt/ownvoice/bin/ownvoice",
  });
  const contributed = Object.keys(pkg.contributes.configuration.properties).map((k) => k.replace("ownvoice.", ""));
  const read = ["daemonUrl", "tokenFile", "voice", "speed", "playback", "codeBlocks", "links", "math", "executable"];
  assert.deepEqual(contributed.sort(), read.sort(), "every setting in package.json is read, and only those");
});

test("invalid setting values fall back to defaults instead of reaching the daemon", () => {
  mock.reset();
  mock.setting("playback", "speakers");
  mock.setting("codeBlocks", 3);
  mock.setting("voice", "   ");
  mock.setting("speed", "fast");
  const s = readSettings(workspace.getConfiguration("ownvoice"));
  assert.equal(s.playback, "daemon");
  assert.equal(s.rules.code_blocks, "announce");
  assert.equal(s.voice, "default");
  assert.equal(s.speed, 1);
  assert.equal(clampSpeed(5), 2);
  assert.equal(clampSpeed(0.1), 0.5);
});

test("the daemon URL must be a loopback http URL", () => {
  assert.equal(checkDaemonUrl("http://127.0.0.1:7723/"), "http://127.0.0.1:7723");
  assert.equal(checkDaemonUrl("http://localhost:7723"), "http://localhost:7723");
  assert.equal(checkDaemonUrl("http://[::1]:7723"), "http://[::1]:7723");
  assert.throws(() => checkDaemonUrl("http://192.168.1.5:7723"), BadSetting);
  assert.throws(() => checkDaemonUrl("http://example.com"), /must point at this computer/);
  assert.throws(() => checkDaemonUrl("ftp://127.0.0.1"), /http/);
  assert.throws(() => checkDaemonUrl("http://127.0.0.1:7723/?token=abc"), /query/);
  assert.throws(() => checkDaemonUrl("not a url"), /not a URL/);
});

test("token file defaults per OS follow the daemon's config directory", () => {
  assert.deepEqual(tokenFileCandidates({ platform: "linux", env: {}, home: "/home/ann" }), ["/home/ann/.config/ownvoice/token"]);
  assert.deepEqual(tokenFileCandidates({ platform: "linux", env: { XDG_CONFIG_HOME: "/xdg" }, home: "/home/ann" }), [
    "/xdg/ownvoice/token",
  ]);
  assert.deepEqual(tokenFileCandidates({ platform: "darwin", env: {}, home: "/Users/ann" }), [
    "/Users/ann/Library/Application Support/ownvoice/token",
  ]);
  const win = tokenFileCandidates({ platform: "win32", env: { LOCALAPPDATA: "C:\\Users\\ann\\AppData\\Local" }, home: "C:\\Users\\ann" });
  assert.equal(win[0], "C:\\Users\\ann\\AppData\\Local\\ownvoice\\ownvoice\\token");
  assert.ok(win.includes("C:\\Users\\ann\\AppData\\Local\\ownvoice\\token"), "platformdirs without app author is tried too");
  assert.deepEqual(tokenFileCandidates({ platform: "linux", env: { OWNVOICE_HOME: "/tmp/ov" }, home: "/home/ann" }), [
    "/tmp/ov/config/token",
  ]);
});

test("a configured token file replaces the defaults; ~ and ${env:X} are expanded", () => {
  const p = { platform: "linux" as const, env: { TOKENS: "/srv/tokens" }, home: "/home/ann" };
  assert.deepEqual(tokenFilesFor({ tokenFile: "~/my-token" }, p), ["/home/ann/my-token"]);
  assert.equal(expandPath("${env:TOKENS}/ov", p), "/srv/tokens/ov");
  assert.deepEqual(tokenFilesFor({ tokenFile: "" }, p), ["/home/ann/.config/ownvoice/token"]);
});

test("the token is read from its file, trimmed; missing or empty files give none", async () => {
  const file = join(dir, "token");
  writeFileSync(file, "  s3cret-token\n");
  assert.equal(await readTokenFile(file), "s3cret-token");
  assert.equal(await readTokenFile(join(dir, "missing")), undefined);
  writeFileSync(join(dir, "empty"), "\n");
  assert.equal(await readTokenFile(join(dir, "empty")), undefined);
  assert.equal(await readTokenFile(dir), undefined, "a directory is not a token file");
  assert.deepEqual(await findToken([join(dir, "missing"), join(dir, "empty"), file]), { token: "s3cret-token", file });
});

test("an oversized token file is refused rather than sent as a header", async () => {
  const big = join(dir, "big");
  writeFileSync(big, "x".repeat(10_000));
  await assert.rejects(readTokenFile(big), BadSetting);
});
