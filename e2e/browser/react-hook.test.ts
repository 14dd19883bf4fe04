/**
 * The client's React hook (`useSpellCoven`) in a real React tree, in Chromium, against the whole
 * local system: the connection state and voice presence a React page shows follow Discord, and
 * an update is one render, not a loop. The app is client/test/react-app.ts, bundled here with
 * React's development build so React's own warnings (an uncached snapshot, say) fail the test.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startSystem, truth } from "../../client/test/helpers.ts";
import { launchChromium, playerContext } from "./browser.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const G = DEMO_GUILD_ID;
const { alice, bob } = DEMO_USERS;

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let page: Page;
const consoleProblems: string[] = [];

async function bundleApp(): Promise<string> {
  const out = await build({
    absWorkingDir: ROOT,
    entryPoints: ["client/test/react-app.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    define: { "process.env.NODE_ENV": '"development"' },
    logLevel: "warning",
  });
  return out.outputFiles[0]!.text;
}

/** What the page shows, channel -> users (sorted), read from the DOM. */
const SHOWN = `Object.fromEntries([...document.querySelectorAll("[data-testid=presence] li")].map((li) => [li.getAttribute("data-channel-id"), li.textContent.split(",")]))`;
const presenceShown = async () => (await page.evaluate(SHOWN)) as Record<string, string[]>;
const renders = async () => (await page.evaluate("window.reactApp.renders")) as number;

/** Waits until the page shows exactly `expected` (the simulator's voice states). */
async function shows(expected: Record<string, string[]>): Promise<void> {
  const sorted = Object.entries(expected)
    .map(([k, v]) => [k, [...v].sort()] as const)
    .sort((a, b) => a[0].localeCompare(b[0]));
  await page.waitForFunction(`JSON.stringify(${SHOWN}) === ${JSON.stringify(JSON.stringify(Object.fromEntries(sorted)))}`, undefined, { timeout: 5000 });
}

describe("useSpellCoven in a React page", () => {
  beforeAll(async () => {
    const [app, started] = await Promise.all([bundleApp(), startSystem()]);
    system = started;
    browser = await launchChromium();
    const context = await playerContext(browser, system.workerUrl);
    page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() !== "error" && m.type() !== "warning") return;
      if (m.location().url.endsWith("/favicon.ico")) return; // the browser asks /health's origin for one
      consoleProblems.push(`${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => consoleProblems.push(e.message));
    await page.exposeFunction("mintToken", () => system.simulator!.mintToken(alice));
    // Run in a document of the Worker's own origin, as the site would be (the Worker checks
    // Origin, and Chromium only lets a page that came from loopback open loopback sockets).
    await page.goto(`${system.workerUrl}/health`);
    await page.setContent('<!doctype html><div id="root"></div>');
    await page.addScriptTag({ type: "module", content: app });
    await page.waitForFunction('"reactApp" in window');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.cleanup();
  });

  it("renders the connection opening and the guild's voice presence", async () => {
    await page.evaluate(`window.reactApp.start(${JSON.stringify(system.workerUrl)})`);
    await page.locator("[data-testid=state]", { hasText: "open" }).waitFor({ timeout: 15_000 });
    await expect(page.getByTestId("user").textContent()).resolves.toBe(alice);
    await shows(truth(system));
  });

  it("a voice join, a move and a leave in Discord each show up, one render apiece", async () => {
    const sim = system.simulator!;
    const before = await renders();
    sim.joinVoice(G, bob, DEMO_CHANNELS.table1);
    await shows(truth(system));
    expect((await presenceShown())[DEMO_CHANNELS.table1]).toContain(bob);
    sim.joinVoice(G, bob, DEMO_CHANNELS.table2);
    await shows(truth(system));
    sim.leaveVoice(G, bob);
    await shows(truth(system));
    // StrictMode renders twice in development: three updates are six renders, with slack for
    // an update split over two frames, and nowhere near a loop.
    const made = (await renders()) - before;
    expect(made).toBeGreaterThanOrEqual(6);
    expect(made).toBeLessThanOrEqual(12);
  });

  it("React reported no error or warning, and unmounting closes the connection", async () => {
    await page.evaluate("window.reactApp.stop()");
    await page.waitForFunction('window.reactApp.client.state === "disconnected"', undefined, { timeout: 5000 });
    expect(consoleProblems).toEqual([]);
  });
});
