/**
 * Table bot benchmark: `npm run bench:rtc [-- --trials 20 --seconds 5]`.
 *
 * The simulator (in this process, with simulated people), gateway-node (in process, events to a
 * no-op hub) with its voice link, and rtc-node as its own process (`node --import tsx`, trusting
 * the voice CA with NODE_EXTRA_CA_CERTS). A signed stand-in for the Worker's
 * /api/internal/signals (HMAC + schema checked, as the Worker does) is the subscriber.
 * Printed:
 * - latency from a simulated person starting to speak to the `voice.speaking` signal arriving
 *   (p50/p99 over `--trials`); the Worker's relay to a table subscriber is not included (one
 *   more loopback hop; see the README);
 * - rtc-node CPU per listened stream (its /proc CPU while 1 and 4 people speak, minus its idle
 *   CPU at the table, per second and stream) and its RSS.
 */
import { spawn } from "node:child_process";
import { signHubRequest } from "@spell-coven/common";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator } from "@spell-coven/simulator";
import { DEFAULT_TUNING, startGatewayNode } from "../gateway-node/src/index.ts";
import { freePort } from "../scripts/lib/free-port.ts";
import { SignalsHub } from "../rtc-node/test/signals-hub.ts";
import { processTree } from "./lib/procs.ts";
import { percentile } from "./lib/stats.ts";
import { createLogger } from "@spell-coven/common";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const TRIALS = arg("trials", 20);
const SECONDS = arg("seconds", 5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(f: () => T | null | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

const sim = await startSimulator({ heartbeatIntervalMs: 5000, identifyWindowMs: 0 });
const hub = await new SignalsHub().start();
const linkToken = "bench-link-token-0123456789abcdef0123456789";
const node = await startGatewayNode(
  {
    token: sim.botToken,
    guildIds: [DEMO_GUILD_ID],
    hubEndpoint: "http://127.0.0.1:9/unused",
    hubSecret: hub.secret,
    logLevel: "ERROR",
    healthPort: 0,
    healthHost: "127.0.0.1",
    apiBase: sim.apiBase,
    enableMessageEvents: false,
    messageContent: false,
    link: { token: linkToken, port: 0, host: "127.0.0.1" },
    tuning: { ...DEFAULT_TUNING },
  },
  {
    poster: { post: async () => ({ kind: "ok", status: 200, accepted: 0, duplicates: 0 }) },
    health: false,
    log: createLogger("ERROR", { service: "gateway-node" }),
  },
);
await until(() => node.manager.info().some((s) => s.state === "ready"), 10_000, "gateway-node ready");
const controlPort = await freePort();
const healthPort = await freePort();
const child = spawn(process.execPath, ["--import", "tsx", "rtc-node/src/main.ts"], {
  stdio: ["ignore", "ignore", "inherit"],
  env: {
    ...process.env,
    NODE_EXTRA_CA_CERTS: sim.voice!.certificate.caFile,
    GATEWAY_WS_URL: `ws://127.0.0.1:${node.linkPort}`,
    LINK_TOKEN: linkToken,
    HUB_ENDPOINT: hub.url,
    HUB_SECRET: hub.secret,
    HEALTH_CHECK_PORT: String(healthPort),
    HEALTH_CHECK_HOST: "127.0.0.1",
    RTC_CONTROL_PORT: String(controlPort),
    LOG_LEVEL: "ERROR",
    BOT_EMPTY_GRACE_MS: "600000",
  },
});
const rtcPid = child.pid!;
const stopAll = async () => {
  child.kill("SIGTERM");
  await sleep(300);
  await node.stop({ flushMs: 100 });
  await hub.close();
  await sim.close();
};

try {
  for (let i = 0; ; i++) {
    try {
      const h = (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as { link: { state: string } };
      if (h.link.state === "open") break;
    } catch {
      /* starting */
    }
    if (i > 200) throw new Error("rtc-node did not start");
    await sleep(100);
  }
  const people: string[] = [DEMO_USERS.alice, DEMO_USERS.bob, DEMO_USERS.carol, DEMO_USERS.dave];
  for (const p of people) await sim.personJoin(DEMO_GUILD_ID, p, DEMO_CHANNELS.table1);
  const body = JSON.stringify({ guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1 });
  const res = await fetch(`http://127.0.0.1:${controlPort}/bot/join`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await signHubRequest(hub.secret, body)) },
    body,
  });
  if (res.status !== 200) throw new Error(`join: ${res.status} ${await res.text()}`);
  await until(() => sim.voice!.stats().rooms.find((r) => r.users.length === 5)?.dave?.pendingTransition === null, 15_000, "DAVE settled");
  await sleep(1000);

  // Latency: start speaking -> speaking:true at the hub.
  const latencies: number[] = [];
  const alice = DEMO_USERS.alice;
  // Trial 0 warms up (JIT, first subscription) and is not counted.
  for (let t = -1; t < TRIALS; t++) {
    const mark = hub.received.length;
    const t0 = Date.now();
    sim.personSpeak(alice, 440);
    const got = await until(() => hub.received.slice(mark).find((s) => s.userId === alice && s.speaking && s.level === undefined), 5000, "speaking signal");
    if (t >= 0) latencies.push(got.at - t0);
    await sleep(300);
    sim.personSilence(alice);
    await until(() => hub.received.slice(mark).some((s) => s.userId === alice && !s.speaking), 5000, "stop signal");
    await sleep(150);
  }
  latencies.sort((a, b) => a - b);

  const cpuOf = () => processTree(rtcPid).reduce((a, p) => a + p.cpuMs, 0);
  const rssOf = () => processTree(rtcPid).reduce((a, p) => a + p.rssBytes, 0);
  const measure = async (speakers: string[]) => {
    for (const s of speakers) sim.personSpeak(s, 440 + 40 * people.indexOf(s));
    await sleep(1000);
    const c0 = cpuOf();
    const t0 = Date.now();
    await sleep(SECONDS * 1000);
    const cpu = cpuOf() - c0;
    const secs = (Date.now() - t0) / 1000;
    const rss = rssOf();
    for (const s of speakers) sim.personSilence(s);
    await sleep(1000);
    return { cpuPerSec: cpu / secs, rss };
  };
  const idleC0 = cpuOf();
  const idleT0 = Date.now();
  await sleep(SECONDS * 1000);
  const idlePerSec = (cpuOf() - idleC0) / ((Date.now() - idleT0) / 1000);
  const idleRss = rssOf();
  const one = await measure([alice]);
  const four = await measure(people);
  const pct = (cpuMsPerSec: number) => ((cpuMsPerSec / 1000) * 100).toFixed(2);
  console.log(`bench:rtc (rtc-node pid ${rtcPid}, ${TRIALS} trials, ${SECONDS} s per CPU run, Node ${process.version})`);
  console.log(
    `  speaking start -> voice.speaking at the hub: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms (goal p99 < 250 ms); all: ${latencies.join(" ")}`,
  );
  console.log(`  rtc-node idle at the table: ${pct(idlePerSec)} % of a core, RSS ${(idleRss / 1e6).toFixed(1)} MB`);
  console.log(`  1 speaker:  ${pct(one.cpuPerSec - idlePerSec)} % of a core per listened stream, RSS ${(one.rss / 1e6).toFixed(1)} MB`);
  console.log(`  4 speakers: ${pct((four.cpuPerSec - idlePerSec) / 4)} % of a core per listened stream, RSS ${(four.rss / 1e6).toFixed(1)} MB (goal < 5 %)`);
} finally {
  await stopAll();
}
process.exit(0);
