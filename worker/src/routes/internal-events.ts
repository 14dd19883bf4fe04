/**
 * `POST /api/internal/events`: signed batches of events from gateway-node (see common/hmac.ts and
 * common/internal.ts). Checks, in order: size, signature and timestamp over the raw bytes, JSON,
 * schema, served guilds. Events are handed to each guild's hub in their original order; the hub
 * drops ids it has already seen, so a retried post is broadcast once.
 */
import { Hono } from "hono";
import {
  InternalEventsBody,
  InternalSignalsBody,
  MAX_INTERNAL_BODY_BYTES,
  traceIdFromParent,
  type InternalEvent,
  type InternalEventsResult,
  type InternalSignal,
  type InternalSignalsResult,
} from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../middleware/context.ts";
import { readSignedJson } from "./signed-body.ts";

export const internalEvents = new Hono<AppEnv>().post("/api/internal/events", async (c) => {
  const { PRIMARY_GUILD_ID } = c.get("config");
  const log = c.get("log");
  const body = await readSignedJson(c, MAX_INTERNAL_BODY_BYTES, InternalEventsBody, "events");

  const byGuild = new Map<string, InternalEvent[]>();
  for (const e of body.events) {
    if (!PRIMARY_GUILD_ID.includes(e.guildId)) {
      throw new ApiError("FORBIDDEN", `Guild ${e.guildId} is not served by this Worker (PRIMARY_GUILD_ID); nothing in this post was applied.`);
    }
    const list = byGuild.get(e.guildId) ?? [];
    list.push(e);
    byGuild.set(e.guildId, list);
  }

  let accepted = 0;
  let duplicates = 0;
  for (const [guildId, events] of byGuild) {
    const result = await c.env.GUILD_HUB.getByName(guildId).ingest(events);
    accepted += result.accepted;
    duplicates += result.duplicates;
  }
  // The post's traceparent (gateway-node: its first event's) and every trace id of the batch (a few).
  const traceIds = [...new Set(body.events.flatMap((e) => (e.traceId ? [e.traceId] : [])))].slice(0, 10);
  log.info("internal events", { accepted, duplicates, guilds: byGuild.size, traceId: traceIdFromParent(c.req.header("traceparent")), traceIds });
  return c.json({ accepted, duplicates, requestId: c.get("requestId") } satisfies InternalEventsResult);
});

/**
 * `POST /api/internal/signals`: signals from a sidecar (rtc-node: `voice.speaking`), signed like
 * events, relayed by each guild's hub to the subscribers of the table they name; never stored.
 */
export const internalSignals = new Hono<AppEnv>().post("/api/internal/signals", async (c) => {
  const { PRIMARY_GUILD_ID } = c.get("config");
  const body = await readSignedJson(c, 64 * 1024, InternalSignalsBody, "signals");
  const byGuild = new Map<string, InternalSignal[]>();
  for (const s of body.signals) {
    if (!PRIMARY_GUILD_ID.includes(s.guildId))
      throw new ApiError("FORBIDDEN", `Guild ${s.guildId} is not served by this Worker (PRIMARY_GUILD_ID); nothing in this post was relayed.`);
    byGuild.set(s.guildId, [...(byGuild.get(s.guildId) ?? []), s]);
  }
  let delivered = 0;
  for (const [guildId, signals] of byGuild) delivered += (await c.env.GUILD_HUB.getByName(guildId).relaySignals(signals)).delivered;
  return c.json({ delivered, requestId: c.get("requestId") } satisfies InternalSignalsResult);
});
