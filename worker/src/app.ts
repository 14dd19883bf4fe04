/**
 * The Worker's Hono app: small middleware, then one sub-app per route family.
 * Errors of every kind leave as `{ error: { code, message, requestId } }`.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { createLogger } from "@spell-coven/common";
import { ApiError, errorBody } from "./errors.ts";
import { WorkerConfigError, getConfig } from "./env.ts";
import { requestContext, type AppEnv } from "./middleware/context.ts";
import { skipUpgrades } from "./middleware/skip-upgrades.ts";
import { health } from "./routes/health.ts";
import { internalEvents, internalSignals } from "./routes/internal-events.ts";
import { rooms } from "./routes/rooms.ts";
import { tableBot } from "./routes/table-bot.ts";
import { rtc } from "./routes/rtc.ts";
import { stream } from "./routes/stream.ts";
import { openapi } from "./routes/openapi.ts";
import { tables } from "./routes/tables.ts";
import { metrics } from "./routes/metrics.ts";
import { sessionConfig } from "./routes/session-config.ts";
import { ws } from "./routes/ws.ts";

export const app = new Hono<AppEnv>();

app.use(skipUpgrades(requestId()));
app.use(async (c, next) => {
  // Upgrades skip requestId(): give them one without touching response headers.
  if (!c.get("requestId")) c.set("requestId", crypto.randomUUID());
  await next();
});
app.use(requestContext);
app.use(
  "/api/*",
  skipUpgrades(async (c, next) => {
    const origins = c.get("config").allowedOrigins;
    return cors({
      origin: (origin) => (origins.includes(origin) ? origin : null),
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "traceparent"],
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      exposeHeaders: ["X-Request-Id", "Retry-After", "X-Trace-Id"],
      maxAge: 600,
    })(c, next);
  }),
);

app.route("/", health);
app.route("/", sessionConfig);
app.route("/", ws);
app.route("/", internalEvents);
app.route("/", internalSignals);
app.route("/", tableBot);
app.route("/", rooms);
app.route("/", rtc);
app.route("/", stream);
app.route("/", openapi);
app.route("/", tables);
app.route("/", metrics);

app.notFound((c) => c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`, c.get("requestId") ?? ""), 404));

app.onError((err, c) => {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  if (err instanceof ApiError) {
    if (err.retryAfterSeconds !== undefined) c.header("Retry-After", String(err.retryAfterSeconds));
    return c.json(errorBody(err.code, err.message, requestId, err.details), err.status);
  }
  if (err instanceof HTTPException) return c.json(errorBody("BAD_REQUEST", err.message || "Bad request.", requestId), err.status as 400);
  const log = c.get("log") ?? createLogger(safeLevel(c.env), { service: "worker", requestId });
  if (err instanceof WorkerConfigError) {
    log.error("configuration error", { err });
    return c.json(errorBody("NOT_CONFIGURED", err.message, requestId, { settings: err.settings }), 500);
  }
  log.error("unhandled error", { err, path: new URL(c.req.url).pathname });
  return c.json(errorBody("INTERNAL", "Something went wrong on our side; quote the request id if you report it.", requestId), 500);
});

function safeLevel(env: AppEnv["Bindings"]): string | undefined {
  try {
    return getConfig(env).LOG_LEVEL;
  } catch {
    return env.LOG_LEVEL;
  }
}
