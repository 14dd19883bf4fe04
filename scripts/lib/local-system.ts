/**
 * The whole system on loopback, as `npm start` runs it and as the end-to-end tests drive it:
 * the Discord simulator (in this process), the Worker under `wrangler dev` and gateway-node (each
 * its own process). Every piece can be stopped and started again to rehearse outages.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import type { Simulator } from "@spell-coven/simulator";
import { exited, processTree, recentOutput, run, waitForHttp } from "./processes.ts";
import { freePort } from "./free-port.ts";

export interface LocalSystemOptions {
  host?: string;
  workerPort: number;
  /**
   * gateway-node's health port; 0 picks a free one when it first starts (late, so that the
   * ports wrangler dev binds meanwhile cannot take it), then keeps it across restarts.
   */
  gatewayHealthPort: number;
  /** Start the simulator on this port (0 = any). Omit `simulatorPort` and pass `discord` to use real Discord. */
  simulatorPort?: number;
  /** Settings for real Discord (token, guild, identity provider); the simulator is not started. */
  discord?: Record<string, string>;
  /** Where wrangler keeps Durable Object state and the private env file. */
  stateDir: string;
  logLevel?: string;
  /** Prefix child output with [worker] / [gateway-node]; off in tests. */
  quiet?: boolean;
  /** Extra Worker settings (tests shorten room timers this way). */
  workerVars?: Record<string, string>;
  /**
   * Start the Worker with empty local state (Durable Objects). The simulator always starts empty,
   * so a Worker keeping yesterday's tables would show ghosts.
   */
  resetState?: boolean;
  /** The simulator's JWT signing key (private JWK), so tokens it minted before a restart stay valid. */
  simulatorSigningKey?: import("jose").JWK;
  /** "development": the lobby is built with React's development build (its warnings reach the console). Default production. */
  lobbyBuild?: "development" | "production";
}

export interface LocalSystem {
  workerUrl: string;
  gatewayHealthUrl: string;
  simulator: Simulator | null;
  /** The settings the Worker runs with (contains secrets: never log it). */
  vars: Record<string, string>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Freezes wrangler dev and everything under it (SIGSTOP): sockets stay open, nothing answers. */
  pauseWorker(): void;
  resumeWorker(): void;
  startGateway(): Promise<void>;
  stopGateway(signal?: NodeJS.Signals): Promise<number | null>;
  /** rtc-node (the table bot), with the simulator only; null URL without it. */
  readonly rtcHealthUrl: string | null;
  startRtc(): Promise<void>;
  stopRtc(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves when wrangler or gateway-node exits without being asked to. */
  unexpectedExit: Promise<{ name: string; code: number | null }>;
  stop(): Promise<void>;
}

export async function startLocalSystem(opts: LocalSystemOptions): Promise<LocalSystem> {
  const host = opts.host ?? "127.0.0.1";
  const workerUrl = `http://${host}:${opts.workerPort}`;
  let gatewayPort = opts.gatewayHealthPort;
  let simulator: Simulator | null = null;
  let vars: Record<string, string>;

  if (opts.discord) {
    vars = { ...opts.discord };
  } else {
    const { startSimulator, DEMO_GUILD_ID } = await import("@spell-coven/simulator");
    simulator = await startSimulator({
      port: opts.simulatorPort ?? 0,
      host,
      ...(opts.simulatorSigningKey ? { jwt: { signingKey: opts.simulatorSigningKey } } : {}),
    });
    vars = {
      DISCORD_BOT_TOKEN: simulator.botToken,
      DISCORD_API_BASE: simulator.apiBase,
      PRIMARY_GUILD_ID: DEMO_GUILD_ID,
      HUB_SECRET: randomBytes(32).toString("hex"),
      JWT_ISSUER: simulator.jwtIssuer,
      JWT_AUDIENCE: simulator.jwtAudience,
      JWT_PUBLIC_JWK_URL: simulator.jwksUrl,
      VITE_BASE_URL: workerUrl,
      LOG_LEVEL: opts.logLevel ?? "INFO",
      DEV_IDENTITY_URL: simulator.url,
      // "Open in Discord" opens the simulator's page (it serves /channels/<guild>/<channel>).
      DISCORD_WEB_URL: simulator.url,
      // Table chat: the simulated bot holds every intent it asks for, MESSAGE_CONTENT included.
      ENABLE_MESSAGE_EVENTS: "true",
      MESSAGE_CONTENT_INTENT: "true",
    };
  }
  Object.assign(vars, opts.workerVars);

  // The table bot (rtc-node) runs with the simulator: gateway-node offers it the voice link, and
  // the Worker calls it at RTC_NODE_URL.
  const voice = (simulator as (Simulator & { voice?: { certificate: { caFile: string } } | null }) | null)?.voice;
  const rtc = voice
    ? { linkToken: randomBytes(32).toString("hex"), linkPort: await freePort(), controlPort: await freePort(), healthPort: 0, caFile: voice.certificate.caFile }
    : null;
  if (rtc) vars.RTC_NODE_URL ??= `http://${host}:${rtc.controlPort}`;

  // Secrets reach wrangler through a private env file, never argv or logs.
  mkdirSync(opts.stateDir, { recursive: true });
  if (opts.resetState) rmSync(join(opts.stateDir, "state"), { recursive: true, force: true });
  const envFile = join(opts.stateDir, "local-run.env");
  writeFileSync(
    envFile,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );

  let worker: ChildProcess | null = null;
  let gateway: ChildProcess | null = null;
  let rtcNode: ChildProcess | null = null;
  const expected = new Set<ChildProcess>();
  let reportExit!: (e: { name: string; code: number | null }) => void;
  const unexpectedExit = new Promise<{ name: string; code: number | null }>((r) => (reportExit = r));
  const watch = (name: string, child: ChildProcess) =>
    void exited(child).then((code) => {
      if (!expected.has(child)) reportExit({ name, code });
    });
  const stopChild = async (child: ChildProcess | null, sig: NodeJS.Signals = "SIGTERM") => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    expected.add(child);
    // Everything below it too (workerd under wrangler, node under tsx): whatever outlives its
    // parent is killed, so no port stays held.
    const tree = child.pid ? processTree(child.pid).slice(1) : [];
    child.kill(sig);
    const timer = setTimeout(() => child.kill("SIGKILL"), 12_000);
    const code = await exited(child);
    clearTimeout(timer);
    for (const pid of tree) signal(pid, "SIGKILL");
    return code;
  };

  const system: LocalSystem = {
    workerUrl,
    get gatewayHealthUrl() {
      return `http://${host}:${gatewayPort}`;
    },
    simulator,
    vars,
    unexpectedExit,
    async startWorker() {
      worker = run(
        opts.quiet ? null : "worker",
        "wrangler",
        [
          "dev",
          "--port",
          String(opts.workerPort),
          "--ip",
          host,
          "--env-file",
          envFile,
          "--persist-to",
          join(opts.stateDir, "state"),
          "--show-interactive-dev-session=false",
        ],
        {
          ...process.env,
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          LOBBY_BUILD: opts.lobbyBuild ?? "production",
        },
      );
      watch("wrangler dev", worker);
      await waitForHttp(`${workerUrl}/health`, 60_000, () => worker!.exitCode !== null).catch((err: Error) => {
        throw new Error(`${err.message}; wrangler dev said:\n${recentOutput(worker!)}`);
      });
    },
    async stopWorker() {
      await stopChild(worker);
    },
    pauseWorker() {
      if (!worker?.pid) throw new Error("wrangler dev is not running");
      for (const pid of processTree(worker.pid)) signal(pid, "SIGSTOP");
    },
    resumeWorker() {
      if (!worker?.pid) throw new Error("wrangler dev is not running");
      for (const pid of processTree(worker.pid).reverse()) signal(pid, "SIGCONT");
    },
    async startGateway() {
      if (gatewayPort === 0) gatewayPort = await freePort();
      const gatewayOnly = Object.fromEntries(Object.entries(vars).filter(([k]) => /^(SHARD_|ENABLE_MESSAGE_EVENTS|MESSAGE_CONTENT_INTENT|OUTBOX_)/.test(k)));
      gateway = run(opts.quiet ? null : "gateway-node", "tsx", ["gateway-node/src/main.ts"], {
        ...process.env,
        ...gatewayOnly,
        DISCORD_BOT_TOKEN: vars.DISCORD_BOT_TOKEN,
        DISCORD_API_BASE: vars.DISCORD_API_BASE ?? "https://discord.com/api/v10",
        PRIMARY_GUILD_ID: vars.PRIMARY_GUILD_ID,
        HUB_ENDPOINT: `${workerUrl}/api/internal/events`,
        HUB_SECRET: vars.HUB_SECRET,
        HEALTH_CHECK_PORT: String(gatewayPort),
        HEALTH_CHECK_HOST: host,
        LOG_LEVEL: vars.LOG_LEVEL ?? "INFO",
        ...(rtc ? { LINK_TOKEN: rtc.linkToken, LINK_PORT: String(rtc.linkPort), LINK_HOST: host } : {}),
      });
      watch("gateway-node", gateway);
      await waitForHttp(`${system.gatewayHealthUrl}/health`, 30_000, () => gateway!.exitCode !== null).catch((err: Error) => {
        throw new Error(`${err.message}; gateway-node said:\n${recentOutput(gateway!)}`);
      });
    },
    stopGateway: (signal) => stopChild(gateway, signal),
    get rtcHealthUrl() {
      return rtc?.healthPort ? `http://${host}:${rtc.healthPort}` : null;
    },
    async startRtc() {
      if (!rtc) return;
      if (rtc.healthPort === 0) rtc.healthPort = await freePort();
      rtcNode = run(opts.quiet ? null : "rtc-node", "tsx", ["rtc-node/src/main.ts"], {
        ...process.env,
        // @discordjs/voice opens wss:// to the simulator's voice server without options: Node
        // must trust its self-signed CA from the start.
        NODE_EXTRA_CA_CERTS: rtc.caFile,
        GATEWAY_WS_URL: `ws://${host}:${rtc.linkPort}`,
        LINK_TOKEN: rtc.linkToken,
        HUB_ENDPOINT: workerUrl,
        HUB_SECRET: vars.HUB_SECRET,
        HEALTH_CHECK_PORT: String(rtc.healthPort),
        HEALTH_CHECK_HOST: host,
        RTC_CONTROL_PORT: String(rtc.controlPort),
        RTC_CONTROL_HOST: host,
        LOG_LEVEL: vars.LOG_LEVEL ?? "INFO",
      });
      watch("rtc-node", rtcNode);
      await waitForHttp(`http://${host}:${rtc.healthPort}/health`, 30_000, () => rtcNode!.exitCode !== null).catch((err: Error) => {
        throw new Error(`${err.message}; rtc-node said:\n${recentOutput(rtcNode!)}`);
      });
    },
    stopRtc: (signal) => stopChild(rtcNode, signal),
    async stop() {
      await stopChild(rtcNode);
      // gateway-node flushes its outbox on SIGTERM, so it stops before the Worker it posts to.
      await stopChild(gateway);
      await stopChild(worker);
      await simulator?.close();
    },
  };
  return system;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // exited meanwhile
  }
}
