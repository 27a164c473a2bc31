// Test runner: bundles each test/*.test.ts with esbuild (`vscode` → test/mocks/vscode.ts) and runs the bundles
// with Node's built-in test runner. `node test/run.mjs unit` (npm test): everything but the daemon test;
// `node test/run.mjs e2e` (npm run test:e2e): the test against the real ownvoice daemon, then the player page
// in headless Chromium (it plays the speech the daemon made).
// Extra arguments filter test files by name: `node test/run.mjs unit highlight`.

import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const mode = process.argv[2] ?? "unit";
const only = process.argv.slice(3);
if (mode !== "unit" && mode !== "e2e") {
  console.error(`usage: node test/run.mjs unit|e2e [name filter…] (got ${mode})`);
  process.exit(2);
}

const E2E = ["e2e.test.ts", "browser.test.ts"]; // in this order
const all = readdirSync(join(root, "test")).filter((f) => f.endsWith(".test.ts"));
let files = mode === "e2e" ? E2E : all.filter((f) => !E2E.includes(f));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error(`no test files for mode ${mode}`);
  process.exit(1);
}

const out = join(root, "build", "test", mode);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await esbuild.build({
  entryPoints: files.map((f) => join(root, "test", f)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node18",
  sourcemap: "inline",
  alias: { vscode: join(root, "test", "mocks", "vscode.ts") },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});

// Node 20/21 have a WebSocket client (for the browser test's DevTools connection) behind a flag.
const flags = ["--enable-source-maps"];
if (typeof WebSocket === "undefined" && process.allowedNodeEnvironmentFlags.has("--experimental-websocket")) {
  flags.push("--experimental-websocket");
}
const run = (list) =>
  spawnSync(
    process.execPath,
    [...flags, "--test", "--test-reporter=spec", "--test-concurrency=1", ...list.map((f) => join(out, f.replace(/\.ts$/, ".mjs")))],
    { stdio: "inherit", env: { ...process.env, OWNVOICE_ADAPTER_DIR: root }, cwd: root },
  ).status ?? 1;
// e2e files one after the other (the browser test uses the daemon's audio); unit files in one run.
const status = mode === "e2e" ? files.map((f) => run([f])).reduce((a, b) => a || b, 0) : run(files);
process.exit(status);
