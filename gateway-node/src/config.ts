/**
 * Configuration from the environment, validated with zod. A bad value stops the process with a
 * message naming the variable to fix; the token is never echoed back. HUB_SECRET, LOG_LEVEL,
 * HEALTH_CHECK_PORT and HEALTH_CHECK_HOST follow the rules every sidecar shares (sidecar-kit).
 */
import { z } from "zod";
import { DEFAULT_DISCORD_API_BASE, type LogLevel } from "@spell-coven/common";
import { isPrivateAddress } from "./link/voice-link-server.ts";
import { SidecarConfigError, envBool, envHost, envHttpUrl, envInt, envPort, parseEnv, sidecarEnv } from "@spell-coven/sidecar-kit";

const SNOWFLAKE = /^\d{1,20}$/;

/** Knobs that are not environment variables: defaults suit production, tests make them small. */
export interface Tuning {
  /** Base of the reconnect backoff (1 s -> 1, 2, 4, 8, 16 s). */
  reconnectBaseMs: number;
  /** Cap of the reconnect backoff. */
  reconnectMaxMs: number;
  /** Consecutive failed connection attempts before the process gives up (exit non-zero). */
  maxReconnectAttempts: number;
  /** Wait for Hello after the socket opens. */
  helloTimeoutMs: number;
  /** Wait for READY / RESUMED after identify / resume (reset by every message received). */
  readyTimeoutMs: number;
  /** Random wait before re-identifying after op 9 d:false: [min, max]. */
  invalidSessionDelayMs: [number, number];
  /** Spacing of identifies within one max_concurrency bucket. */
  identifyIntervalMs: number;
  /** Consecutive failed connections to resume_gateway_url before resuming through the main gateway URL. */
  maxResumeFailures: number;
  /** Outbox bound per guild (voice events are compacted into a snapshot beyond it). */
  outboxMaxPerGuild: number;
  /** Hub post retry backoff base and cap. */
  hubRetryBaseMs: number;
  hubRetryMaxMs: number;
  /** Hub post timeout. */
  hubTimeoutMs: number;
  /** How long stop() waits for the outbox to drain. */
  shutdownFlushMs: number;
  /** After giving up, how long /health says `unhealthy` before the process exits. */
  unhealthyLingerMs: number;
  /** Gateway send limit: `limit` per `windowMs`, `reserved` of them kept for heartbeat/identify/resume. */
  sendLimit: number;
  sendWindowMs: number;
  sendReserved: number;
}

export const DEFAULT_TUNING: Tuning = {
  reconnectBaseMs: 1000,
  reconnectMaxMs: 16_000,
  maxReconnectAttempts: 5,
  helloTimeoutMs: 20_000,
  readyTimeoutMs: 45_000,
  invalidSessionDelayMs: [1000, 5000],
  identifyIntervalMs: 5000,
  maxResumeFailures: 2,
  outboxMaxPerGuild: 10_000,
  hubRetryBaseMs: 500,
  hubRetryMaxMs: 30_000,
  hubTimeoutMs: 10_000,
  shutdownFlushMs: 10_000,
  unhealthyLingerMs: 3000,
  sendLimit: 120,
  sendWindowMs: 60_000,
  sendReserved: 5,
};

export interface GatewayNodeConfig {
  token: string;
  /** Guilds whose events are forwarded (PRIMARY_GUILD_ID, comma list). */
  guildIds: string[];
  /** Full URL of the Worker's POST /api/internal/events. */
  hubEndpoint: string;
  hubSecret: string;
  logLevel: LogLevel;
  healthPort: number;
  healthHost: string;
  /** REST base, e.g. https://discord.com/api/v10. */
  apiBase: string;
  /** Shards this process runs; undefined = all of 0..shardCount-1. */
  shardIds?: number[];
  /** Total shard count; undefined = Discord's recommendation from GET /gateway/bot. */
  shardCount?: number;
  /** Forward message, reaction and typing dispatches of voice channels (table chat). */
  enableMessageEvents: boolean;
  /** The bot has the privileged MESSAGE_CONTENT intent (MESSAGE_CONTENT_INTENT); requested only with message events. */
  messageContent: boolean;
  /** The voice link for rtc-node (LINK_TOKEN set): its token, port and host. */
  link?: { token: string; port: number; host: string };
  tuning: Tuning;
}

const intList = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const parts = v
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const out: number[] = [];
    for (const p of parts) {
      if (!/^\d+$/.test(p)) {
        ctx.addIssue({ code: "custom", message: `"${p}" is not a shard id (a non-negative integer)` });
        return z.NEVER;
      }
      out.push(Number(p));
    }
    if (out.length === 0) {
      ctx.addIssue({ code: "custom", message: "must list at least one shard id, e.g. 0,1" });
      return z.NEVER;
    }
    return [...new Set(out)].sort((a, b) => a - b);
  });

const EnvSchema = z.object({
  DISCORD_BOT_TOKEN: z
    .string({ error: "is required (the bot token from the Developer Portal > Bot)" })
    .trim()
    .min(1, "is required (the bot token from the Developer Portal > Bot)"),
  PRIMARY_GUILD_ID: z
    .string({ error: "is required: the guild id(s) to forward, comma separated" })
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine((ids) => ids.length > 0, "is required: the guild id(s) to forward, comma separated")
    .refine((ids) => ids.every((id) => SNOWFLAKE.test(id)), "must be Discord guild ids (digits), comma separated"),
  HUB_ENDPOINT: envHttpUrl(
    "is required: the Worker URL, e.g. https://hub.example.com/api/internal/events",
    "https://hub.example.com/api/internal/events",
  ).transform(normaliseHubEndpoint),
  ...sidecarEnv,
  DISCORD_API_BASE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v || DEFAULT_DISCORD_API_BASE).replace(/\/+$/, ""))
    .refine((v) => URL.canParse(v), "must be a URL such as https://discord.com/api/v10"),
  SHARD_IDS: intList.optional(),
  SHARD_COUNT: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === "" ? undefined : Number(v)))
    .refine((n) => n === undefined || (Number.isInteger(n) && n >= 1), "must be a positive integer"),
  ENABLE_MESSAGE_EVENTS: envBool.optional().transform((v) => v ?? false),
  MESSAGE_CONTENT_INTENT: envBool.optional().transform((v) => v ?? false),
  OUTBOX_MAX_EVENTS_PER_GUILD: envInt(DEFAULT_TUNING.outboxMaxPerGuild, 10),
  // The voice link for rtc-node: off unless LINK_TOKEN is set.
  LINK_TOKEN: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || v.length >= 32, "must be at least 32 characters (e.g. openssl rand -hex 32), the same on rtc-node"),
  LINK_PORT: envPort(8091),
  LINK_HOST: envHost("127.0.0.1"),
});

/** A bare origin gets the documented path appended; any other path is used as given. */
export function normaliseHubEndpoint(value: string): string {
  const u = new URL(value);
  if (u.pathname === "" || u.pathname === "/") u.pathname = "/api/internal/events";
  return u.toString();
}

export interface LoadedConfig {
  config: GatewayNodeConfig;
  warnings: string[];
}

/** Parses the environment. Throws SidecarConfigError listing every variable to fix. */
export function loadConfig(env: Record<string, string | undefined>, tuning: Partial<Tuning> = {}): LoadedConfig {
  // Empty strings count as unset for optional variables (docker-compose often passes "").
  const e = parseEnv(EnvSchema, env);
  const problems: string[] = [];
  const warnings: string[] = [];
  if (e.SHARD_IDS && e.SHARD_COUNT === undefined) problems.push("SHARD_COUNT is required when SHARD_IDS is set");
  if (e.SHARD_IDS && e.SHARD_COUNT !== undefined && e.SHARD_IDS.some((id) => id >= e.SHARD_COUNT!)) {
    problems.push(`SHARD_IDS must all be below SHARD_COUNT (${e.SHARD_COUNT})`);
  }
  if (e.LINK_TOKEN && !isPrivateAddress(e.LINK_HOST) && e.LINK_HOST !== "0.0.0.0" && e.LINK_HOST !== "::") {
    problems.push(`LINK_HOST must be a loopback or private-network address (the voice link is never public), not ${e.LINK_HOST}`);
  }
  if (problems.length) throw new SidecarConfigError(problems);
  const config: GatewayNodeConfig = {
    token: e.DISCORD_BOT_TOKEN,
    guildIds: [...new Set(e.PRIMARY_GUILD_ID)],
    hubEndpoint: e.HUB_ENDPOINT,
    hubSecret: e.HUB_SECRET,
    logLevel: e.LOG_LEVEL,
    healthPort: e.HEALTH_CHECK_PORT,
    healthHost: e.HEALTH_CHECK_HOST,
    apiBase: e.DISCORD_API_BASE,
    enableMessageEvents: e.ENABLE_MESSAGE_EVENTS,
    messageContent: e.MESSAGE_CONTENT_INTENT,
    ...(e.LINK_TOKEN ? { link: { token: e.LINK_TOKEN, port: e.LINK_PORT, host: e.LINK_HOST } } : {}),
    tuning: { ...DEFAULT_TUNING, outboxMaxPerGuild: e.OUTBOX_MAX_EVENTS_PER_GUILD, ...tuning },
  };
  if (e.SHARD_COUNT !== undefined) {
    config.shardCount = e.SHARD_COUNT;
    config.shardIds = e.SHARD_IDS ?? Array.from({ length: e.SHARD_COUNT }, (_, i) => i);
  }
  return { config, warnings };
}
