/** Shared by the browser tests: Debian's Chromium, and a player context on the local run's lobby. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const SHOTS = join(fileURLToPath(new URL("../..", import.meta.url)), "test-artifacts/screenshots");

/**
 * Debian's headless Chromium. With `fakeCamera` (a y4m file, see writeFakeCameraClip) every page
 * gets that clip as its camera without a prompt, and WebRTC may pair over loopback (the facts
 * sheet's recipe, research/webrtc-sse-facts.md §4).
 */
export function launchChromium(opts: { fakeCamera?: string } = {}): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  const camera = opts.fakeCamera
    ? [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-video-capture=${opts.fakeCamera}`,
        "--allow-loopback-in-peer-connection",
      ]
    : [];
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
      ...camera,
    ],
  });
}

/**
 * A moving I420 clip at 15 fps (a bar sweeps across a grey board), as Chromium's fake camera reads
 * it. Small frames keep the 2-core CI's encoders and decoders light.
 */
export function writeFakeCameraClip(path: string, opts: { width?: number; height?: number; frames?: number } = {}): void {
  const W = opts.width ?? 320;
  const H = opts.height ?? 180;
  const frames = opts.frames ?? 30;
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${W} H${H} F15:1 Ip A1:1 C420jpeg\n`)];
  for (let f = 0; f < frames; f++) {
    const y = Buffer.alloc(W * H, 60);
    const x0 = Math.floor((f / frames) * W);
    for (let r = 0; r < H; r++) y.fill(220, r * W + x0, r * W + Math.min(W, x0 + 24));
    parts.push(Buffer.from("FRAME\n"), y, Buffer.alloc((W / 2) * (H / 2), 100), Buffer.alloc((W / 2) * (H / 2), 150));
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** A browser context for one player on the Worker's own lobby page (wrangler.toml [assets]). */
export async function playerContext(browser: Browser, workerUrl: string, opts: { viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 860 }, colorScheme: "dark", reducedMotion: "reduce" });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: workerUrl });
  return context;
}

/** What a browser does when the player refused the camera prompt (or blocked the site). */
const DENY_CAMERA = `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));`;

/**
 * A player's own browser context on a table page, signed in through the simulator's identity
 * provider and live; `ready` is the test id of the part of the page the test waits for.
 */
export async function openTablePage(
  browser: Browser,
  workerUrl: string,
  opts: {
    name: string;
    channelId: string;
    ready: string;
    problems: string[];
    contexts: BrowserContext[];
    viewport?: { width: number; height: number };
    denyCamera?: boolean;
  },
): Promise<Page> {
  const context = await playerContext(browser, workerUrl, opts.viewport ? { viewport: opts.viewport } : {});
  opts.contexts.push(context);
  if (opts.denyCamera) await context.addInitScript(DENY_CAMERA);
  const page = await context.newPage();
  watchConsole(page, opts.problems, opts.name);
  await page.goto(`${workerUrl}/table/${opts.channelId}`);
  await page.getByRole("button", { name: `Sign in as ${opts.name}` }).click();
  await page.locator("#live[data-state=open]").waitFor({ timeout: 15_000 });
  await page.getByTestId(opts.ready).waitFor();
  return page;
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
