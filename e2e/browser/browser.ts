/** Shared by the browser tests: Debian's Chromium, and a player context on the local run's lobby. */
import { chromium, type Browser, type BrowserContext } from "playwright-core";

export function launchChromium(): Promise<Browser> {
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
