/**
 * rtc-node's environment, validated with zod (sidecar-kit rules for HUB_SECRET, LOG_LEVEL,
 * HEALTH_CHECK_*). Secrets are never echoed back.
 */
import { z } from "zod";
import type { LogLevel } from "@spell-coven/common";
import { envHost, envHttpUrl, envInt, envPort, parseEnv, sidecarEnv } from "@spell-coven/sidecar-kit";

export interface RtcNodeConfig {
  /** gateway-node's voice link, ws://host:port. */
  gatewayWsUrl: string;
  linkToken: string;
  /** Full URL of the Worker's POST /api/internal/signals. */
  signalsEndpoint: string;
  hubSecret: string;
  logLevel: LogLevel;
  healthPort: number;
  healthHost: string;
  controlPort: number;
  controlHost: string;
  /** How long a table may be empty before the bot leaves. */
  emptyGraceMs: number;
  hubTimeoutMs: number;
}

const EnvSchema = z.object({
  GATEWAY_WS_URL: z
    .string({ error: "is required: gateway-node's voice link, e.g. ws://127.0.0.1:8091" })
    .trim()
    .refine((v) => /^wss?:\/\//.test(v) && URL.canParse(v), "must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:8091"),
  LINK_TOKEN: z
    .string({ error: "is required: the same LINK_TOKEN as gateway-node's" })
    .trim()
    .min(32, "must be at least 32 characters, the same as gateway-node's"),
  HUB_ENDPOINT: envHttpUrl("is required: the Worker URL, e.g. https://hub.example.com", "https://hub.example.com/api/internal/signals").transform((v) => {
    const u = new URL(v);
    // The same HUB_ENDPOINT as gateway-node's works: signals live next to events.
    if (u.pathname === "" || u.pathname === "/" || u.pathname.endsWith("/api/internal/events")) u.pathname = "/api/internal/signals";
    return u.toString();
  }),
  ...sidecarEnv,
  HEALTH_CHECK_PORT: envPort(8082),
  RTC_CONTROL_PORT: envPort(8083),
  RTC_CONTROL_HOST: envHost("127.0.0.1"),
  BOT_EMPTY_GRACE_MS: envInt(10_000, 0),
});

export function loadConfig(env: Record<string, string | undefined>): RtcNodeConfig {
  const e = parseEnv(EnvSchema, env);
  return {
    gatewayWsUrl: e.GATEWAY_WS_URL,
    linkToken: e.LINK_TOKEN,
    signalsEndpoint: e.HUB_ENDPOINT,
    hubSecret: e.HUB_SECRET,
    logLevel: e.LOG_LEVEL,
    healthPort: e.HEALTH_CHECK_PORT,
    healthHost: e.HEALTH_CHECK_HOST,
    controlPort: e.RTC_CONTROL_PORT,
    controlHost: e.RTC_CONTROL_HOST,
    emptyGraceMs: e.BOT_EMPTY_GRACE_MS,
    hubTimeoutMs: 5000,
  };
}
