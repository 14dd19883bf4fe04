/**
 * Builds the lobby page's script: client/lobby/main.ts (with @spell-coven/client and the shared
 * schemas) -> worker/public/lobby.js, minified, with a source map. The Worker serves
 * worker/public as static assets.
 *
 *   tsx scripts/build-lobby.ts           build once
 *   tsx scripts/build-lobby.ts --watch   rebuild on change
 */
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { build, context, type BuildOptions, type Plugin } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * zod re-exports all of its ~60 error-message locales (260 KiB minified) as `z.locales`, which no
 * bundler can drop. Nothing here uses them: keep English only (the default zod configures).
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /[\\/]locales[\\/]index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: `${dirname(args.importer)}/../locales`, namespace: "zod-locales" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: args.path,
      loader: "js",
    }));
  },
};

export const lobbyBuild: BuildOptions = {
  absWorkingDir: root,
  entryPoints: ["client/lobby/main.ts"],
  outfile: "worker/public/lobby.js",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox113", "safari16.4"],
  minify: true,
  sourcemap: "linked",
  sourcesContent: true,
  legalComments: "linked",
  logLevel: "warning",
  plugins: [zodEnglishOnly],
};

/** Builds the lobby once; returns the output size in bytes. */
export async function buildLobby(): Promise<number> {
  const result = await build({ ...lobbyBuild, metafile: true });
  return Object.entries(result.metafile!.outputs).find(([f]) => f.endsWith("lobby.js"))?.[1].bytes ?? 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes("--watch")) {
    const ctx = await context(lobbyBuild);
    await ctx.watch();
    console.log("watching client/ for lobby changes…");
  } else {
    const bytes = await buildLobby();
    console.log(`worker/public/lobby.js: ${(bytes / 1024).toFixed(1)} KiB`);
  }
}
