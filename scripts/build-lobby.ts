/**
 * Builds the lobby page: lobby/src/main.tsx (React, @spell-coven/client and the shared schemas)
 * -> worker/public/lobby.js, minified, with a source map, and lobby/public/* (index.html,
 * styles.css, favicon) copied beside it. The Worker serves worker/public as static assets.
 *
 *   tsx scripts/build-lobby.ts           build once
 *   tsx scripts/build-lobby.ts --watch   rebuild on change
 *
 * LOBBY_BUILD=development builds React's development version, unminified: its warnings reach the
 * console, which the browser tests fail on.
 */
import { cpSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
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

const development = process.env.LOBBY_BUILD === "development";

/** Copies lobby/public (the page, its styles, the favicon) into the Worker's assets. */
const copyPublic: Plugin = {
  name: "copy-public",
  setup(b) {
    b.onEnd(() => cpSync(join(root, "lobby/public"), join(root, "worker/public"), { recursive: true }));
  },
};

export const lobbyBuild: BuildOptions = {
  absWorkingDir: root,
  entryPoints: ["lobby/src/main.tsx"],
  outfile: "worker/public/lobby.js",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox113", "safari16.4"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": development ? '"development"' : '"production"' },
  minify: !development,
  sourcemap: "linked",
  sourcesContent: true,
  legalComments: "linked",
  logLevel: "warning",
  plugins: [zodEnglishOnly, copyPublic],
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
    console.log("watching lobby/ and client/ for changes…");
  } else {
    const bytes = await buildLobby();
    console.log(`worker/public/lobby.js: ${(bytes / 1024).toFixed(1)} KiB${development ? " (development build)" : ""}`);
  }
}
