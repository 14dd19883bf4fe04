/** Shared by the browser tests: Debian's Chromium, and a player context on the local run's lobby. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const SHOTS = join(fileURLToPath(new URL("../..", import.meta.url)), "test-artifacts/screenshots");

export function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
  });
}

/** A browser context for one player on the Worker's own lobby page (wrangler.toml [assets]). */
export async function playerContext(browser: Browser, workerUrl: string, opts: { viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 860 }, colorScheme: "dark", reducedMotion: "reduce" });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: workerUrl });
  return context;
}

/**
 * The browser's own reports of failed connections (while a test has stopped the Worker on
 * purpose) and of the answers a test provokes (429). Everything else on the console at warning level or above is a bug: React's
 * warnings, the page's own errors.
 */
const NETWORK_NOISE = /^(WebSocket connection to '.*' failed|Failed to load resource: (net::|the server responded with a status of (429|502)))/;

/** Collects console errors and warnings (React's included) and uncaught page errors, for `expect(problems).toEqual([])`. */
export function watchConsole(page: Page, problems: string[], name: string): void {
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    if (NETWORK_NOISE.test(m.text())) return;
    problems.push(`${name}: console.${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
}

export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}
