/**
 * `GET /api/metrics`: the GuildHubs' counters and gauges for an operator, in Prometheus text
 * format (`?format=json` for JSON), one series per served guild (`guild` label).
 *
 * Authentication: `Authorization: Bearer <METRICS_TOKEN>`, a secret of 32+ characters set with
 * `wrangler secret put METRICS_TOKEN` (a static bearer token, what Prometheus' `authorization`
 * scrape setting sends), compared in constant time. Without METRICS_TOKEN the route answers
 * 404 NOT_FOUND: nothing is exposed by default.
 */
import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import { renderPrometheus, type MetricSample } from "../hub/modules/metrics/hub-metrics.ts";
import type { AppEnv } from "../middleware/context.ts";

export const metrics = new Hono<AppEnv>().get("/api/metrics", async (c) => {
  const config = c.get("config");
  if (!config.METRICS_TOKEN) throw new ApiError("NOT_FOUND", "No route for GET /api/metrics (set METRICS_TOKEN to enable it).");
  const given = /^Bearer (.+)$/.exec(c.req.header("Authorization") ?? "")?.[1] ?? "";
  if (!(await sameSecret(given, config.METRICS_TOKEN))) {
    c.get("log").warn("metrics: bad or missing token");
    throw new ApiError("UNAUTHORIZED", 'Send "Authorization: Bearer <METRICS_TOKEN>".');
  }
  const counters: MetricSample[] = [];
  const gauges: MetricSample[] = [];
  for (const guildId of config.PRIMARY_GUILD_ID) {
    const m = await c.env.GUILD_HUB.getByName(guildId).metrics();
    // A hub that has not served yet does not know its guild id.
    const fix = (s: MetricSample) => ({ ...s, labels: { ...s.labels, guild: guildId } });
    counters.push(...m.counters.map(fix));
    gauges.push(...m.gauges.map(fix));
  }
  if (c.req.query("format") === "json") return c.json({ counters, gauges });
  return c.text(renderPrometheus(counters, gauges), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
});

/** Constant-time comparison (of digests, so lengths do not leak either). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
