/**
 * gateway-node vs @discordjs/ws: CPU per 100k VOICE_STATE_UPDATE dispatches (zlib-stream) and RSS.
 *
 *   npx tsx bench/gateway-node.ts            (BENCH_EVENTS=200000 by default)
 *
 * The parent runs a minimal loopback Discord (GET /gateway/bot + a gateway that answers Hello,
 * READY, GUILD_CREATE and then streams pre-built dispatches). Every client gets byte-for-byte the
 * same pre-compressed frames (one zlib-stream context, built once), so the comparison measures
 * the clients only. Each client runs in its own child process and reports process.cpuUsage()
 * from READY to the last dispatch, and its peak RSS:
 *   - gateway-node        shard (ws + zlib-stream + JSON) -> translate (voice cache, hub events)
 *   - gateway-node full   the same plus the outbox (batching, JSON, shared-schema validation)
 *                         posting to an in-process no-op hub
 *   - @discordjs/ws       WebSocketManager, CompressionMethod.ZlibNative, dispatch listener
 * Then a memory run: gateway-node idle RSS, and RSS with 10,000 cached voice states.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import type { GatewayIntentBits } from "discord-api-types/v10";
import { ZlibStreamEncoder } from "../gateway-node/src/gateway/compression.ts";

const GUILD = "1060000000000000001";
const TOKEN = "bench-token";
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const MEM_STATES = 10_000;
const CHANNELS = Array.from({ length: 20 }, (_, i) => String(1060000000000000300n + BigInt(i)));

function userId(i: number): string {
  return String(1060000000000100000n + BigInt(i));
}

function voiceState(seq: number, user: number, channel: string | null, selfMute = false) {
  const id = userId(user);
  return {
    t: "VOICE_STATE_UPDATE",
    s: seq,
    op: 0,
    d: {
      member: {
        user: {
          username: `player${user}`,
          public_flags: 0,
          id,
          global_name: `Player ${user}`,
          discriminator: "0",
          clan: null,
          avatar_decoration_data: null,
          avatar: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        roles: ["1060000000000000900"],
        premium_since: null,
        pending: false,
        nick: null,
        mute: false,
        joined_at: "2024-05-01T12:00:00.000000+00:00",
        flags: 0,
        deaf: false,
        communication_disabled_until: null,
        banner: null,
        avatar: null,
      },
      user_id: id,
      suppress: false,
      session_id: `f${(user * 2654435761) % 4294967296}e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5`,
      self_video: false,
      self_mute: selfMute,
      self_deaf: false,
      request_to_speak_timestamp: null,
      mute: false,
      guild_id: GUILD,
      deaf: false,
      channel_id: channel,
    },
  };
}

/** Join, mute toggle, move, leave... 2,000 users cycling through 20 channels. */
function streamPayloads(count: number, firstSeq: number): object[] {
  const users = 2000;
  const out: object[] = [];
  for (let i = 0; i < count; i++) {
    const user = i % users;
    const round = Math.floor(i / users);
    const phase = round % 4;
    const ch = CHANNELS[(user + round) % CHANNELS.length]!;
    if (phase === 3) out.push(voiceState(firstSeq + i, user, null));
    else if (phase === 1) out.push(voiceState(firstSeq + i, user, CHANNELS[(user + round - 1) % CHANNELS.length]!, true));
    else out.push(voiceState(firstSeq + i, user, ch));
  }
  return out;
}

function handshake(): object[] {
  return [
    { op: 10, s: null, t: null, d: { heartbeat_interval: 600_000 } },
    {
      op: 0,
      s: 1,
      t: "READY",
      d: {
        v: 10,
        user: { id: "1060000000000000000", username: "bench", discriminator: "0", bot: true },
        guilds: [{ id: GUILD, unavailable: true }],
        session_id: "benchsession0001",
        resume_gateway_url: "",
        shard: [0, 1],
        application: { id: "1060000000000000000", flags: 0 },
      },
    },
    {
      op: 0,
      s: 2,
      t: "GUILD_CREATE",
      d: {
        id: GUILD,
        name: "Bench",
        unavailable: false,
        member_count: 3,
        voice_states: [],
        members: [],
        channels: CHANNELS.map((id) => ({ id, type: 2, name: `Table ${id.slice(-2)}`, guild_id: GUILD })),
        roles: [],
        emojis: [],
      },
    },
  ];
}

/** Pre-compresses a whole connection's worth of frames with one zlib-stream context. */
function buildFrames(payloads: object[]): Buffer[] {
  const enc = new ZlibStreamEncoder();
  const frames = payloads.map((p) => enc.encode(JSON.stringify(p)));
  enc.close();
  return frames;
}

interface Scenario {
  frames: Buffer[];
  /** Frames sent right after identify; the rest after `pauseMs`. */
  handshakeFrames: number;
  pauseMs: number;
}

async function startServer(scenarios: Record<string, Scenario>): Promise<{ port: number; close(): Promise<void> }> {
  let port = 0;
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    if (u.pathname.endsWith("/gateway/bot")) {
      const scenario = u.pathname.split("/")[1];
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          url: `ws://127.0.0.1:${port}/${scenario}/gw`,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const scenario = scenarios[new URL(req.url ?? "/", "http://x").pathname.split("/")[1]!];
    if (!scenario) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, scenario));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function serve(ws: WebSocket, sc: Scenario): void {
  ws.send(sc.frames[0]!);
  let identified = false;
  ws.on("message", (data) => {
    const p = JSON.parse(String(data));
    if (p.op !== 2 || identified) return; // heartbeats are not acknowledged (the interval is 10 min)
    identified = true;
    for (let i = 1; i < sc.handshakeFrames; i++) ws.send(sc.frames[i]!);
    setTimeout(() => void pump(ws, sc.frames, sc.handshakeFrames), sc.pauseMs);
  });
  ws.on("error", () => {});
}

async function pump(ws: WebSocket, frames: Buffer[], from: number): Promise<void> {
  for (let i = from; i < frames.length; i++) {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(frames[i]!);
    if (ws.bufferedAmount > 4 * 1024 * 1024) {
      while (ws.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// children

interface RunResult {
  client: string;
  events: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  wallMs: number;
  maxRssMb: number;
  extra?: Record<string, number>;
}

function report(r: RunResult): never {
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  process.exit(0);
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

// Peak RSS by sampling: getrusage's maxRSS is inherited from the parent across fork/exec on
// Linux (the parent holds the pre-built frames), so it would not be this client's.
let peakRss = 0;
function samplePeak(): number {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return peakRss;
}
if (process.argv.some((a) => a.startsWith("--child="))) setInterval(samplePeak, 10).unref();

async function childGatewayNode(port: number, full: boolean): Promise<void> {
  const { createLogger } = await import("@spell-coven/common");
  const { DEFAULT_TUNING } = await import("../gateway-node/src/config.ts");
  const log = createLogger("ERROR", {}, () => {});
  const config = {
    token: TOKEN,
    guildIds: [GUILD],
    hubEndpoint: "http://127.0.0.1:9/unused",
    hubSecret: "x".repeat(32),
    logLevel: "ERROR" as const,
    healthPort: 0,
    healthHost: "127.0.0.1",
    apiBase: `http://127.0.0.1:${port}/stream/api/v10`,
    enableMessageEvents: false,
    messageContent: false,
    tuning: { ...DEFAULT_TUNING, outboxMaxPerGuild: 1_000_000 },
  };
  let dispatches = 0;
  let start: [NodeJS.CpuUsage, number] | null = null;
  const finish = (client: string, extra?: Record<string, number>) => {
    const cpu = process.cpuUsage(start![0]);
    report({
      client,
      events: dispatches,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      wallMs: performance.now() - start![1],
      maxRssMb: mb(samplePeak()),
      ...(extra ? { extra } : {}),
    });
  };
  if (!full) {
    // Shard + translate only: what the brief's comparison asks for.
    const { ShardManager } = await import("../gateway-node/src/gateway/manager.ts");
    const { Translator } = await import("../gateway-node/src/translate.ts");
    const { Metrics } = await import("../gateway-node/src/metrics.ts");
    let hubEvents = 0;
    const translator = new Translator([GUILD], () => void hubEvents++);
    const manager = new ShardManager({
      config,
      log,
      metrics: new Metrics(),
      onFatal: (e) => {
        console.error(e);
        process.exit(1);
      },
      onDispatch: (t, d, sid, seq) => {
        if (t === "GUILD_CREATE") start = [process.cpuUsage(), performance.now()];
        translator.handleDispatch(t, d, sid, seq);
        if (t === "VOICE_STATE_UPDATE" && ++dispatches === EVENTS) finish("gateway-node", { hubEvents });
      },
    });
    await manager.start();
    return;
  }
  const { startGatewayNode } = await import("../gateway-node/src/index.ts");
  let posted = 0;
  const node = await startGatewayNode(config, {
    log,
    health: false,
    poster: {
      async post(body: string) {
        posted++;
        return { kind: "ok", status: 200, accepted: body.length, duplicates: 0 };
      },
    },
  });
  const origin = node.metrics.dispatchesReceived.handle();
  // Start the clock at the first VOICE_STATE_UPDATE-era dispatch: poll cheaply.
  const timer = setInterval(() => {
    if (!start && node.translator.stats().guilds && origin.value >= 2) start = [process.cpuUsage(), performance.now()];
    dispatches = origin.value - 2;
    if (dispatches >= EVENTS) {
      void node.outbox.flush(10_000).then(() => {
        clearInterval(timer);
        finish("gateway-node full", { hubPosts: posted, hubEvents: node.metrics.eventsForwarded.total() });
      });
      clearInterval(timer);
    }
  }, 5);
}

async function childDjs(port: number): Promise<void> {
  const { WebSocketManager, CompressionMethod } = await import("@discordjs/ws");
  const { REST } = await import("@discordjs/rest");
  const rest = new REST({ api: `http://127.0.0.1:${port}/stream/api`, version: "10" }).setToken(TOKEN);
  const manager = new WebSocketManager({ token: TOKEN, intents: 129 as GatewayIntentBits, rest, compression: CompressionMethod.ZlibNative });
  let dispatches = 0;
  let start: [NodeJS.CpuUsage, number] | null = null;
  manager.on("dispatch" as any, (payload: { t: string }) => {
    if (payload.t === "GUILD_CREATE") start = [process.cpuUsage(), performance.now()];
    if (payload.t === "VOICE_STATE_UPDATE" && ++dispatches === EVENTS) {
      const cpu = process.cpuUsage(start![0]);
      report({
        client: "@discordjs/ws",
        events: dispatches,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        wallMs: performance.now() - start![1],
        maxRssMb: mb(samplePeak()),
      });
    }
  });
  await manager.connect();
}

async function childMemory(port: number): Promise<void> {
  const { createLogger } = await import("@spell-coven/common");
  const { DEFAULT_TUNING } = await import("../gateway-node/src/config.ts");
  const { startGatewayNode } = await import("../gateway-node/src/index.ts");
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const node = await startGatewayNode(
    {
      token: TOKEN,
      guildIds: [GUILD],
      hubEndpoint: "http://127.0.0.1:9/unused",
      hubSecret: "x".repeat(32),
      logLevel: "ERROR",
      healthPort: 0,
      healthHost: "127.0.0.1",
      apiBase: `http://127.0.0.1:${port}/mem/api/v10`,
      enableMessageEvents: false,
      messageContent: false,
      tuning: { ...DEFAULT_TUNING },
    },
    {
      log: createLogger("ERROR", {}, () => {}),
      poster: { post: async () => ({ kind: "ok", status: 200, accepted: 1, duplicates: 0 }) },
    },
  );
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  while (node.health().status !== "ok") await wait(10);
  await wait(300);
  gc();
  await wait(100);
  const idle = process.memoryUsage();
  while (node.translator.stats().voiceStates < MEM_STATES) await wait(20);
  await node.outbox.flush(5000);
  gc();
  await wait(200);
  const loaded = process.memoryUsage();
  report({
    client: "gateway-node memory",
    events: MEM_STATES,
    cpuUserMs: 0,
    cpuSystemMs: 0,
    wallMs: 0,
    maxRssMb: mb(samplePeak()),
    extra: {
      idleRssMb: mb(idle.rss),
      idleHeapMb: mb(idle.heapUsed),
      rss10kMb: mb(loaded.rss),
      heap10kMb: mb(loaded.heapUsed),
      voiceStates: node.translator.stats().voiceStates,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// parent

const CHILD_BUNDLE = fileURLToPath(new URL("../gateway-node/dist/bench-child.mjs", import.meta.url));

/**
 * Children run as plain JavaScript (an esbuild bundle of this file, node_modules packages left
 * external) as in production (see gateway-node/Dockerfile): no TypeScript loader in their RSS.
 */
async function buildChildBundle(): Promise<void> {
  const esbuild = await import("esbuild");
  // Workspace packages are TypeScript: bundle them (by their package.json exports), leave the rest external.
  const workspace: Record<string, string> = {
    "@spell-coven/common": "../common/src/index.ts",
    "@spell-coven/common/rest": "../common/src/rest/index.ts",
    "@spell-coven/sidecar-kit": "../sidecar-kit/src/index.ts",
  };
  const resolveWorkspace = (spec: string): string => {
    const mapped = workspace[spec] ?? `../common/src/${spec.split("/")[2]}.ts`;
    return fileURLToPath(new URL(mapped, import.meta.url));
  };
  await esbuild.build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outfile: CHILD_BUNDLE,
    packages: "external",
    logLevel: "warning",
    plugins: [
      {
        name: "workspace",
        setup: (b) => void b.onResolve({ filter: /^@spell-coven\/(common|sidecar-kit)(\/\w+)?$/ }, (a) => ({ path: resolveWorkspace(a.path) })),
      },
    ],
  });
}

function runChild(mode: string, port: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const flags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
    const child = spawn(process.execPath, ["--expose-gc", ...flags, CHILD_BUNDLE, `--child=${mode}`, `--port=${port}`], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, BENCH_EVENTS: String(EVENTS) },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const timeout = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${mode} timed out`));
    }, 180_000);
    child.on("exit", (code) => {
      clearTimeout(timeout);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line) return reject(new Error(`${mode} exited ${code}: ${out.slice(-500)}`));
      resolve(JSON.parse(line.slice(7)));
    });
  });
}

async function parent(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  console.log(`building ${EVENTS.toLocaleString()} VOICE_STATE_UPDATE dispatches (zlib-stream, one context)...`);
  await buildChildBundle();
  const hs = handshake();
  const stream = buildFrames([...hs, ...streamPayloads(EVENTS, 3)]);
  const memJoins = Array.from({ length: MEM_STATES }, (_, i) => voiceState(3 + i, i, CHANNELS[i % CHANNELS.length]!));
  const mem = buildFrames([...hs, ...memJoins]);
  const raw = stream.slice(3).reduce((n, f) => n + f.length, 0);
  console.log(
    `compressed stream: ${mb(raw)} MB on the wire (${Math.round(raw / EVENTS)} B/event; ~${JSON.stringify(streamPayloads(1, 3)[0]).length} B/event inflated)`,
  );
  const server = await startServer({ stream: { frames: stream, handshakeFrames: 3, pauseMs: 50 }, mem: { frames: mem, handshakeFrames: 3, pauseMs: 1500 } });
  const results: Record<string, RunResult[]> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of ["djs", "gn", "gn-full"]) {
        const res = await runChild(mode, server.port);
        (results[res.client] ??= []).push(res);
      }
    }
    const memory = await runChild("mem", server.port);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const per100k = (r: RunResult) => ((r.cpuUserMs + r.cpuSystemMs) / r.events) * 100_000;
    console.log(`\n${EVENTS.toLocaleString()} events per run, ${rounds} rounds, median shown (each client in its own child process)\n`);
    console.log("client               CPU ms/100k ev   (user+sys)   wall ms/100k   peak RSS MB");
    const summary: Record<string, number> = {};
    for (const [client, runs] of Object.entries(results)) {
      const cpu = median(runs.map(per100k));
      summary[client] = cpu;
      const wall = median(runs.map((r) => (r.wallMs / r.events) * 100_000));
      const rss = Math.max(...runs.map((r) => r.maxRssMb));
      console.log(
        `${client.padEnd(20)} ${cpu.toFixed(0).padStart(11)}   ${runs
          .map((r) => per100k(r).toFixed(0))
          .join("/")
          .padStart(16)}   ${wall.toFixed(0).padStart(12)}   ${rss.toFixed(1).padStart(11)}`,
      );
    }
    const base = summary["@discordjs/ws"]!;
    console.log(`\nratio gateway-node / @discordjs/ws (CPU per event): ${(summary["gateway-node"]! / base).toFixed(2)}x  (target <= 0.80x)`);
    console.log(`ratio gateway-node full (with outbox + validation) / @discordjs/ws: ${(summary["gateway-node full"]! / base).toFixed(2)}x`);
    const m = memory.extra!;
    console.log(
      `\ngateway-node memory: idle RSS ${m.idleRssMb} MB (target < 80), with ${m.voiceStates} cached voice states ${m.rss10kMb} MB (target < 150); heap ${m.idleHeapMb} -> ${m.heap10kMb} MB; peak ${memory.maxRssMb} MB`,
    );
  } finally {
    await server.close();
  }
}

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const childMode = arg("child");
if (childMode) {
  const port = Number(arg("port"));
  const run =
    childMode === "djs"
      ? childDjs(port)
      : childMode === "gn"
        ? childGatewayNode(port, false)
        : childMode === "gn-full"
          ? childGatewayNode(port, true)
          : childMemory(port);
  run.catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  await parent();
}
