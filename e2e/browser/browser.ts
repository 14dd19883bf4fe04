/** Shared by the browser tests: Debian's Chromium, and a player context on the local run's lobby. */
import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

const PUBLIC = fileURLToPath(new URL("../../worker/public", import.meta.url));
const MIME: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json" };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
  });
}

/** Whether the Worker serves worker/public itself (wrangler.toml [assets]). */
export async function workerServesLobby(workerUrl: string): Promise<boolean> {
  const res = await fetch(`${workerUrl}/`);
  await res.body?.cancel();
  return res.ok && (res.headers.get("content-type") ?? "").includes("text/html");
}

/**
 * A browser context for one player. When the Worker does not serve the lobby yet, the context
 * serves worker/public for the Worker's origin itself (API calls and WebSockets still reach the
 * real Worker).
 */
export async function playerContext(browser: Browser, workerUrl: string, opts: { viewport?: { width: number; height: number }; serveLobby: boolean }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 860 }, colorScheme: "dark", reducedMotion: "reduce" });
  // local-network-access: a page fulfilled by the test has no address space of its own, so
  // Chromium would treat its calls to the loopback simulator as public -> local and block them.
  await context.grantPermissions(["clipboard-read", "clipboard-write", "local-network-access"], { origin: workerUrl });
  if (opts.serveLobby) {
    await context.route(`${workerUrl}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path.startsWith("/api/") || path === "/health") return route.fallback();
      const file = join(PUBLIC, path === "/" ? "index.html" : path.slice(1));
      if (!file.startsWith(PUBLIC) || !existsSync(file)) return route.fulfill({ status: 404, body: "not found" });
      return route.fulfill({ status: 200, body: readFileSync(file), headers: { "Content-Type": MIME[extname(file)] ?? "application/octet-stream" } });
    });
  }
  return context;
}
