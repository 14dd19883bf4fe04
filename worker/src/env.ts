/**
 * The Worker's bindings and configuration. Raw strings from wrangler vars/secrets are parsed once
 * per isolate into `Config`; a missing or malformed setting fails loudly with its name.
 */
import { z } from "zod";
import { DEFAULT_DISCORD_API_BASE, HubSecretSetting, IceServer, Snowflake } from "@spell-coven/common";
import type { GuildHub } from "./hub/GuildHub.ts";
import type { DiscordRateLimiter } from "./ratelimit/DiscordRateLimiter.ts";

export interface Env {
  GUILD_HUB: DurableObjectNamespace<GuildHub>;
  DISCORD_RATE_LIMITER: DurableObjectNamespace<DiscordRateLimiter>;
  DISCORD_BOT_TOKEN?: string;
  PRIMARY_GUILD_ID: string;
  HUB_SECRET?: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_PUBLIC_JWK_URL: string;
  VITE_BASE_URL?: string;
  LOG_LEVEL?: string;
  MAX_API_RETRIES?: string;
  MAX_WS_RECONNECT_ATTEMPTS?: string;
  DISCORD_API_BASE?: string;
  /** How long a new socket may take to send its auth message (ms). Default 10000. */
  WS_AUTH_TIMEOUT_MS?: string;
  /** A game room with nobody in voice this long is closed. Default 3600. */
  ROOM_IDLE_SECONDS?: string;
  /** Warning (room.closing) before an idle room is removed. Default 30. */
  ROOM_CLOSING_WARNING_SECONDS?: string;
  /** Rooms one player may create per window. Default 5 per 600 s. */
  ROOM_CREATE_LIMIT?: string;
  ROOM_CREATE_WINDOW_SECONDS?: string;
  /** A player whose JWT `roles` claim contains this may end any room. Default "admin". */
  ROOM_ADMIN_ROLE?: string;
  /** The bot's Discord user id, granted access to private rooms; derived from the token when unset. */
  DISCORD_BOT_USER_ID?: string;
  /** Local runs only: the simulator's URL, so the lobby can offer "sign in as a simulated user". */
  DEV_IDENTITY_URL?: string;
  /** Where the lobby's "Open in Discord" links go (`<url>/channels/<guild>/<channel>`). Default https://discord.com; the local run sets the simulator. */
  DISCORD_WEB_URL?: string;
  /** Cloudflare TURN key id; with TURN_KEY_API_TOKEN, table calls get short-lived TURN credentials. */
  TURN_KEY_ID?: string;
  /** Secret: the TURN key's API token. */
  TURN_KEY_API_TOKEN?: string;
  /** Cloudflare's Realtime API base (tests point it at a loopback fake). */
  TURN_API_BASE?: string;
  /** Lifetime of issued TURN credentials, seconds. Default 14400 (4 h); at most 172800. */
  TURN_TTL_SECONDS?: string;
  /** Without TURN: a JSON list of RTCIceServer objects to hand out (e.g. a STUN server). */
  STATIC_ICE_SERVERS?: string;
  /** SSE heartbeat comment interval (ms). Default 15000. */
  STREAM_HEARTBEAT_MS?: string;
  /** Secret (32+ characters): the bearer token of GET /api/metrics; the route is off without it. */
  METRICS_TOKEN?: string;
  /** rtc-node's bot control API (e.g. http://127.0.0.1:8083): the table bot is called through it, signed with HUB_SECRET. */
  RTC_NODE_URL?: string;
}

type WorkerEnv = Env;
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
}

const csvSnowflakes = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(Snowflake).min(1, "must list at least one guild id"));

/** Every setting the Worker reads (bindings aside), parsed and checked once per isolate. */
export const ConfigSchema = z.object({
  DISCORD_BOT_TOKEN: z.string().optional(),
  PRIMARY_GUILD_ID: csvSnowflakes,
  HUB_SECRET: HubSecretSetting.optional(),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  JWT_PUBLIC_JWK_URL: z.url(),
  VITE_BASE_URL: z.string().optional(),
  LOG_LEVEL: z.string().optional(),
  MAX_API_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  MAX_WS_RECONNECT_ATTEMPTS: z.coerce.number().int().min(0).max(100).default(5),
  DISCORD_API_BASE: z.url().default(DEFAULT_DISCORD_API_BASE),
  WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  ROOM_IDLE_SECONDS: z.coerce.number().int().min(1).default(3600),
  ROOM_CLOSING_WARNING_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  ROOM_CREATE_LIMIT: z.coerce.number().int().min(1).default(5),
  ROOM_CREATE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(600),
  ROOM_ADMIN_ROLE: z.string().min(1).default("admin"),
  DISCORD_BOT_USER_ID: Snowflake.optional(),
  DEV_IDENTITY_URL: z.url().optional(),
  DISCORD_WEB_URL: z.url().default("https://discord.com"),
  TURN_KEY_ID: z.string().min(1).optional(),
  TURN_KEY_API_TOKEN: z.string().min(1).optional(),
  TURN_API_BASE: z.url().default("https://rtc.live.cloudflare.com/v1"),
  TURN_TTL_SECONDS: z.coerce.number().int().min(60).max(172_800).default(14_400),
  STATIC_ICE_SERVERS: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON list of RTCIceServer objects" });
        return z.NEVER;
      }
    })
    .pipe(z.array(IceServer))
    .default([]),
  STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  METRICS_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  RTC_NODE_URL: z.url().optional(),
});

export type Config = z.infer<typeof ConfigSchema> & { allowedOrigins: string[] };

const cache = new WeakMap<object, Config>();

/** What each setting without a default is, for the error a deployer sees when it is missing. */
const REQUIRED: Record<string, string> = {
  PRIMARY_GUILD_ID: "the Discord guild id(s) served, comma-separated ([vars])",
  JWT_ISSUER: "your identity provider's issuer, the players' JWT `iss` ([vars])",
  JWT_AUDIENCE: "the players' JWT `aud` ([vars], default spell-coven-web in wrangler.toml)",
  JWT_PUBLIC_JWK_URL: "your identity provider's JWKS URL ([vars])",
};

/** The Worker's settings are missing or malformed: the message names each one, `settings` lists them. */
export class WorkerConfigError extends Error {
  override name = "WorkerConfigError";
  constructor(
    message: string,
    /** The names of the settings to fix. */
    readonly settings: string[] = [],
  ) {
    super(message);
  }
}

/** Parses the environment once per isolate (env objects are stable per isolate). */
export function getConfig(env: Env): Config {
  let config = cache.get(env);
  if (config) return config;
  // An empty value (`NAME=` in .dev.vars) means "not set", not "set to nothing".
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const settings = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "?")))];
    const detail = parsed.error.issues
      .map((i) => {
        const name = String(i.path[0] ?? "?");
        return raw[name] === undefined ? `${name} is not set${REQUIRED[name] ? ` (${REQUIRED[name]})` : ""}` : `${i.path.join(".")}: ${i.message}`;
      })
      .join("; ");
    throw new WorkerConfigError(`Worker configuration is invalid: ${detail}. See the README's Deploy section.`, settings);
  }
  config = {
    ...parsed.data,
    allowedOrigins: (parsed.data.VITE_BASE_URL ?? "")
      .split(",")
      .map((o) => o.trim().replace(/\/$/, ""))
      .filter(Boolean),
  };
  cache.set(env, config);
  return config;
}
