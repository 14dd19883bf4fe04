/**
 * `npm run bench:stream`: the same guild's events to 1,000 SSE clients (`GET /api/stream`, held
 * by the Worker and bridged to the GuildHub) and 1,000 WebSocket clients (`/api/ws`) at once,
 * under `wrangler dev`: time from the signed post to each receipt, per transport (p50, p99 of
 * every receipt, and of the last client's), and the server's CPU per event.
 *
 * Bounded and loopback only: fixed client and event counts (BENCH_SSE_CLIENTS, BENCH_WS_CLIENTS,
 * BENCH_EVENTS), a deadline per event. The server helpers are bench:hub's (lib/hub-target.ts).
 */
import http from "node:http";
import { startDevIdp } from "../scripts/lib/dev-idp.ts";
import { processTree } from "./lib/procs.ts";
import { ms, ratio, summarize } from "./lib/stats.ts";
import { AUDIENCE, ISSUER, closeClients, connectClients, label, makeEvents, post, startHub, type Mint, type Target } from "./lib/hub-target.ts";

const WS_CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 1000);
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const WARMUP = 3;
const EVENT_DEADLINE_MS = 30_000;

interface SseClient {
  req: http.ClientRequest;
  onEvent: (seq: number) => void;
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/** One EventSource-like reader: a ticket, then the stream; resolves on `event: ready`. */
async function openSse(target: Target, token: string): Promise<SseClient> {
  const res = await fetch(`${target.baseUrl}/api/stream/ticket`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  const { url } = (await res.json()) as { url: string };
  return new Promise<SseClient>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stream: no ready in 30 s")), 30_000);
    const req = http.get(`${target.baseUrl}${url}`, { agent, headers: { Accept: "text/event-stream" } }, (r) => {
      if (r.statusCode !== 200) return reject(new Error(`stream: HTTP ${r.statusCode}`));
      r.setEncoding("utf8");
      let buf = "";
      r.on("data", (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const message = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (message.startsWith("event: ready") || message.includes("\nevent: ready")) {
            clearTimeout(timer);
            resolve(client);
            continue;
          }
          const id = /^id: [^:\n]+:(\d+)$/m.exec(message);
          if (id) client.onEvent(Number(id[1]));
        }
      });
    });
    const client: SseClient = { req, onEvent: () => {} };
    req.on("error", reject);
  });
}

async function openSseClients(target: Target, count: number, mint: Mint, firstUser: number): Promise<SseClient[]> {
  const out: SseClient[] = [];
  for (let i = 0; i < count; i += 50) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, async (_, j) => openSse(target, await mint(`2${String(firstUser + i + j).padStart(17, "0")}`))),
      )),
    );
  }
  return out;
}

const idp = await startDevIdp({ kid: "bench", issuer: ISSUER, audience: AUDIENCE });
const target = await startHub(idp.jwksUrl);
try {
  console.log(`== ${target.name}: ${WS_CLIENTS} WebSocket + ${SSE_CLIENTS} SSE clients on one guild, ${EVENTS} events`);
  const ws = await connectClients(target, WS_CLIENTS, idp.mint, true, 0);
  console.error(`${ws.length} WebSocket clients connected`);
  const sse = await openSseClients(target, SSE_CLIENTS, idp.mint, WS_CLIENTS);
  console.error(`${sse.length} SSE clients streaming`);
  await new Promise((r) => setTimeout(r, 1000));
  const receipts = { ws: [] as number[], sse: [] as number[] };
  const last = { ws: [] as number[], sse: [] as number[] };
  const cpuBefore = new Map(processTree(target.pid).map((p) => [p.pid, p.cpuMs]));
  const selfBefore = process.cpuUsage();
  for (let e = 0; e < EVENTS + WARMUP; e++) {
    const measured = e >= WARMUP;
    const t0 = performance.now();
    let pending = ws.length + sse.length;
    const pendingBy = { ws: ws.length, sse: sse.length };
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`event ${e}: ${pendingBy.ws} WebSocket and ${pendingBy.sse} SSE clients never received it`)),
        EVENT_DEADLINE_MS,
      );
      const got = (kind: "ws" | "sse") => {
        const dt = performance.now() - t0;
        if (measured) receipts[kind].push(dt);
        if (--pendingBy[kind] === 0 && measured) last[kind].push(dt);
        if (--pending === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const c of ws) c.onEvent = () => ((c.onEvent = () => {}), got("ws"));
      for (const c of sse) c.onEvent = () => ((c.onEvent = () => {}), got("sse"));
    });
    await post(target, makeEvents(1));
    await done;
  }
  const events = EVENTS + WARMUP;
  const cpu = processTree(target.pid)
    .map((p) => ({ label: label(p), msPerEvent: (p.cpuMs - (cpuBefore.get(p.pid) ?? p.cpuMs)) / events }))
    .filter((p) => p.msPerEvent >= 0.1);
  const self = process.cpuUsage(selfBefore);
  const server = cpu.reduce((s, p) => s + p.msPerEvent, 0);
  const lastOf = { ws: summarize(last.ws), sse: summarize(last.sse) };
  for (const kind of ["ws", "sse"] as const) {
    const all = summarize(receipts[kind]);
    const l = lastOf[kind];
    console.log(
      `${kind === "ws" ? "WebSocket" : "SSE      "}: post to receipt p50 ${ms(all.p50)}  p99 ${ms(all.p99)}; post to last receipt p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  max ${ms(l.max)}`,
    );
  }
  // The WebSocket clients of the same run are the baseline: what SSE's bridge through the Worker costs.
  console.log(`SSE vs WebSocket, post to last receipt: p50 ${ratio(lastOf.sse.p50, lastOf.ws.p50)}, p99 ${ratio(lastOf.sse.p99, lastOf.ws.p99)}`);
  console.log(
    `server CPU per event (${WS_CLIENTS + SSE_CLIENTS} receipts): ${server.toFixed(1)} ms (${cpu.map((p) => `${p.label} ${p.msPerEvent.toFixed(1)}`).join(", ")}); the clients' process ${((self.user + self.system) / 1000 / events).toFixed(1)} ms`,
  );
  await closeClients(ws);
  for (const c of sse) c.req.destroy();
} finally {
  await target.stop();
  await idp.close();
  agent.destroy();
}
