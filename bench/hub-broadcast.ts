/**
 * `npm run bench:hub`: broadcast latency and throughput of one guild's GuildHub under
 * `wrangler dev`, next to a plain Node `ws` broadcast server measured in the same run.
 *
 *  1. latency: 1,000 authenticated clients; signed posts of one event each; time from the post to
 *     each client's receipt (p50, p99, max over every receipt) and to the last client's receipt;
 *  2. throughput: 100 clients; batches of events posted back to back for a fixed time; events/s
 *     delivered to every client;
 *  3. memory: resident memory of the server processes before and after the 1,000 clients;
 *  4. CPU: time each server process and the clients' process spend per event in the latency
 *     phase, which on a small machine is what the latency is made of.
 *
 * BENCH_HUB_DIRECT=1 also measures the hub with the clients connected straight to the workerd
 * runtime that `wrangler dev` starts, bypassing wrangler's proxy process (which every request and
 * WebSocket frame otherwise crosses), to show the proxy's share.
 *
 * Everything is on loopback and bounded: fixed client and event counts, and a deadline per phase.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { signHubRequest, type InternalEvent } from "@spell-coven/common";
import { startDevIdp } from "../scripts/lib/dev-idp.ts";
import { freePort } from "../scripts/lib/free-port.ts";
import { ms, ratio, summarize } from "./lib/stats.ts";
import { listeningPorts, processTree, treeRss } from "./lib/procs.ts";

const GUILD = "1060000000000000001";
const CHANNEL = "1060000000000000203";
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
// A slow event (a GC pause) moves all its receipts into the tail: 100 events keep p99 from
// being decided by one or two of them.
const LATENCY_EVENTS = Number(process.env.BENCH_EVENTS ?? 100);
const THROUGHPUT_CLIENTS = Number(process.env.BENCH_TP_CLIENTS ?? 100);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);
const HUB_SECRET = randomBytes(32).toString("hex");
const ISSUER = "https://idp.bench";
const AUDIENCE = "spell-coven-bench";
/** Clients ask for batch frames (as the client library does); BENCH_BATCH_FRAMES=0 measures one message per event. */
const BATCH_FRAMES = process.env.BENCH_BATCH_FRAMES !== "0";

interface Target {
  name: string;
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

type Mint = (sub: string) => Promise<string>;

// ---- servers -------------------------------------------------------------------------------

async function startHub(jwksUrl: string, direct = false): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hub-bench-"));
  const envFile = join(dir, "vars.env");
  writeFileSync(envFile, [
    `PRIMARY_GUILD_ID=${GUILD}`, `HUB_SECRET=${HUB_SECRET}`, `JWT_ISSUER=${ISSUER}`, `JWT_AUDIENCE=${AUDIENCE}`,
    `JWT_PUBLIC_JWK_URL=${jwksUrl}`, "LOG_LEVEL=ERROR", "DISCORD_API_BASE=http://127.0.0.1:9/api/v10",
  ].join("\n"));
  const child = spawn("wrangler", ["dev", "--port", String(port), "--ip", "127.0.0.1", "--env-file", envFile, "--persist-to", join(dir, "state"), "--log-level", "error", "--show-interactive-dev-session=false"], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(`${baseUrl}/health`, child);
  return {
    name: direct ? "GuildHub (wrangler dev's runtime, bypassing its proxy)" : "GuildHub (wrangler dev)",
    baseUrl: direct ? await runtimeUrl(child.pid!, port) : baseUrl,
    pid: child.pid!,
    stop: () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true })) };
}

async function startBaseline(jwksUrl: string): Promise<Target> {
  const port = await freePort();
  const child = spawn("tsx", ["bench/baseline-ws-server.ts"], {
    env: { ...process.env, PORT: String(port), HUB_SECRET, JWKS_URL: jwksUrl, ISSUER, AUDIENCE },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`baseline exited ${code}`)));
  });
  return { name: "plain Node ws", baseUrl: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}

async function waitFor(url: string, child: ChildProcess) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready in 60 s`);
}

/** The address of the workerd that runs the Worker (not wrangler's proxy in front of it). */
async function runtimeUrl(wranglerPid: number, proxyPort: number): Promise<string> {
  for (const p of processTree(wranglerPid).filter((p) => p.name === "workerd")) {
    for (const port of listeningPorts(p.pid)) {
      if (port === proxyPort) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.ok && (await res.json() as { status?: string }).status === "ok") return `http://127.0.0.1:${port}`;
      } catch {
        // the inspector or another internal socket
      }
    }
  }
  throw new Error("could not find the address of wrangler dev's runtime");
}

/** A short label for a server process in the CPU figures. */
function label(p: { name: string; cmdline: string }): string {
  if (p.name !== "workerd") return p.name;
  return p.cmdline.includes("--inspector-addr") ? "workerd runtime" : "workerd proxy";
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

// ---- clients -------------------------------------------------------------------------------

interface Client {
  ws: WebSocket;
  onEvent: (seq: number, data: any) => void;
}

async function connectClients(target: Target, count: number, mint: Mint): Promise<Client[]> {
  const url = `${target.baseUrl.replace("http", "ws")}/api/ws`;
  const clients: Client[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const token = await mint(`2${String(i + j).padStart(17, "0")}`);
        return new Promise<Client>((resolve, reject) => {
          const ws = new WebSocket(url, { perMessageDeflate: false });
          const client: Client = { ws, onEvent: () => {} };
          const timer = setTimeout(() => reject(new Error("auth timeout")), 20_000);
          let lastAck = 0;
          // Like the client library: ack every 50-99 events, at a random point per client.
          let ackAfter = 50 + Math.floor(Math.random() * 50);
          ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token, batch: BATCH_FRAMES })));
          ws.on("message", (raw) => {
            const msg = JSON.parse(String(raw));
            if (msg.event === "auth.ok") {
              clearTimeout(timer);
              resolve(client);
            } else if (msg.type === "event" || msg.type === "batch") {
              for (const e of msg.type === "batch" ? msg.events : [msg]) client.onEvent(e.seq, e);
              const last = msg.type === "batch" ? msg.events[msg.events.length - 1].seq : msg.seq;
              if (last - lastAck >= ackAfter) {
                lastAck = last;
                ackAfter = 50 + Math.floor(Math.random() * 50);
                ws.send(JSON.stringify({ type: "ack", seq: last }));
              }
            }
          });
          ws.on("error", reject);
        });
      }),
    );
    clients.push(...batch);
  }
  return clients;
}

async function closeClients(clients: Client[]) {
  await Promise.all(clients.map((c) => new Promise<void>((r) => (c.ws.readyState === WebSocket.CLOSED ? r() : (c.ws.once("close", () => r()), c.ws.close(1000))))));
}

let eventCounter = 0;
function makeEvents(n: number): InternalEvent[] {
  return Array.from({ length: n }, () => {
    const i = ++eventCounter;
    const userId = `3${String(i % 1000).padStart(17, "0")}`;
    // Alternate join/leave of the same user so every event changes state and is broadcast.
    return i % 2 === 1
      ? { id: `bench:${i}`, guildId: GUILD, event: "voice.joined", payload: { guildId: GUILD, channelId: CHANNEL, userId } }
      : { id: `bench:${i}`, guildId: GUILD, event: "voice.left", payload: { guildId: GUILD, channelId: CHANNEL, userId: `3${String((i - 1) % 1000).padStart(17, "0")}` } };
  });
}

async function post(target: Target, events: InternalEvent[]) {
  const body = JSON.stringify({ events });
  const res = await fetch(`${target.baseUrl}/api/internal/events`, { method: "POST", body, headers: { "Content-Type": "application/json", ...(await signHubRequest(HUB_SECRET, body)) } });
  if (!res.ok) throw new Error(`post failed: ${res.status} ${await res.text()}`);
}

// ---- phases --------------------------------------------------------------------------------

async function latency(target: Target, mint: Mint) {
  const rssBefore = treeRss(target.pid);
  const clients = await connectClients(target, CLIENTS, mint);
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = treeRss(target.pid);
  const receipts: number[] = [];
  const firstReceipts: number[] = [];
  const lastReceipts: number[] = [];
  const cpuBefore = new Map(processTree(target.pid).map((p) => [p.pid, p.cpuMs]));
  const selfBefore = process.cpuUsage();
  for (let e = 0; e < LATENCY_EVENTS + 3; e++) {
    let pending = clients.length;
    const t0 = performance.now();
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`event ${e}: ${pending} clients never received it`)), 15_000);
      for (const c of clients) {
        c.onEvent = () => {
          c.onEvent = () => {};
          const dt = performance.now() - t0;
          if (e >= 3) receipts.push(dt); // the first events warm up the object and JIT
          if (e >= 3 && pending === clients.length) firstReceipts.push(dt);
          if (--pending === 0) {
            clearTimeout(timer);
            if (e >= 3) lastReceipts.push(dt);
            resolve();
          }
        };
      }
    });
    await post(target, makeEvents(1));
    await done;
  }
  const events = LATENCY_EVENTS + 3;
  const self = process.cpuUsage(selfBefore);
  const cpu = processTree(target.pid)
    .map((p) => ({ label: label(p), msPerEvent: (p.cpuMs - (cpuBefore.get(p.pid) ?? p.cpuMs)) / events }))
    .filter((p) => p.msPerEvent >= 0.1);
  const clientCpu = (self.user + self.system) / 1000 / events;
  const serverCpu = cpu.reduce((sum, p) => sum + p.msPerEvent, 0);
  if (process.env.BENCH_DEBUG) console.log("last-client latency per event:", lastReceipts.map((v) => v.toFixed(0)).join(" "));
  await closeClients(clients);
  return { all: summarize(receipts), first: summarize(firstReceipts), last: summarize(lastReceipts), cpu, serverCpu, clientCpu, perClientBytes: (rssAfter - rssBefore) / CLIENTS, rssAfter };
}

async function throughput(target: Target, mint: Mint) {
  const clients = await connectClients(target, THROUGHPUT_CLIENTS, mint);
  let sent = 0;
  const received = new Map<Client, number>();
  for (const c of clients) c.onEvent = () => received.set(c, (received.get(c) ?? 0) + 1);
  const t0 = performance.now();
  const deadline = t0 + THROUGHPUT_SECONDS * 1000;
  while (performance.now() < deadline) {
    await post(target, makeEvents(BATCH));
    sent += BATCH;
  }
  // wait for every client to have every event
  const waitUntil = performance.now() + 30_000;
  while (clients.some((c) => (received.get(c) ?? 0) < sent) && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - t0) / 1000;
  const complete = clients.every((c) => (received.get(c) ?? 0) >= sent);
  await closeClients(clients);
  return { eventsPerSecond: sent / elapsed, sent, complete };
}

async function measure(target: Target, mint: Mint) {
  console.log(`\n== ${target.name}`);
  eventCounter = 0; // the hub only broadcasts real changes: start every target on a join
  const lat = await latency(target, mint);
  console.log(`latency, ${CLIENTS} clients, ${LATENCY_EVENTS} events: every receipt p50 ${ms(lat.all.p50)}  p99 ${ms(lat.all.p99)}  max ${ms(lat.all.max)}; first client p50 ${ms(lat.first.p50)}; last client p50 ${ms(lat.last.p50)}  p99 ${ms(lat.last.p99)}`);
  console.log(`CPU per event (${CLIENTS} sends): server ${lat.serverCpu.toFixed(1)} ms (${lat.cpu.map((p) => `${p.label} ${p.msPerEvent.toFixed(1)}`).join(", ")}); the clients' process ${lat.clientCpu.toFixed(1)} ms`);
  console.log(`memory: ${(lat.perClientBytes / 1024).toFixed(1)} KiB per connected client (RSS of the server processes, ${(lat.rssAfter / 2 ** 20).toFixed(0)} MiB with ${CLIENTS} clients)`);
  const tp = await throughput(target, mint);
  console.log(`throughput, ${THROUGHPUT_CLIENTS} clients: ${tp.eventsPerSecond.toFixed(0)} events/s sustained (${tp.sent} events in posts of ${BATCH}, ${BATCH_FRAMES ? "batch frames" : "one message per event"}, all delivered: ${tp.complete})`);
  return { lat, tp };
}

const idp = await startDevIdp({ kid: "bench", issuer: ISSUER, audience: AUDIENCE });
const mint: Mint = idp.mint;
try {
  const only = process.env.BENCH_ONLY; // "hub" or "baseline", for profiling one side
  const run = async (start: (jwks: string) => Promise<Target>) => {
    const target = await start(idp.jwksUrl);
    return measure(target, mint).finally(() => target.stop());
  };
  const base = only === "hub" ? null : await run(startBaseline);
  const ours = only === "baseline" ? null : await run((jwks) => startHub(jwks));
  const direct = only === "baseline" || !process.env.BENCH_HUB_DIRECT ? null : await run((jwks) => startHub(jwks, true));
  if (!base || !ours) process.exit(0);
  console.log(`\n== summary`);
  console.log(`p99 receipt latency at ${CLIENTS} clients: hub ${ms(ours.lat.all.p99)} vs baseline ${ms(base.lat.all.p99)} = ${ratio(ours.lat.all.p99, base.lat.all.p99)} (target <= 1.50x)`);
  if (direct) console.log(`  the same without wrangler's proxy: hub ${ms(direct.lat.all.p99)} = ${ratio(direct.lat.all.p99, base.lat.all.p99)}`);
  console.log(`p50 receipt latency: hub ${ms(ours.lat.all.p50)} vs baseline ${ms(base.lat.all.p50)} = ${ratio(ours.lat.all.p50, base.lat.all.p50)}`);
  if (direct) console.log(`  the same without wrangler's proxy: hub ${ms(direct.lat.all.p50)} = ${ratio(direct.lat.all.p50, base.lat.all.p50)}`);
  const cpu = (r: typeof ours) => r.lat.serverCpu;
  console.log(`server CPU per event at ${CLIENTS} clients: hub ${cpu(ours).toFixed(1)} ms vs baseline ${cpu(base).toFixed(1)} ms = ${ratio(cpu(ours), cpu(base))}${direct ? ` (without the proxy ${cpu(direct).toFixed(1)} ms)` : ""}`);
  // All the work of one event, spread perfectly over every core, is the least time the last
  // client can get it in: when that ratio is already over the target, no hub code can meet it.
  const cores = availableParallelism();
  const bound = (r: typeof ours) => (cpu(r) + r.lat.clientCpu) / cores;
  console.log(`CPU bound on the last receipt (server + clients CPU per event / ${cores} cores): hub ${ms(bound(ours))} vs baseline ${ms(bound(base))} = ${ratio(bound(ours), bound(base))}${direct ? ` (without the proxy ${ratio(bound(direct), bound(base))})` : ""}`);
  console.log(`throughput at ${THROUGHPUT_CLIENTS} clients: hub ${ours.tp.eventsPerSecond.toFixed(0)} events/s vs baseline ${base.tp.eventsPerSecond.toFixed(0)} events/s (target >= 500)`);
  console.log(`memory per client: hub ${(ours.lat.perClientBytes / 1024).toFixed(1)} KiB vs baseline ${(base.lat.perClientBytes / 1024).toFixed(1)} KiB`);
} finally {
  await idp.close();
}
