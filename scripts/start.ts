/**
 * `npm start`: the whole system on this machine.
 *
 * Without DISCORD_BOT_TOKEN (in the environment or .dev.vars) it starts the Discord simulator
 * (Gateway, REST, identity provider), the Worker under `wrangler dev`, and gateway-node, wired
 * together on loopback. With a token, the simulator is skipped and the same Worker and sidecar
 * talk to Discord using .dev.vars.
 *
 * It checks before it touches anything: a second run from the same directory, or a port that is
 * taken, stops it with a message saying which and how to choose another (nothing of the first run
 * is overwritten). SIGINT, SIGTERM or SIGHUP (to it or to npm) stop every child and free the ports.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JWK } from "jose";
import { portTaken } from "./lib/free-port.ts";
import { lockRunDir, runDir, unlockRunDir, writeLocalRun } from "./lib/local-run.ts";
import { startLocalSystem, type LocalSystem } from "./lib/local-system.ts";
import { isAlive, launchers, readEnvFile } from "./lib/processes.ts";

const settings: Record<string, string | undefined> = { ...readEnvFile(".dev.vars"), ...process.env };
const REQUIRED_FOR_DISCORD = ["PRIMARY_GUILD_ID", "HUB_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_PUBLIC_JWK_URL"];
/** Worker and gateway-node tunables that apply with the simulator too (the rest it sets itself). */
const TUNABLES = /^(ROOM_|MAX_API_RETRIES$|MAX_WS_RECONNECT_ATTEMPTS$|WS_AUTH_TIMEOUT_MS$|LOG_LEVEL$|OUTBOX_|ENABLE_MESSAGE_EVENTS$)/;
const dir = runDir(settings);
let system: LocalSystem | undefined;
let locked = false;
let stopping = false;

const ports = {
  WORKER_PORT: Number(settings.WORKER_PORT ?? 8787),
  SIM_PORT: Number(settings.SIM_PORT ?? 8790),
  HEALTH_CHECK_PORT: Number(settings.HEALTH_CHECK_PORT ?? 8081),
};

async function main() {
  let discord: Record<string, string> | undefined;
  if (settings.DISCORD_BOT_TOKEN) {
    console.log("DISCORD_BOT_TOKEN is set: talking to Discord (no simulator).");
    const missing = REQUIRED_FOR_DISCORD.filter((n) => !settings[n]);
    if (missing.length)
      throw new Error(`${missing.join(", ")} must be set in .dev.vars or the environment when DISCORD_BOT_TOKEN is set (see .dev.vars.example).`);
    discord = Object.fromEntries(
      Object.entries(settings).filter(
        (e): e is [string, string] =>
          e[1] !== undefined &&
          /^(DISCORD_|PRIMARY_GUILD_ID|HUB_SECRET|JWT_|VITE_BASE_URL|LOG_LEVEL|MAX_|WS_|ROOM_|SHARD_|ENABLE_MESSAGE_EVENTS|MESSAGE_CONTENT_INTENT|OUTBOX_)/.test(
            e[0],
          ),
      ),
    );
  }

  // Nothing is written before these checks pass: a second run must not damage the first.
  lockRunDir(dir);
  locked = true;
  for (const [name, port] of Object.entries(ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${settings[name]} is not a port number.`);
    if (name === "SIM_PORT" && discord) continue;
    if (await portTaken(port)) {
      throw new Error(
        `Port ${port} (${name}) is taken: another \`npm start\`, or some other program, listens on it. Choose another with ${name}=<port> (in the environment or .dev.vars), e.g. ${name}=${port + 10} npm start`,
      );
    }
  }

  const workerVars = discord ? undefined : tunables();
  system = await startLocalSystem({
    workerPort: ports.WORKER_PORT,
    simulatorPort: ports.SIM_PORT,
    gatewayHealthPort: ports.HEALTH_CHECK_PORT,
    stateDir: dir,
    // The simulator starts empty each time, so the Worker does too (no ghost tables). With real
    // Discord the Worker's state is kept: Discord keeps its channels.
    resetState: !discord,
    ...(discord ? { discord } : { simulatorSigningKey: await signingKey() }),
    ...(workerVars ? { workerVars } : {}),
    ...(settings.LOG_LEVEL ? { logLevel: settings.LOG_LEVEL } : {}),
  });
  if (system.simulator)
    console.log(`Discord simulator on ${system.simulator.url} (no Discord account needed); the Worker's local state was reset to match it.`);
  if (workerVars && Object.keys(workerVars).length)
    console.log(
      `From .dev.vars / the environment: ${Object.entries(workerVars)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
  await system.startWorker();
  await system.startGateway();
  await system.startRtc();

  writeLocalRun(dir, {
    workerUrl: system.workerUrl,
    controlUrl: system.simulator?.url ?? null,
    guildId: system.vars.PRIMARY_GUILD_ID!.split(",")[0]!,
    hubSecret: system.vars.HUB_SECRET!,
  });

  console.log(`
  Spell Coven Gateway is running.
    Lobby (players open this)    ${system.workerUrl}/
    Worker API, /api/ws          ${system.workerUrl}/api
    gateway-node health          ${system.gatewayHealthUrl}/health${
      system.rtcHealthUrl
        ? `
    rtc-node (table bot) health  ${system.rtcHealthUrl}/health`
        : ""
    }${
      system.simulator
        ? `
    Discord simulator control    ${system.simulator.url}/`
        : ""
    }

  Next: open the lobby and ${system.simulator ? "sign in as a simulated player (alice, bob...), create a table," : "sign in,"}
  then ${system.simulator ? "on the simulator control page make a user join its voice channel: the lobby shows it live" : "join its voice channel in Discord"}.
  In a terminal: \`npm run watch\` prints every event a player receives; \`npm run dev-token -- bob\`
  prints a development JWT; \`npm run post-event -- snapshot\` posts a signed test event. Ctrl-C stops everything.
`);

  const exit = await system.unexpectedExit;
  if (!stopping) {
    console.error(`${exit.name} exited with code ${exit.code}; stopping the rest.`);
    await shutdown(1);
  }
}

/** .dev.vars settings that mean the same with the simulator (ROOM_IDLE_SECONDS, say). */
function tunables(): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "" && TUNABLES.test(e[0])));
}

/** The simulator's signing key, kept in the run directory: a restart does not sign every open lobby out. */
async function signingKey(): Promise<JWK> {
  const file = join(dir, "simulator-signing-key.json");
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as JWK;
    } catch {
      // unreadable: make a new one
    }
  }
  const { newSigningKey } = await import("@spell-coven/simulator");
  const key = await newSigningKey();
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  try {
    await system?.stop();
  } finally {
    if (locked) unlockRunDir(dir);
    process.exit(code);
  }
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void shutdown(0));

// `kill <npm's pid>`: npm exits at once without passing the signal on, leaving this process (and
// wrangler, workerd, gateway-node) running. Noticing it is our job.
const parents = launchers();
if (parents.length) {
  setInterval(() => {
    const gone = parents.find((pid) => !isAlive(pid));
    if (gone === undefined || stopping) return;
    console.error(`npm (or tsx, pid ${gone}) was stopped: stopping everything.`);
    void shutdown(0);
  }, 500).unref();
}

main().catch(async (err) => {
  console.error(`npm start failed: ${(err as Error).message}`);
  await shutdown(1);
});
