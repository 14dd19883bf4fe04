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
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { startDevIdp } from "../scripts/lib/dev-idp.ts";
import { freePort } from "../scripts/lib/free-port.ts";
import { ms, ratio, summarize } from "./lib/stats.ts";
import { processTree, treeRss } from "./lib/procs.ts";
import {
  AUDIENCE,
  HUB_SECRET,
  ISSUER,
  closeClients,
  connectClients,
  label,
  makeEvents,
  post,
  resetEvents,
  startHub,
  stopChild,
  type Client,
  type Mint,
  type Target,
} from "./lib/hub-target.ts";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
// A slow event (a GC pause) moves all its receipts into the tail: 100 events keep p99 from
// being decided by one or two of them.
const LATENCY_EVENTS = Number(process.env.BENCH_EVENTS ?? 100);
const THROUGHPUT_CLIENTS = Number(process.env.BENCH_TP_CLIENTS ?? 100);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);
/** Clients ask for batch frames (as the client library does); BENCH_BATCH_FRAMES=0 measures one message per event. */
const BATCH_FRAMES = process.env.BENCH_BATCH_FRAMES !== "0";

// ---- servers -------------------------------------------------------------------------------

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

// ---- phases --------------------------------------------------------------------------------

async function latency(target: Target, mint: Mint) {
  const rssBefore = treeRss(target.pid);
  const clients = await connectClients(target, CLIENTS, mint, BATCH_FRAMES);
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
  return {
    all: summarize(receipts),
    first: summarize(firstReceipts),
    last: summarize(lastReceipts),
    cpu,
    serverCpu,
    clientCpu,
    perClientBytes: (rssAfter - rssBefore) / CLIENTS,
    rssAfter,
  };
}

async function throughput(target: Target, mint: Mint) {
  const clients = await connectClients(target, THROUGHPUT_CLIENTS, mint, BATCH_FRAMES);
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
  resetEvents();
  const lat = await latency(target, mint);
  console.log(
    `latency, ${CLIENTS} clients, ${LATENCY_EVENTS} events: every receipt p50 ${ms(lat.all.p50)}  p99 ${ms(lat.all.p99)}  max ${ms(lat.all.max)}; first client p50 ${ms(lat.first.p50)}; last client p50 ${ms(lat.last.p50)}  p99 ${ms(lat.last.p99)}`,
  );
  console.log(
    `CPU per event (${CLIENTS} sends): server ${lat.serverCpu.toFixed(1)} ms (${lat.cpu.map((p) => `${p.label} ${p.msPerEvent.toFixed(1)}`).join(", ")}); the clients' process ${lat.clientCpu.toFixed(1)} ms`,
  );
  console.log(
    `memory: ${(lat.perClientBytes / 1024).toFixed(1)} KiB per connected client (RSS of the server processes, ${(lat.rssAfter / 2 ** 20).toFixed(0)} MiB with ${CLIENTS} clients)`,
  );
  const tp = await throughput(target, mint);
  console.log(
    `throughput, ${THROUGHPUT_CLIENTS} clients: ${tp.eventsPerSecond.toFixed(0)} events/s sustained (${tp.sent} events in posts of ${BATCH}, ${BATCH_FRAMES ? "batch frames" : "one message per event"}, all delivered: ${tp.complete})`,
  );
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
  console.log(
    `p99 receipt latency at ${CLIENTS} clients: hub ${ms(ours.lat.all.p99)} vs baseline ${ms(base.lat.all.p99)} = ${ratio(ours.lat.all.p99, base.lat.all.p99)} (target <= 1.50x)`,
  );
  if (direct) console.log(`  the same without wrangler's proxy: hub ${ms(direct.lat.all.p99)} = ${ratio(direct.lat.all.p99, base.lat.all.p99)}`);
  console.log(`p50 receipt latency: hub ${ms(ours.lat.all.p50)} vs baseline ${ms(base.lat.all.p50)} = ${ratio(ours.lat.all.p50, base.lat.all.p50)}`);
  if (direct) console.log(`  the same without wrangler's proxy: hub ${ms(direct.lat.all.p50)} = ${ratio(direct.lat.all.p50, base.lat.all.p50)}`);
  const cpu = (r: typeof ours) => r.lat.serverCpu;
  console.log(
    `server CPU per event at ${CLIENTS} clients: hub ${cpu(ours).toFixed(1)} ms vs baseline ${cpu(base).toFixed(1)} ms = ${ratio(cpu(ours), cpu(base))}${direct ? ` (without the proxy ${cpu(direct).toFixed(1)} ms)` : ""}`,
  );
  // All the work of one event, spread perfectly over every core, is the least time the last
  // client can get it in: when that ratio is already over the target, no hub code can meet it.
  const cores = availableParallelism();
  const bound = (r: typeof ours) => (cpu(r) + r.lat.clientCpu) / cores;
  console.log(
    `CPU bound on the last receipt (server + clients CPU per event / ${cores} cores): hub ${ms(bound(ours))} vs baseline ${ms(bound(base))} = ${ratio(bound(ours), bound(base))}${direct ? ` (without the proxy ${ratio(bound(direct), bound(base))})` : ""}`,
  );
  console.log(
    `throughput at ${THROUGHPUT_CLIENTS} clients: hub ${ours.tp.eventsPerSecond.toFixed(0)} events/s vs baseline ${base.tp.eventsPerSecond.toFixed(0)} events/s (target >= 500)`,
  );
  console.log(`memory per client: hub ${(ours.lat.perClientBytes / 1024).toFixed(1)} KiB vs baseline ${(base.lat.perClientBytes / 1024).toFixed(1)} KiB`);
} finally {
  await idp.close();
}
