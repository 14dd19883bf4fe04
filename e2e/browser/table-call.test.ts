/**
 * Board video in Chromium, against the whole local system: players' browsers (fake cameras from
 * a small y4m clip this test makes) join a table's call through the hub's signalling and decode
 * each other's video. Frames are small and runs short for a 2-core CI.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { DEMO_USERS } from "@spell-coven/simulator";
import { RoomsApi } from "../../client/src/rooms-api.ts";
import { startSystem } from "../../client/test/helpers.ts";
import type {} from "../../client/test/table-app.ts";
import { launchChromium, writeFakeCameraClip } from "./browser.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const { alice, bob, carol, dave } = DEMO_USERS;

let system: Awaited<ReturnType<typeof startSystem>>;
let browser: Browser;
let app: string;
let dir: string;
const problems: string[] = [];

async function bundleApp(): Promise<string> {
  const out = await build({
    absWorkingDir: ROOT,
    entryPoints: ["client/test/table-app.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    logLevel: "warning",
  });
  return out.outputFiles[0]!.text;
}

/** One player's page in its own browser context, joined to the table's call. */
async function playerPage(userId: string, channelId: string, opts: { camera?: boolean; codecs?: string[]; maxBitrate?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ permissions: ["camera"] });
  const page = await context.newPage();
  page.on("console", (m) => {
    if ((m.type() === "error" || m.type() === "warning") && !m.location().url.endsWith("/favicon.ico")) problems.push(`${userId}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`${userId}: ${e.message}`));
  await page.exposeFunction("mintToken", () => system.simulator!.mintToken(userId));
  await page.goto(`${system.workerUrl}/health`);
  await page.setContent("<!doctype html><body></body>");
  await page.addScriptTag({ type: "module", content: app });
  await page.waitForFunction('"tableApp" in window');
  await page.evaluate(([url, ch, o]) => window.tableApp.start(url as string, ch as string, o as never), [
    system.workerUrl,
    channelId,
    { camera: opts.camera ?? true, ...opts },
  ] as const);
  return page;
}

async function poll<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Inbound = Record<string, { framesDecoded: number; codec: string | null; width: number | null }>;
const inbound = (p: Page) => p.evaluate(() => window.tableApp.inbound()) as Promise<Inbound>;

/** Every page decodes video from each of `from` (frames rising between two samples). */
async function decodes(page: Page, from: string[], codec = "video/VP8"): Promise<Inbound> {
  const first = await poll(
    async () => {
      const s = await inbound(page);
      return from.every((u) => (s[u]?.framesDecoded ?? 0) > 5) ? s : null;
    },
    25_000,
    `video from ${from.join(", ")}`,
  );
  await new Promise((r) => setTimeout(r, 800));
  const later = await inbound(page);
  for (const u of from) {
    expect(later[u]!.framesDecoded, `frames from ${u} keep coming`).toBeGreaterThan(first[u]!.framesDecoded);
    expect(later[u]!.codec).toBe(codec);
  }
  return later;
}

async function table(owner: string, players: string[]): Promise<string> {
  const api = (u: string) => new RoomsApi({ baseUrl: system.workerUrl, getToken: () => system.simulator!.mintToken(u) });
  const room = await api(owner).createRoom({ name: `Board ${Math.random().toString(36).slice(2, 6)}` });
  for (const p of players) await api(p).joinRoom(room.channelId);
  return room.channelId;
}

describe("board video at the table (WebRTC between browsers, hub signalling)", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "board-video-"));
    const clip = join(dir, "board.y4m");
    writeFakeCameraClip(clip);
    [app, system] = await Promise.all([bundleApp(), startSystem()]);
    browser = await launchChromium({ fakeCamera: clip });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await system?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("two players decode each other's board video (VP8), under the bitrate cap", async () => {
    const channelId = await table(alice, [bob]);
    const a = await playerPage(alice, channelId, { maxBitrate: 400_000 });
    const b = await playerPage(bob, channelId, { maxBitrate: 400_000 });
    await decodes(a, [bob]);
    const seen = await decodes(b, [alice]);
    expect(seen[alice]!.width).toBeGreaterThan(0);
    const sent = await a.evaluate(() => window.tableApp.outbound());
    expect(sent.length).toBe(1);
    expect(sent[0]!.targetBitrate).toBeLessThanOrEqual(400_000);
    // A player who leaves disappears from the other's call.
    await b.evaluate(() => window.tableApp.stop());
    await a.waitForFunction((peerCount) => Object.values(window.tableApp.videos).filter(Boolean).length === peerCount, 0, { timeout: 10_000 });
    await a.context().close();
    await b.context().close();
  }, 90_000);

  it("four players: every player decodes every other player", async () => {
    const channelId = await table(alice, [bob, carol, dave]);
    const players = [alice, bob, carol, dave];
    const pages: Page[] = [];
    for (const u of players) pages.push(await playerPage(u, channelId));
    for (const [i, page] of pages.entries())
      await decodes(
        page,
        players.filter((_, j) => j !== i),
      );
    for (const p of pages) await p.context().close();
  }, 120_000);

  it("falls back to H.264 when one side has no VP8; a spectator receives and sends nothing", async () => {
    const channelId = await table(alice, [bob]);
    const a = await playerPage(alice, channelId);
    const b = await playerPage(bob, channelId, { codecs: ["video/H264", "video/VP9"] });
    await decodes(a, [bob], "video/H264");
    const watcher = await playerPage(carol, channelId, { camera: false });
    await decodes(watcher, [alice]);
    await decodes(watcher, [bob], "video/H264"); // bob's answerer list has no VP8: his links use H.264
    await new Promise((r) => setTimeout(r, 1000));
    const fromWatcher = await a.evaluate(() => window.tableApp.inbound());
    expect(fromWatcher[carol]?.framesDecoded ?? 0).toBe(0);
    expect(await watcher.evaluate(() => window.tableApp.outbound())).toEqual([]);
    for (const p of [a, b, watcher]) await p.context().close();
  }, 90_000);

  it("a dropped hub socket does not stop the video; after the reconnect the call is set up again", async () => {
    const channelId = await table(alice, [bob]);
    const a = await playerPage(alice, channelId);
    const b = await playerPage(bob, channelId);
    await decodes(a, [bob]);
    const before = (await inbound(b))[alice]!.framesDecoded;
    await b.evaluate(() => window.tableApp.client!.reconnect());
    await poll(async () => ((await inbound(b))[alice]?.framesDecoded ?? 0) > before || null, 10_000, "frames while the hub socket is down or back");
    await decodes(a, [bob]);
    await decodes(b, [alice]);
    for (const p of [a, b]) await p.context().close();
  }, 90_000);

  it("a player who reloads gets video back", async () => {
    const channelId = await table(alice, [bob]);
    const a = await playerPage(alice, channelId);
    let b = await playerPage(bob, channelId);
    await decodes(a, [bob]);
    await b.context().close();
    b = await playerPage(bob, channelId);
    await decodes(b, [alice]);
    await decodes(a, [bob]);
    expect(problems).toEqual([]);
    for (const p of [a, b]) await p.context().close();
  }, 90_000);
});
