// Test runner: bundles each *.test.ts with esbuild (the `obsidian` import → test/mocks/obsidian.ts) and runs
// the bundles with Node's built-in test runner. `node test/run.mjs unit` = unit tests (npm test);
// `node test/run.mjs e2e` = the real-daemon test, then the headless-browser test (npm run test:e2e).

import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const mode = process.argv[2] ?? "unit";
const only = process.argv.slice(3); // optional file name filters

const E2E = ["e2e.test.ts", "browser.test.ts"]; // order matters: the browser test reuses the daemon's audio
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
  alias: { obsidian: join(root, "test", "mocks", "obsidian.ts") },
  external: ["playwright-core", "esbuild"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});

const args = ["--test", "--test-reporter=spec"];
const env = { ...process.env, OWNVOICE_ADAPTER_DIR: root };
const run = (list) =>
  spawnSync(process.execPath, [...args, ...list.map((f) => join(out, f.replace(/\.ts$/, ".mjs")))], {
    stdio: "inherit",
    env,
    cwd: root,
  }).status ?? 1;
// e2e files run one after the other, in the order above; unit files together.
const status = mode === "e2e" ? files.map((f) => run([f])).reduce((a, b) => a || b, 0) : run(files);
process.exit(status);
