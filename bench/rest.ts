/**
 * REST client benchmark: DiscordRestClient vs @discordjs/rest against the Discord simulator with
 * tight limits.  `npx tsx bench/rest.ts [--calls 500] [--channels 50] [--procs 4]`
 *
 * 1. One process: the same burst (mixed: messages, typing, GET channel over N channels) through
 *    each client; prints wall time, requests sent, 429s received, and the wall-time ratio.
 * 2. The burst split across P simultaneous processes, each with its own client:
 *    DiscordRestClient processes share one rate-limit state through a loopback coordinator
 *    server (HttpCoordinator -> coordinatorHandler, the same RateLimitState the Worker's Durable
 *    Object runs); @discordjs/rest processes each keep their own. Prints 429s for both.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { REST } from "@discordjs/rest";
import { Routes } from "discord-api-types/v10";
import { startSimulator, DEMO_GUILD_ID } from "@spell-coven/simulator";
import { createLogger } from "@spell-coven/common";
import { DiscordRestClient, HttpCoordinator, coordinatorHandler } from "@spell-coven/common/rest";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LIMITS = { globalPerSecond: arg("global", 50), routeLimit: arg("route-limit", 5), routeWindowMs: arg("route-window", 1000) };

type Call = { kind: "message" | "typing" | "get"; channel: string; n: number };

/** 10 calls per channel: 5 messages, 3 typing, 2 GET channel; interleaved across channels. */
function burst(channels: string[], calls: number): Call[] {
  const kinds: Call["kind"][] = ["message", "typing", "message", "get", "message", "typing", "message", "get", "message", "typing"];
  const out: Call[] = [];
  for (let i = 0; out.length < calls; i++) {
    const ch = channels[i % channels.length]!;
    const round = Math.floor(i / channels.length);
    out.push({ kind: kinds[round % kinds.length]!, channel: ch, n: i });
  }
  return out;
}

interface Runner {
  run(c: Call): Promise<unknown>;
}

function ours(apiBase: string, token: string, coordinatorUrl?: string): Runner {
  const client = new DiscordRestClient({
    token,
    apiBase,
    logger: createLogger("WARN"),
    rateLimits: { globalPerSecond: LIMITS.globalPerSecond },
    ...(coordinatorUrl && { coordinator: new HttpCoordinator(coordinatorUrl) }),
  });
  return {
    run: (c) =>
      c.kind === "message"
        ? client.sendMessage(c.channel, `bench ${c.n}`)
        : c.kind === "typing"
          ? client.triggerTyping(c.channel)
          : client.request("GET", `/channels/${c.channel}`),
  };
}

function djs(apiBase: string, token: string): Runner {
  const rest = new REST({ api: apiBase.replace(/\/v10$/, ""), version: "10", globalRequestsPerSecond: LIMITS.globalPerSecond }).setToken(token);
  return {
    run: (c) =>
      c.kind === "message"
        ? rest.post(Routes.channelMessages(c.channel), { body: { content: `bench ${c.n}` } })
        : c.kind === "typing"
          ? rest.post(Routes.channelTyping(c.channel))
          : rest.get(Routes.channel(c.channel)),
  };
}

async function timeBurst(runner: Runner, calls: Call[]): Promise<{ ms: number; errors: number }> {
  const t0 = performance.now();
  const results = await Promise.allSettled(calls.map((c) => runner.run(c)));
  const errors = results.filter((r) => r.status === "rejected");
  if (errors.length) console.error("  first error:", (errors[0] as PromiseRejectedResult).reason?.message);
  return { ms: performance.now() - t0, errors: errors.length };
}

// ------------------------------------------------------------------ child process mode
if (process.argv[2] === "--child") {
  const cfg = JSON.parse(process.argv[3]!) as {
    limits: typeof LIMITS;
    mode: "ours" | "djs";
    apiBase: string;
    token: string;
    coordinatorUrl?: string;
    calls: Call[];
  };
  Object.assign(LIMITS, cfg.limits);
  const runner = cfg.mode === "ours" ? ours(cfg.apiBase, cfg.token, cfg.coordinatorUrl) : djs(cfg.apiBase, cfg.token);
  process.stdout.write("ready\n");
  process.stdin.once("data", async () => {
    const r = await timeBurst(runner, cfg.calls);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  });
} else {
  await main();
}

async function main() {
  const CALLS = arg("calls", 500);
  const CHANNELS = arg("channels", 50);
  const PROCS = arg("procs", 4);
  const sim = await startSimulator({ seed: true, rateLimits: LIMITS });
  const channels = Array.from({ length: CHANNELS }, (_, i) => sim.addChannel(DEMO_GUILD_ID, { name: `bench-${i}`, type: 0 }).id);
  const calls = burst(channels, CALLS);
  console.log(
    `simulator limits: global ${LIMITS.globalPerSecond}/s, route ${LIMITS.routeLimit} per ${LIMITS.routeWindowMs} ms; burst: ${calls.length} calls over ${CHANNELS} channels\n`,
  );

  const stats = () => {
    const r = sim.requests();
    return { sent: r.length, r429: r.filter((x) => x.status === 429).length, global429: r.filter((x) => x.status === 429 && x.bucket === null).length };
  };
  const reset = () => {
    sim.setRateLimits(LIMITS); // fresh windows
    sim.clearRequests();
  };

  // ---- 1. one process
  console.log("1) one process, same burst");
  const results: Record<string, number> = {};
  for (const [name, make] of [
    ["DiscordRestClient", () => ours(sim.apiBase, sim.botToken)],
    ["@discordjs/rest  ", () => djs(sim.apiBase, sim.botToken)],
  ] as const) {
    reset();
    await new Promise((r) => setTimeout(r, 1100)); // let the simulator's global window pass
    reset();
    const { ms, errors } = await timeBurst(make(), calls);
    const s = stats();
    results[name.trim()] = ms;
    console.log(
      `   ${name}  wall ${ms.toFixed(0).padStart(6)} ms   requests ${String(s.sent).padStart(4)}   429s ${s.r429} (global ${s.global429})   errors ${errors}`,
    );
  }
  console.log(`   wall-time ratio DiscordRestClient / @discordjs/rest = ${(results.DiscordRestClient! / results["@discordjs/rest"]!).toFixed(3)}\n`);

  // ---- 2. several processes
  console.log(`2) ${PROCS} simultaneous processes, burst split between them`);
  const coord = coordinatorHandler({ globalPerSecond: LIMITS.globalPerSecond });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const out = coord.handle((req.url ?? "").replace(/^\//, ""), JSON.parse(Buffer.concat(chunks).toString() || "{}"));
      res.writeHead(out.status, { "Content-Type": "application/json" }).end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const coordinatorUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const mode of ["ours", "djs"] as const) {
    reset();
    await new Promise((r) => setTimeout(r, 1100));
    const children = Array.from({ length: PROCS }, (_, p) => {
      const share = calls.filter((_, i) => i % PROCS === p);
      const cfg = {
        limits: LIMITS,
        mode,
        apiBase: sim.apiBase,
        token: sim.botToken,
        coordinatorUrl: mode === "ours" ? coordinatorUrl : undefined,
        calls: share,
      };
      const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", JSON.stringify(cfg)], {
        stdio: ["pipe", "pipe", "inherit"],
      });
      const lines: string[] = [];
      let buf = "";
      const ready = new Promise<void>((resolve) => {
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          let i: number;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line === "ready") resolve();
            else lines.push(line);
          }
        });
      });
      const done = new Promise<{ ms: number; errors: number }>((resolve, reject) => {
        child.on("exit", () => (lines.length ? resolve(JSON.parse(lines.at(-1)!)) : reject(new Error("child failed"))));
      });
      const timer = setTimeout(() => child.kill(), 120_000);
      done.finally(() => clearTimeout(timer)).catch(() => {});
      return { child, ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    reset();
    const t0 = performance.now();
    for (const c of children) c.child.stdin.write("go\n");
    const outs = await Promise.all(children.map((c) => c.done));
    const ms = performance.now() - t0;
    const s = stats();
    const label = mode === "ours" ? "DiscordRestClient (shared coordinator)" : "@discordjs/rest (each process alone) ";
    console.log(
      `   ${label}  wall ${ms.toFixed(0).padStart(6)} ms   requests ${String(s.sent).padStart(4)}   429s ${s.r429} (global ${s.global429})   errors ${outs.reduce((a, o) => a + o.errors, 0)}`,
    );
  }
  server.close();
  await sim.close();
}
