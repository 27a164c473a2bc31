// The shipped artefact: dist/extension.js (built by `npm run build`) loads with only `vscode` and Node's
// built-ins available, activates, registers every contributed command, and deactivates cleanly.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import Module, { builtinModules, createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import pkg from "../package.json";
import * as vscodeMock from "./mocks/vscode";

const ROOT = process.env.OWNVOICE_ADAPTER_DIR ?? process.cwd();
const DIST = join(ROOT, "dist", "extension.js");

test("dist/extension.js needs nothing but vscode and Node built-ins", () => {
  if (!existsSync(DIST)) {
    const r = spawnSync(process.execPath, ["esbuild.mjs"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, `npm run build failed: ${r.stderr}`);
  }
  const code = readFileSync(DIST, "utf8");
  const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
  const allowed = new Set(["vscode", ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const foreign = [...required].filter((r) => !allowed.has(r));
  assert.deepEqual(foreign, [], "everything else is bundled");
  assert.ok(required.has("vscode"), "vscode stays external");
});

test("the built extension activates and registers every contributed command", async () => {
  vscodeMock.mock.reset();
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === "vscode" ? vscodeMock : original.call(this, request, ...rest);
  };
  try {
    const ext = createRequire(import.meta.url)(DIST) as {
      activate: (ctx: unknown) => unknown;
      deactivate: () => Promise<void>;
    };
    const ctx = vscodeMock.mock.context();
    ext.activate(ctx);
    const registered = [...vscodeMock.mock.state.commands.keys()].sort();
    assert.deepEqual(registered, pkg.contributes.commands.map((c) => c.command).sort());
    assert.ok(vscodeMock.mock.state.statusItems.some((i) => i.visible && i.text.includes("default")));
    await ext.deactivate();
    for (const d of ctx.subscriptions) d.dispose();
    assert.equal(vscodeMock.mock.state.commands.size, 0, "commands are unregistered on dispose");
  } finally {
    loader._load = original;
  }
});
