/**
 * Per-request context shared by every route: the parsed config, a logger carrying the request id,
 * and (after jwtAuth) the authenticated player.
 */
import { createMiddleware } from "hono/factory";
import { createLogger, type Logger } from "@spell-coven/common";
import { getConfig, type Config, type Env } from "../env.ts";
import type { Player } from "../auth/jwt.ts";

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; config: Config; log: Logger; player: Player };
};

export const requestContext = createMiddleware<AppEnv>(async function requestContext(c, next) {
  const config = getConfig(c.env);
  c.set("config", config);
  c.set("log", createLogger(config.LOG_LEVEL, { service: "worker", requestId: c.get("requestId") }));
  await next();
});
