/**
 * The SSE stream (ARCHITECTURE.md, "SSE stream"):
 *
 * - `POST /api/stream/ticket` (JWT): a ticket for this player, signed by the Worker (purpose
 *   "stream-ticket"), valid until their token expires and at most STREAM_TICKET_TTL_MS.
 * - `GET /api/stream?ticket=...`: `text/event-stream`, bridged to the guild's GuildHub
 *   (stream/stream-bridge.ts). The resume cursor is the `Last-Event-ID` header, else the
 *   `lastEventId` query parameter. Every answer is 200 or 204: any other status would end an
 *   EventSource for good, and a 204 (bad or expired ticket) tells it to stop so the client
 *   library fetches a new ticket.
 */
import { Hono } from "hono";
import { z } from "zod";
import { Snowflake, StreamCursor, type StreamTicket } from "@spell-coven/common";
import { signToken, verifyToken } from "../auth/signed-token.ts";
import { ApiError } from "../errors.ts";
import { jwtAuth } from "../middleware/jwt-auth.ts";
import type { AppEnv } from "../middleware/context.ts";
import { bridgeRequest } from "../stream/bridge-request.ts";
import { StreamBridge } from "../stream/stream-bridge.ts";

/** Longest a ticket lives (shorter when the player's token expires first). */
export const STREAM_TICKET_TTL_MS = 60 * 60_000;
const PURPOSE = "stream-ticket";
const Ticket = z.object({ u: z.string().min(1).max(200), g: Snowflake, exp: z.number().int() });

export const stream = new Hono<AppEnv>()
  .post("/api/stream/ticket", jwtAuth, async (c) => {
    const config = c.get("config");
    if (!config.HUB_SECRET) throw new ApiError("NOT_CONFIGURED", "HUB_SECRET is not set on the Worker; streams cannot be opened.");
    const player = c.get("player");
    const guildId = c.req.query("guildId") ?? config.PRIMARY_GUILD_ID[0]!;
    if (!config.PRIMARY_GUILD_ID.includes(guildId)) throw new ApiError("UNKNOWN_GUILD", `Guild ${guildId} is not served here.`);
    const expiresAt = Math.min(player.expiresAt, Date.now() + STREAM_TICKET_TTL_MS);
    const ticket = await signToken(config.HUB_SECRET, PURPOSE, { u: player.userId, g: guildId, exp: expiresAt });
    return c.json({ ticket, expiresAt, url: `/api/stream?ticket=${encodeURIComponent(ticket)}` } satisfies StreamTicket, 201);
  })

  .get("/api/stream", async (c) => {
    const config = c.get("config");
    const log = c.get("log");
    const noStream = (why: string) => {
      log.info("stream refused", { why });
      return c.body(null, 204, { "Cache-Control": "no-store" });
    };
    const raw = c.req.query("ticket");
    const claims = raw && config.HUB_SECRET ? await verifyToken(config.HUB_SECRET, PURPOSE, raw, Ticket) : null;
    if (!claims) return noStream("bad ticket");
    if (Date.now() >= claims.exp) return noStream("ticket expired");
    if (!config.PRIMARY_GUILD_ID.includes(claims.g)) return noStream("guild not served");

    const cursorText = c.req.header("Last-Event-ID") || c.req.query("lastEventId") || undefined;
    const cursor = cursorText === undefined ? undefined : StreamCursor.safeParse(cursorText);
    const resume = cursor?.success ? cursor.data : undefined;

    const upgrade = await c.env.GUILD_HUB.getByName(claims.g).fetch(
      bridgeRequest({ guildId: claims.g, userId: claims.u, expiresAt: claims.exp, ...(resume ? { resume } : {}) }),
    );
    const hub = upgrade.webSocket;
    if (!hub) return noStream(`hub refused the bridge (${upgrade.status})`);
    hub.accept();
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const bridge = new StreamBridge(hub, writable, { hadCursor: cursorText !== undefined, heartbeatMs: config.STREAM_HEARTBEAT_MS, retryMs: 2_000, log });
    c.req.raw.signal.addEventListener("abort", () => bridge.close("the browser went away"));
    return new Response(readable, {
      status: 200,
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
        "X-Request-Id": c.get("requestId"),
      },
    });
  });
