/** Simulator + fake hub + an in-process gateway-node with small timings, on loopback. */
import { startSimulator, DEMO_GUILD_ID, type LocalDiscord, type LocalSimulatorOptions } from "@spell-coven/simulator";
import { createLogger, shardIdFor, type Logger } from "@spell-coven/common";
import { DEFAULT_TUNING, type GatewayNodeConfig, type Tuning } from "../../src/config.ts";
import { startGatewayNode, type GatewayNodeDeps, type GatewayNodeHandle } from "../../src/index.ts";
import { FakeHub } from "./fake-hub.ts";

export const FAST: Partial<Tuning> = {
  reconnectBaseMs: 40,
  reconnectMaxMs: 300,
  helloTimeoutMs: 2000,
  readyTimeoutMs: 4000,
  invalidSessionDelayMs: [20, 60],
  identifyIntervalMs: 30,
  hubRetryBaseMs: 20,
  hubRetryMaxMs: 200,
  hubTimeoutMs: 2000,
  shutdownFlushMs: 3000,
};

/** Two shards in one process: the simulator recommends 2; identifies of the shared bucket spaced past its window. */
export const TWO_SHARDS = { sim: { recommendedShards: 2, identifyWindowMs: 150 }, tuning: { identifyIntervalMs: 160 } } as const;

export interface Harness {
  sim: LocalDiscord;
  hub: FakeHub;
  node: GatewayNodeHandle;
  logs: string[];
  config: GatewayNodeConfig;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    sim?: LocalSimulatorOptions;
    tuning?: Partial<Tuning>;
    config?: Partial<GatewayNodeConfig>;
    deps?: GatewayNodeDeps;
    guildIds?: string[];
    beforeStart?: (sim: LocalDiscord) => void;
    logLevel?: "DEBUG" | "INFO";
  } = {},
): Promise<Harness> {
  const sim = await startSimulator({ heartbeatIntervalMs: 250, identifyWindowMs: 20, ...opts.sim });
  opts.beforeStart?.(sim);
  const hub = await new FakeHub().start();
  const logs: string[] = [];
  const log: Logger = createLogger(opts.logLevel ?? "DEBUG", { service: "gateway-node" }, (l) => {
    logs.push(l);
    if (process.env.GATEWAY_TEST_LOGS) console.log(l);
  });
  const config: GatewayNodeConfig = {
    token: sim.botToken,
    guildIds: opts.guildIds ?? [DEMO_GUILD_ID],
    hubEndpoint: hub.url,
    hubSecret: hub.secret,
    logLevel: "DEBUG",
    healthPort: 0,
    healthHost: "127.0.0.1",
    apiBase: sim.apiBase,
    enableMessageEvents: false,
    messageContent: false,
    ...opts.config,
    tuning: { ...DEFAULT_TUNING, ...FAST, ...opts.tuning },
  };
  const node = await startGatewayNode(config, { log, ...opts.deps });
  return {
    sim,
    hub,
    node,
    logs,
    config,
    async close() {
      await node.stop({ flushMs: 500 });
      await hub.close();
      await sim.close();
    },
  };
}

export async function until(pred: () => boolean, timeoutMs = 8000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function allReady(h: Harness, shards = 1): boolean {
  const info = h.node.manager.info();
  return info.length === shards && info.every((s) => s.state === "ready");
}

/** Replays what the hub accepted for a guild into userId -> channelId. */
export function hubPresence(hub: FakeHub, guildId: string): Map<string, string> {
  const state = new Map<string, string>();
  for (const e of hub.byGuild(guildId)) {
    if (e.event === "presence.snapshot") {
      state.clear();
      for (const v of e.payload.voiceStates) state.set(v.userId, v.channelId);
    } else if (e.event === "voice.joined") state.set(e.payload.userId, e.payload.channelId);
    else if (e.event === "voice.left") state.delete(e.payload.userId);
  }
  return state;
}

/** A guild id (snowflake) that Discord routes to `shard` of `count`, the first at or after `near` (step 1 << 22). */
export function guildOnShard(shard: number, count: number, near: bigint): string {
  for (let i = 0n; ; i++) {
    const id = (near + (i << 22n)).toString();
    if (shardIdFor(id, count) === shard) return id;
  }
}

export function simPresence(sim: LocalDiscord, guildId: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const v of sim.voiceStates(guildId)) if (v.channel_id) m.set(v.user_id, v.channel_id);
  return m;
}
