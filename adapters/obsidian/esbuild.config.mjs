// Bundles src/main.ts into main.js, the file Obsidian loads. `node esbuild.config.mjs production` builds once;
// without the argument it watches and rebuilds (with inline source maps) for development.
import { builtinModules } from "node:module";
import esbuild from "esbuild";

const production = process.argv[2] === "production";

const options = {
  entryPoints: ["src/main.ts"],
  bundle: true,
  outfile: "main.js",
  format: "cjs",
  target: "es2020",
  platform: "browser",
  // Provided by Obsidian at run time (its own CodeMirror instances must be shared, never bundled twice).
  external: [
    "obsidian",
    "electron",
    "@codemirror/*",
    "@lezer/*",
    ...builtinModules,
    ...builtinModules.map((m) => `node:${m}`),
  ],
  logLevel: "info",
  sourcemap: production ? false : "inline",
  treeShaking: true,
  minify: false,
  legalComments: "none",
};

if (production) {
  await esbuild.build(options);
} else {
  const ctx = await esbuild.context(options);
  await ctx.watch();
}
