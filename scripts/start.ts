/**
 * `npm start`: the whole system on this machine.
 *
 * Without DISCORD_BOT_TOKEN (in the environment or .dev.vars) it starts the Discord simulator
 * (Gateway, REST, identity provider), the Worker under `wrangler dev`, and gateway-node, wired
 * together on loopback. With a token, the simulator is skipped and the same Worker and sidecar
 * talk to Discord using .dev.vars. Ctrl-C stops everything cleanly.
 */
import { writeFileSync } from "node:fs";
import { readEnvFile } from "./lib/processes.ts";
import { LOCAL_RUN_FILE, type LocalRun } from "./lib/local-run.ts";
import { startLocalSystem, type LocalSystem } from "./lib/local-system.ts";

const settings: Record<string, string | undefined> = { ...readEnvFile(".dev.vars"), ...process.env };
const REQUIRED_FOR_DISCORD = ["PRIMARY_GUILD_ID", "HUB_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_PUBLIC_JWK_URL"];
let system: LocalSystem | undefined;
let stopping = false;

async function main() {
  let discord: Record<string, string> | undefined;
  if (settings.DISCORD_BOT_TOKEN) {
    console.log("DISCORD_BOT_TOKEN is set: talking to Discord (no simulator).");
    const missing = REQUIRED_FOR_DISCORD.filter((n) => !settings[n]);
    if (missing.length) throw new Error(`${missing.join(", ")} must be set in .dev.vars or the environment when DISCORD_BOT_TOKEN is set (see .dev.vars.example).`);
    discord = Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => e[1] !== undefined && /^(DISCORD_|PRIMARY_GUILD_ID|HUB_SECRET|JWT_|VITE_BASE_URL|LOG_LEVEL|MAX_|WS_|ROOM_|SHARD_|ENABLE_MESSAGE_EVENTS|OUTBOX_)/.test(e[0])));
  }

  system = await startLocalSystem({
    workerPort: Number(settings.WORKER_PORT ?? 8787),
    simulatorPort: Number(settings.SIM_PORT ?? 8790),
    gatewayHealthPort: Number(settings.HEALTH_CHECK_PORT ?? 8081),
    stateDir: ".wrangler",
    ...(discord ? { discord } : {}),
    ...(settings.LOG_LEVEL ? { logLevel: settings.LOG_LEVEL } : {}),
  });
  if (system.simulator) console.log(`Discord simulator on ${system.simulator.url} (no Discord account needed).`);
  await system.startWorker();
  await system.startGateway();
  await system.startRtc();

  const localRun: LocalRun = { workerUrl: system.workerUrl, controlUrl: system.simulator?.url ?? null, guildId: system.vars.PRIMARY_GUILD_ID!.split(",")[0]!, hubSecret: system.vars.HUB_SECRET! };
  writeFileSync(LOCAL_RUN_FILE, JSON.stringify(localRun, null, 2), { mode: 0o600 });

  console.log(`
  Spell Coven Gateway is running.
    Lobby (players open this)    ${system.workerUrl}/
    Worker API, /api/ws          ${system.workerUrl}/api
    gateway-node health          ${system.gatewayHealthUrl}/health${system.rtcHealthUrl ? `
    rtc-node (table bot) health  ${system.rtcHealthUrl}/health` : ""}${system.simulator ? `
    Discord simulator control    ${system.simulator.url}/` : ""}

  Next: open the lobby and ${system.simulator ? "sign in as a simulated player (alice, bob...), create a table," : "sign in,"}
  then ${system.simulator ? "on the simulator control page make a user join its voice channel: the lobby shows it live" : "join its voice channel in Discord"}.
  In a terminal: \`npm run watch\` prints every event a player receives; \`npm run dev-token -- bob\`
  prints a development JWT; \`npm run post-event\` posts a signed test event. Ctrl-C stops everything.
`);

  const exit = await system.unexpectedExit;
  if (!stopping) {
    console.error(`${exit.name} exited with code ${exit.code}; stopping the rest.`);
    await shutdown(1);
  }
}

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  await system?.stop();
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
main().catch(async (err) => {
  console.error(`npm start failed: ${(err as Error).message}`);
  await shutdown(1);
});
