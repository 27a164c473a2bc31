// Bundles src/extension.ts into dist/extension.js (CommonJS, Node 18 like VS Code 1.82's extension host).
// `node esbuild.mjs` builds once with a source map; `--production` minifies without one; `--watch` rebuilds.
import esbuild from "esbuild";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");

const options = {
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  format: "cjs",
  platform: "node",
  target: "node18",
  // Provided by VS Code at run time.
  external: ["vscode"],
  sourcemap: production ? false : "linked",
  minify: production,
  legalComments: "none",
  logLevel: "info",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
