/**
 * Board-video join benchmark: `npm run bench:table [-- --joins 5]`. Not part of `npm test`.
 *
 * Four Chromium contexts with fake cameras (a 320x180 clip at 15 fps) at one table, all on
 * loopback. Three players sit in the call; the fourth joins `--joins` times (leaving in between).
 * The first join (`--warmup`) is not counted. Per join: the time from the fourth player's `table.join` to the first decoded frame of every
 * pair, both directions (6 streams: the slowest counts), and the signalling messages all four
 * pages sent and received until then. Then the browsers' CPU per player with four players in the
 * call (Chromium's processes, from /proc). Measured twice in the same run with the same browsers:
 * through the whole system (hub in the Worker under wrangler dev, the client library) and through
 * a minimal in-memory relay (bench/lib/table-relay.ts), the floor. Goal: p95 within 1.5x of the
 * floor and under 1.5 s.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { DEMO_USERS } from "@spell-coven/simulator";
import { RoomsApi } from "../client/src/rooms-api.ts";
import { startSystem } from "../client/test/helpers.ts";
import { launchChromium, writeFakeCameraClip } from "../e2e/browser/browser.ts";
import { percentile, ratio } from "./lib/stats.ts";
import { processTree } from "./lib/procs.ts";
import type {} from "./lib/table-bench-page.ts";
import { startTableRelay } from "./lib/table-relay.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const JOINS = arg("joins", 5);
/** Joins before the measured ones (the first join of a fresh page also pays for codec and ICE start-up). */
const WARMUP = arg("warmup", 1);
const CPU_SECONDS = arg("cpu-seconds", 4);
const TIMEOUT_MS = 20_000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const USERS = [DEMO_USERS.alice, DEMO_USERS.bob, DEMO_USERS.carol, DEMO_USERS.dave];

interface Result {
  joinMs: number[];
  msgsPerJoin: number[];
  cpuPctPerPlayer: number;
}

const chromiumCpuMs = () =>
  processTree(process.pid)
    .filter((p) => /chrom/i.test(p.name) || p.cmdline.includes("chromium"))
    .reduce((s, p) => s + p.cpuMs, 0);

async function waitFor<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Four pages (one context each) on a loopback origin (a secure context, for the camera), connected to the hub or the relay. */
async function pages(
  browser: Browser,
  app: string,
  origin: string,
  mode: "hub" | "relay",
  url: string,
  token: (u: string) => Promise<string>,
): Promise<Page[]> {
  const out: Page[] = [];
  for (const userId of USERS) {
    const context = await browser.newContext({ permissions: ["camera"] });
    const page = await context.newPage();
    await page.exposeFunction("mintToken", () => token(userId));
    page.on("pageerror", (e) => console.error(`${mode} ${userId}: ${e.message}`));
    await page.goto(`${origin}/health`);
    await page.setContent("<!doctype html><body></body>");
    await page.addScriptTag({ type: "module", content: app });
    await page.waitForFunction('"bench" in window');
    await page.evaluate(([m, u]) => window.bench.connect(m as "hub" | "relay", u as string), [mode, url] as const);
    out.push(page);
  }
  return out;
}

async function measure(mode: "hub" | "relay", ps: Page[], channelId: string): Promise<Result> {
  const [fourth, ...seated] = [ps[3]!, ps[0]!, ps[1]!, ps[2]!];
  for (const p of seated) await p.evaluate((ch) => window.bench.join(ch), channelId);
  // The three seated players see each other before the fourth comes.
  for (const p of seated)
    await waitFor(async () => ((await p.evaluate(() => Object.keys(window.bench.frames).length)) >= 2 ? true : null), `${mode}: three players connected`);
  const joinMs: number[] = [];
  const msgsPerJoin: number[] = [];
  for (let i = 0; i < WARMUP + JOINS; i++) {
    for (const p of ps)
      await p.evaluate(() => {
        window.bench.msgs = 0;
      });
    await fourth.evaluate((ch) => window.bench.join(ch), channelId);
    const joinAt = await fourth.evaluate(() => window.bench.joinAt);
    const you = await waitFor(() => fourth.evaluate(() => window.bench.you()), `${mode}: the fourth's peer id`);
    const times: number[] = [];
    times.push(
      ...(await waitFor(async () => {
        const f = await fourth.evaluate(() => Object.values(window.bench.frames));
        return f.length >= 3 ? f : null;
      }, `${mode}: the fourth decodes all three`)),
    );
    for (const p of seated)
      times.push(await waitFor(() => p.evaluate((id) => window.bench.frames[id] ?? null, you), `${mode}: a seated player decodes the fourth`));
    let msgs = 0;
    for (const p of ps) msgs += await p.evaluate(() => window.bench.msgs);
    if (i >= WARMUP) {
      joinMs.push(Math.max(...times) - joinAt);
      msgsPerJoin.push(msgs);
    }
    if (i === WARMUP + JOINS - 1) break;
    await fourth.evaluate(() => window.bench.leave());
    // A breath between joins (the leave and the next join travel the same socket, in order).
    await new Promise((r) => setTimeout(r, 300));
  }
  // Four players in the call: what the browsers spend.
  const cpu0 = chromiumCpuMs();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, CPU_SECONDS * 1000));
  const cpuPctPerPlayer = ((chromiumCpuMs() - cpu0) / (Date.now() - t0) / USERS.length) * 100;
  for (const p of ps) await p.evaluate(() => window.bench.leave());
  return { joinMs, msgsPerJoin, cpuPctPerPlayer };
}

const fmt = (v: number) => `${Math.round(v)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-table-"));
  const clip = join(dir, "board.y4m");
  writeFakeCameraClip(clip);
  const bundle = await build({
    absWorkingDir: ROOT,
    entryPoints: ["bench/lib/table-bench-page.ts"],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    logLevel: "warning",
  });
  const app = bundle.outputFiles[0]!.text;
  const [system, relay, browser] = await Promise.all([startSystem(), startTableRelay(), launchChromium({ fakeCamera: clip })]);
  try {
    const token = (u: string) => system.simulator!.mintToken(u);
    const api = (u: string) => new RoomsApi({ baseUrl: system.workerUrl, getToken: () => token(u) });
    const room = await api(USERS[0]!).createRoom({ name: "Bench table" });
    for (const u of USERS.slice(1)) await api(u).joinRoom(room.channelId);

    const relayPages = await pages(browser, app, system.workerUrl, "relay", relay.url, token);
    const floor = await measure("relay", relayPages, room.channelId);
    for (const p of relayPages) await p.context().close();
    const hubPages = await pages(browser, app, system.workerUrl, "hub", system.workerUrl, token);
    const hub = await measure("hub", hubPages, room.channelId);
    for (const p of hubPages) await p.context().close();

    const sorted = (r: Result) => [...r.joinMs].sort((a, b) => a - b);
    const p50 = (r: Result) => percentile(sorted(r), 50);
    const p95 = (r: Result) => percentile(sorted(r), 95);
    const avg = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `board video: 4th player's table.join -> first decoded frame of every pair (6 streams, 320x180@15), ${JOINS} joins after ${WARMUP} warm-up, loopback`,
    );
    console.log(
      `  in-memory relay (floor): p50 ${fmt(p50(floor))}, p95 ${fmt(p95(floor))}; ${avg(floor.msgsPerJoin).toFixed(0)} signalling messages per join; browser CPU ${floor.cpuPctPerPlayer.toFixed(0)}% of a core per player`,
    );
    console.log(
      `  hub (Worker + client):   p50 ${fmt(p50(hub))}, p95 ${fmt(p95(hub))}; ${avg(hub.msgsPerJoin).toFixed(0)} signalling messages per join; browser CPU ${hub.cpuPctPerPlayer.toFixed(0)}% of a core per player`,
    );
    console.log(
      `  hub / floor: p50 ${ratio(p50(hub), p50(floor))}, p95 ${ratio(p95(hub), p95(floor))}, messages ${ratio(avg(hub.msgsPerJoin), avg(floor.msgsPerJoin))}, CPU ${ratio(hub.cpuPctPerPlayer, floor.cpuPctPerPlayer)}`,
    );
    const ok = p95(hub) <= 1.5 * p95(floor) && p95(hub) < 1500;
    console.log(`  goal (p95 within 1.5x of the floor and under 1.5 s): ${ok ? "met" : "NOT met"}`);
    console.log(`  all joins (ms): floor ${floor.joinMs.map(Math.round).join(", ")}; hub ${hub.joinMs.map(Math.round).join(", ")}`);
  } finally {
    await browser.close();
    await relay.close();
    await system.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
