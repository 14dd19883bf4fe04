/**
 * `npm start`: the whole system on this machine.
 *
 * Without DISCORD_BOT_TOKEN (in the environment or .dev.vars) it starts the Discord simulator
 * (Gateway, REST, identity provider), the Worker under `wrangler dev`, and gateway-node, wired
 * together on loopback. With a token, the simulator is skipped and the same Worker and sidecar
 * talk to Discord using .dev.vars. Ctrl-C stops everything cleanly.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { exited, readEnvFile, run, waitForHttp } from "./lib/processes.ts";
import { LOCAL_RUN_FILE, type LocalRun } from "./lib/local-run.ts";

const WORKER_PORT = Number(process.env.WORKER_PORT ?? 8787);
const SIM_PORT = Number(process.env.SIM_PORT ?? 8790);
const GATEWAY_HEALTH_PORT = Number(process.env.HEALTH_CHECK_PORT ?? 8081);
const host = "127.0.0.1";

const devVars = readEnvFile(".dev.vars");
const settings: Record<string, string | undefined> = { ...devVars, ...process.env };
const children: ChildProcess[] = [];
let closeSimulator: (() => Promise<void>) | undefined;
let stopping = false;

async function main() {
  const workerUrl = `http://${host}:${WORKER_PORT}`;
  let vars: Record<string, string>;
  let controlUrl: string | undefined;

  if (settings.DISCORD_BOT_TOKEN) {
    console.log("DISCORD_BOT_TOKEN is set: talking to Discord (no simulator).");
    for (const name of ["PRIMARY_GUILD_ID", "HUB_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_PUBLIC_JWK_URL"]) {
      if (!settings[name]) throw new Error(`${name} must be set in .dev.vars or the environment when DISCORD_BOT_TOKEN is set (see .dev.vars.example).`);
    }
    vars = Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => e[1] !== undefined && isWorkerVar(e[0])));
  } else {
    const { startSimulator, DEMO_GUILD_ID } = await import("@spell-coven/simulator");
    const sim = await startSimulator({ port: SIM_PORT, host, jwt: { audience: "spell-coven-web" } });
    closeSimulator = () => sim.close();
    controlUrl = sim.url;
    vars = {
      DISCORD_BOT_TOKEN: sim.botToken,
      DISCORD_API_BASE: sim.apiBase,
      PRIMARY_GUILD_ID: DEMO_GUILD_ID,
      HUB_SECRET: settings.HUB_SECRET ?? randomBytes(32).toString("hex"),
      JWT_ISSUER: sim.jwtIssuer,
      JWT_AUDIENCE: sim.jwtAudience,
      JWT_PUBLIC_JWK_URL: sim.jwksUrl,
      VITE_BASE_URL: settings.VITE_BASE_URL ?? workerUrl,
      LOG_LEVEL: settings.LOG_LEVEL ?? "INFO",
    };
    console.log(`Discord simulator on ${sim.url} (no Discord account needed).`);
  }

  // Secrets go to wrangler through a private env file, never through argv or logs.
  mkdirSync(".wrangler", { recursive: true });
  const envFile = ".wrangler/local-run.env";
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", { mode: 0o600 });

  const worker = run("worker", "wrangler", ["dev", "--port", String(WORKER_PORT), "--ip", host, "--env-file", envFile, "--show-interactive-dev-session=false"], {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  });
  children.push(worker);
  await waitForHttp(`${workerUrl}/health`, 60_000, () => worker.exitCode !== null);

  const gateway = run("gateway-node", "tsx", ["gateway-node/src/main.ts"], {
    ...process.env,
    DISCORD_BOT_TOKEN: vars.DISCORD_BOT_TOKEN,
    DISCORD_API_BASE: vars.DISCORD_API_BASE ?? "https://discord.com/api/v10",
    PRIMARY_GUILD_ID: vars.PRIMARY_GUILD_ID,
    HUB_ENDPOINT: `${workerUrl}/api/internal/events`,
    HUB_SECRET: vars.HUB_SECRET,
    HEALTH_CHECK_PORT: String(GATEWAY_HEALTH_PORT),
    LOG_LEVEL: vars.LOG_LEVEL ?? "INFO",
  });
  children.push(gateway);
  await waitForHttp(`http://${host}:${GATEWAY_HEALTH_PORT}/health`, 30_000, () => gateway.exitCode !== null);

  const localRun: LocalRun = { workerUrl, controlUrl: controlUrl ?? null, guildId: vars.PRIMARY_GUILD_ID!, hubSecret: vars.HUB_SECRET! };
  writeFileSync(LOCAL_RUN_FILE, JSON.stringify(localRun, null, 2), { mode: 0o600 });

  console.log(`
  Spell Coven Gateway is running.
    Worker (edge API, /api/ws)   ${workerUrl}
    gateway-node health          http://${host}:${GATEWAY_HEALTH_PORT}/health${controlUrl ? `
    Discord simulator control    ${controlUrl}/` : ""}

  Next: in another terminal run \`npm run watch\` to see live events as a player would,
  then ${controlUrl ? "open the simulator control page and make a user join a voice channel" : "join a voice channel in your Discord guild"}.
  \`npm run dev-token -- <userId>\` prints a development JWT; \`npm run post-event\` posts a signed test event.
  Ctrl-C stops everything.
`);

  const first = await Promise.race(children.map(async (c, i) => ({ i, code: await exited(c) })));
  if (!stopping) {
    console.error(`${first.i === 0 ? "wrangler dev" : "gateway-node"} exited with code ${first.code}; stopping the rest.`);
    await shutdown(1);
  }
}

function isWorkerVar(name: string): boolean {
  return /^(DISCORD_|PRIMARY_GUILD_ID|HUB_SECRET|JWT_|VITE_BASE_URL|LOG_LEVEL|MAX_)/.test(name);
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  // gateway-node flushes its outbox on SIGTERM, so it stops before the Worker it posts to.
  for (const child of [...children].reverse()) {
    child.kill("SIGTERM");
    await Promise.race([exited(child), new Promise((r) => setTimeout(r, 12_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  await closeSimulator?.();
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
main().catch(async (err) => {
  console.error(`npm start failed: ${(err as Error).message}`);
  await shutdown(1);
});
