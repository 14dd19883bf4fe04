/**
 * The SSE stream in Chromium with a real EventSource, against the whole local system: the
 * client library's SSE transport follows Discord like the WebSocket does, and when the stream
 * drops (the Worker goes away and comes back) EventSource's own reconnect resumes from
 * Last-Event-ID: no gap, no duplicate.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startSystem, truth } from "../../client/test/helpers.ts";
import type {} from "../../client/test/sse-app.ts";
import { launchChromium, playerContext } from "./browser.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const G = DEMO_GUILD_ID;
const { alice, bob, carol } = DEMO_USERS;

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let page: Page;
const problems: string[] = [];

async function shows(expected: Record<string, string[]>): Promise<void> {
  const sorted: [string, string[]][] = Object.entries(expected).map(([k, v]) => [k, [...v].sort()]);
  const want = JSON.stringify(Object.fromEntries(sorted.sort((a, b) => a[0].localeCompare(b[0]))));
  await page.waitForFunction(
    (w) => JSON.stringify(Object.fromEntries(Object.entries(window.sseApp.presence()).sort((a, b) => a[0].localeCompare(b[0])))) === w,
    want,
    { timeout: 15_000 },
  );
}

describe("the SSE stream in a browser", () => {
  beforeAll(async () => {
    const bundled = build({
      absWorkingDir: ROOT,
      entryPoints: ["client/test/sse-app.ts"],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      logLevel: "warning",
    });
    const [out, started] = await Promise.all([bundled, startSystem()]);
    system = started;
    browser = await launchChromium();
    page = await (await playerContext(browser, system.workerUrl)).newPage();
    page.on("pageerror", (e) => problems.push(e.message));
    await page.exposeFunction("mintToken", () => system.simulator!.mintToken(alice));
    await page.goto(`${system.workerUrl}/health`);
    await page.setContent("<!doctype html><body></body>");
    await page.addScriptTag({ type: "module", content: out.outputFiles[0]!.text });
    await page.evaluate((url) => window.sseApp.start(url), system.workerUrl);
    await page.waitForFunction(() => window.sseApp.client?.state === "open", undefined, { timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.cleanup();
  });

  it("follows Discord's voice presence over EventSource", async () => {
    const sim = system.simulator!;
    sim.joinVoice(G, bob, DEMO_CHANNELS.table1);
    await shows(truth(system));
    sim.joinVoice(G, bob, DEMO_CHANNELS.table2);
    await shows(truth(system));
  });

  it("resumes after the stream drops, without a gap or a duplicate", async () => {
    const sim = system.simulator!;
    await system.stopWorker();
    sim.joinVoice(G, carol, DEMO_CHANNELS.table1); // queued by gateway-node meanwhile
    sim.leaveVoice(G, bob);
    await system.startWorker();
    await shows(truth(system));
    sim.joinVoice(G, bob, DEMO_CHANNELS.table1);
    await shows(truth(system));
    const seqs = (await page.evaluate(() => window.sseApp.seqs)) as number[];
    expect(new Set(seqs).size).toBe(seqs.length); // no duplicate
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq after ${seqs[i - 1]}`).toBe(seqs[i - 1]! + 1); // no gap
    expect(problems).toEqual([]);
  }, 90_000);
});
