/**
 * Configuration rules every sidecar shares, as zod pieces to put into its own environment schema,
 * and `parseEnv`, which turns every problem into one line naming the variable to fix
 * (SidecarConfigError; the process then exits with ExitCode.BadEnvironment). Values are never
 * echoed back, so a misplaced token cannot reach a log.
 */
import { z } from "zod";
import { HubSecretSetting, LOG_LEVELS, parseLogLevel } from "@spell-coven/common";

/** The environment is invalid: `problems` has one line per variable to fix. */
export class SidecarConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SidecarConfigError";
  }
}

/** true / false, 1 / 0, yes / no, on / off (empty = false). */
export const envBool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["", "0", "1", "true", "false", "yes", "no", "on", "off"].includes(v), "must be true or false")
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

/** A TCP port; unset or empty gives `fallback`. */
export const envPort = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? fallback : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 65535, "must be a TCP port (0-65535)");

/** A listen address; unset or empty gives `fallback`. */
export const envHost = (fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => v || fallback);

/** An http(s) URL, with an example for the message. */
export const envHttpUrl = (required: string, example: string) =>
  z
    .string({ error: required })
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === "http:" || u.protocol === "https:";
      } catch {
        return false;
      }
    }, `must be an http(s) URL, e.g. ${example}`);

/** A positive integer or unset; `min` bounds it. */
export const envInt = (fallback: number, min: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= min, `must be an integer >= ${min}`);

/**
 * The variables every sidecar reads, with one rule each:
 * HUB_SECRET (required, at least 32 characters: the Worker's rule too, common/src/settings.ts), LOG_LEVEL (DEBUG, INFO,
 * WARN, ERROR; default INFO), HEALTH_CHECK_PORT (default 8080), HEALTH_CHECK_HOST (default 0.0.0.0).
 */
export const sidecarEnv = {
  HUB_SECRET: HubSecretSetting,
  LOG_LEVEL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || (LOG_LEVELS as readonly string[]).includes(v.toUpperCase()), "must be DEBUG, INFO, WARN or ERROR")
    .transform((v) => parseLogLevel(v)),
  HEALTH_CHECK_PORT: envPort(8080),
  HEALTH_CHECK_HOST: envHost("0.0.0.0"),
};

/** Parses `env` with `schema`; throws SidecarConfigError with one line per variable to fix. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new SidecarConfigError(parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")} ${i.message}`));
}
