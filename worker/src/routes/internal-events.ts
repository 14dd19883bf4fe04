/**
 * `POST /api/internal/events`: signed batches of events from gateway-node (see common/hmac.ts and
 * common/internal.ts). Checks, in order: size, signature and timestamp over the raw bytes, JSON,
 * schema, served guilds. Events are handed to each guild's hub in their original order; the hub
 * drops ids it has already seen, so a retried post is broadcast once.
 */
import { Hono } from "hono";
import {
  InternalEventsBody,
  MAX_INTERNAL_BODY_BYTES,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  traceIdFromParent,
  verifyHubRequest,
  type InternalEvent,
  type InternalEventsResult,
} from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../middleware/context.ts";
import { readBodyLimited } from "./body.ts";
import { zodDetails } from "./validation.ts";

export const internalEvents = new Hono<AppEnv>().post("/api/internal/events", async (c) => {
  const { HUB_SECRET, PRIMARY_GUILD_ID } = c.get("config");
  const log = c.get("log");
  if (!HUB_SECRET) throw new ApiError("NOT_CONFIGURED", "HUB_SECRET is not set on the Worker; internal events are disabled.");

  const raw = await readBodyLimited(c.req.raw, MAX_INTERNAL_BODY_BYTES);
  const check = await verifyHubRequest(HUB_SECRET, c.req.header(TIMESTAMP_HEADER), c.req.header(SIGNATURE_HEADER), raw);
  if (!check.ok) {
    log.warn("internal event rejected", { reason: check.code });
    throw new ApiError(check.code, check.message);
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new ApiError("INVALID_JSON", "The body is not valid JSON.");
  }
  const parsed = InternalEventsBody.safeParse(json);
  if (!parsed.success) throw new ApiError("VALIDATION_FAILED", "The events do not match the schema.", zodDetails(parsed.error));

  const byGuild = new Map<string, InternalEvent[]>();
  for (const e of parsed.data.events) {
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
  const traceIds = [...new Set(parsed.data.events.flatMap((e) => (e.traceId ? [e.traceId] : [])))].slice(0, 10);
  log.info("internal events", { accepted, duplicates, guilds: byGuild.size, traceId: traceIdFromParent(c.req.header("traceparent")), traceIds });
  return c.json({ accepted, duplicates, requestId: c.get("requestId") } satisfies InternalEventsResult);
});
