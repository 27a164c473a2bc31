// The built main.js (what Obsidian loads) is a CommonJS module whose default export is the plugin class.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { fakeApp } from "./mocks/app";
import * as obsidian from "./mocks/obsidian";

const ADAPTER = process.env.OWNVOICE_ADAPTER_DIR ?? process.cwd();
const MAIN = join(ADAPTER, "main.js");

test("the built main.js loads as a CommonJS plugin with only the host's modules external", async (t) => {
  if (!existsSync(MAIN)) {
    t.skip("main.js is not built yet: run `npm run build` first");
    return;
  }
  const source = readFileSync(MAIN, "utf8");
  const required = new Set([...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
  assert.deepEqual([...required].sort(), ["@codemirror/state", "@codemirror/view", "fs", "obsidian", "os"]);
  assert.ok(!/innerHTML|console\.(log|debug|info)/.test(source), "no innerHTML, no console noise");

  // Serve the mocked `obsidian` module to the bundle, as Obsidian provides the real one.
  const mod = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = mod._load;
  mod._load = function (request: string, ...rest: unknown[]) {
    return request === "obsidian" ? obsidian : load.call(this, request, ...rest);
  };
  try {
    const exported = createRequire(MAIN)(MAIN) as { default?: new (app: unknown, manifest: unknown) => unknown };
    assert.equal(typeof exported.default, "function");
    const plugin = new exported.default!(fakeApp(), { id: "ownvoice-reader", version: "0.1.0" }) as obsidian.Plugin & {
      onload(): Promise<void>;
    };
    assert.ok(plugin instanceof obsidian.Plugin);
    await plugin.onload();
    assert.equal(plugin.commands.length, 9);
    assert.equal(plugin.statusBarItems.length, 1);
    plugin.unload();
  } finally {
    mod._load = load;
  }
});

test("manifest and versions agree and follow the community-plugin rules", () => {
  const manifest = JSON.parse(readFileSync(join(ADAPTER, "manifest.json"), "utf8"));
  const versions = JSON.parse(readFileSync(join(ADAPTER, "versions.json"), "utf8"));
  const pkg = JSON.parse(readFileSync(join(ADAPTER, "package.json"), "utf8"));
  assert.equal(manifest.id, "ownvoice-reader");
  assert.ok(!/obsidian|plugin/i.test(manifest.id));
  assert.equal(manifest.name, "ownvoice");
  assert.equal(manifest.isDesktopOnly, true);
  assert.equal(versions[manifest.version], manifest.minAppVersion);
  assert.equal(pkg.version, manifest.version);
  assert.match(manifest.description, /\.$/);
});
