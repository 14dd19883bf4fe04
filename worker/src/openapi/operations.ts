/**
 * Every HTTP route of the Worker, described with the same zod schemas the routes validate with
 * and answer in. document.ts turns this into OpenAPI 3.1; test/openapi.test.ts checks that every
 * route Hono serves is listed here, so the document cannot fall behind the code.
 */
import { z } from "zod";
import {
  CreateRoomRequest,
  EndRoomResult,
  IceServersResult,
  InternalEventsBody,
  InternalEventsResult,
  InternalSignalsBody,
  InternalSignalsResult,
  Invite,
  JoinRoomRequest,
  JoinRoomResult,
  LeaveRoomResult,
  Room,
  RoomsList,
  SessionConfig,
  Snowflake,
  StreamTicket,
  SendMessageRequest,
  CommandAccepted,
  ChatEmoji,
  ChatHistory,
  ChatHistoryQuery,
} from "@spell-coven/common";
import { HealthStatus } from "../routes/health.ts";
import { BotCueRequest } from "../routes/table-bot.ts";

/** How a route authenticates its caller. */
export type Auth = "none" | "jwt" | "hmac" | "ticket" | "metrics";

export interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path, parameters in braces: `/api/rooms/{channelId}/join`. */
  path: string;
  summary: string;
  auth: Auth;
  params?: Record<string, z.ZodType>;
  query?: Record<string, z.ZodType>;
  body?: z.ZodType;
  /** Status -> what it carries; error answers are added from `errors`. */
  ok: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Stable error codes a client can branch on (worker/src/errors.ts). */
  errors?: string[];
}

/** Every error answer: `{ error: { code, message, requestId, details? } }`. */
export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), requestId: z.string(), details: z.unknown().optional() }),
});

const channelId = { channelId: Snowflake };

export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/health",
    summary: "Liveness, and which settings are present (never their values).",
    auth: "none",
    ok: {
      status: 200,
      description: "Up",
      schema: HealthStatus,
    },
  },
  {
    method: "get",
    path: "/api/session-config",
    summary: "Public settings a browser needs to start.",
    auth: "none",
    ok: {
      status: 200,
      description: "Settings",
      schema: SessionConfig,
    },
  },
  {
    method: "get",
    path: "/api/ws",
    summary: "The player WebSocket (upgrade). Authenticate with the first message; see the README for the protocol.",
    auth: "none",
    query: { guildId: Snowflake.optional() },
    ok: { status: 101, description: "Switching protocols" },
    errors: ["UPGRADE_REQUIRED", "UNKNOWN_GUILD", "ORIGIN_NOT_ALLOWED"],
  },
  {
    method: "post",
    path: "/api/internal/events",
    summary: "Signed batch of internal events from gateway-node.",
    auth: "hmac",
    body: InternalEventsBody,
    ok: { status: 200, description: "Applied (duplicates counted, not applied twice)", schema: InternalEventsResult },
    errors: [
      "SIGNATURE_MISSING",
      "SIGNATURE_MALFORMED",
      "SIGNATURE_INVALID",
      "TIMESTAMP_STALE",
      "INVALID_JSON",
      "VALIDATION_FAILED",
      "BODY_TOO_LARGE",
      "FORBIDDEN",
      "NOT_CONFIGURED",
    ],
  },
  {
    method: "post",
    path: "/api/internal/signals",
    summary: "Signed signals from rtc-node (who is speaking), relayed to a table's call.",
    auth: "hmac",
    body: InternalSignalsBody,
    ok: { status: 200, description: "Relayed", schema: InternalSignalsResult },
    errors: ["SIGNATURE_MISSING", "SIGNATURE_INVALID", "TIMESTAMP_STALE", "INVALID_JSON", "VALIDATION_FAILED", "BODY_TOO_LARGE", "FORBIDDEN"],
  },
  {
    method: "post",
    path: "/api/create-room",
    summary: "Create a game room (a Discord voice channel); `Idempotency-Key` makes retries safe.",
    auth: "jwt",
    body: CreateRoomRequest,
    ok: { status: 201, description: "Created (or replayed: `Idempotent-Replayed: true`)", schema: Room },
    errors: [
      "VALIDATION_FAILED",
      "RATE_LIMITED",
      "IDEMPOTENCY_KEY_REUSED",
      "IDEMPOTENCY_IN_PROGRESS",
      "DISCORD_ACCOUNT_REQUIRED",
      "NOT_GUILD_MEMBER",
      "DISCORD_FORBIDDEN",
      "DISCORD_UNAVAILABLE",
    ],
  },
  {
    method: "get",
    path: "/api/rooms",
    summary: "Rooms with seats, voice and closing state.",
    auth: "jwt",
    ok: { status: 200, description: "Rooms", schema: RoomsList },
  },
  {
    method: "post",
    path: "/api/rooms/{channelId}/invites",
    summary: "A signed 24 h invite to this room.",
    auth: "jwt",
    params: channelId,
    ok: { status: 201, description: "Invite", schema: Invite },
    errors: ["ROOM_NOT_FOUND", "NOT_ROOM_MEMBER"],
  },
  {
    method: "post",
    path: "/api/rooms/{channelId}/join",
    summary: "Take a seat (one table at a time: a seat elsewhere is given up).",
    auth: "jwt",
    params: channelId,
    body: JoinRoomRequest,
    ok: { status: 200, description: "Seated", schema: JoinRoomResult },
    errors: [
      "ROOM_NOT_FOUND",
      "ROOM_FULL",
      "INVITE_REQUIRED",
      "INVITE_INVALID",
      "INVITE_EXPIRED",
      "INVITE_WRONG_ROOM",
      "NOT_GUILD_MEMBER",
      "DISCORD_ACCOUNT_REQUIRED",
    ],
  },
  {
    method: "post",
    path: "/api/rooms/{channelId}/leave",
    summary: "Give up your seat.",
    auth: "jwt",
    params: channelId,
    ok: { status: 200, description: "Left", schema: LeaveRoomResult },
    errors: ["ROOM_NOT_FOUND", "NOT_ROOM_MEMBER"],
  },
  {
    method: "delete",
    path: "/api/end-room/{channelId}",
    summary: "End a room (its creator, or an admin): channel and role are deleted on Discord.",
    auth: "jwt",
    params: channelId,
    ok: { status: 200, description: "Ended", schema: EndRoomResult },
    errors: ["ROOM_NOT_FOUND", "NOT_ROOM_CREATOR", "DISCORD_UNAVAILABLE"],
  },
  {
    method: "post",
    path: "/api/rooms/{channelId}/bot",
    summary: "Call the table bot (rtc-node) into this table's voice channel: speaking indicators and table sounds. Seat holders only.",
    auth: "jwt",
    params: channelId,
    ok: { status: 200, description: "The bot joins (rtc-node's answer)" },
    errors: ["ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "BOT_BUSY", "BOT_UNAVAILABLE"],
  },
  {
    method: "post",
    path: "/api/rooms/{channelId}/bot/cue",
    summary: "Ask the table bot to play a named cue at this table.",
    auth: "jwt",
    params: channelId,
    body: BotCueRequest,
    ok: { status: 200, description: "Played (rtc-node's answer)" },
    errors: ["VALIDATION_FAILED", "ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "BOT_NOT_AT_TABLE", "BOT_UNAVAILABLE"],
  },
  {
    method: "delete",
    path: "/api/rooms/{channelId}/bot",
    summary: "Send the table bot away from this table.",
    auth: "jwt",
    params: channelId,
    ok: { status: 200, description: "The bot leaves (rtc-node's answer)" },
    errors: ["ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "BOT_NOT_AT_TABLE", "BOT_UNAVAILABLE"],
  },
  {
    method: "get",
    path: "/api/rtc/ice-servers",
    summary: "ICE servers for a table's board-video call (short-lived TURN credentials when configured).",
    auth: "jwt",
    query: { channelId: Snowflake },
    ok: { status: 200, description: "ICE servers", schema: IceServersResult },
    errors: ["VALIDATION_FAILED", "ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "TURN_UNAVAILABLE"],
  },
  {
    method: "post",
    path: "/api/stream/ticket",
    summary: "A short-lived, player-bound ticket for the SSE stream (the JWT never goes in a URL).",
    auth: "jwt",
    query: { guildId: Snowflake.optional() },
    ok: { status: 201, description: "Ticket", schema: StreamTicket },
    errors: ["UNKNOWN_GUILD", "NOT_CONFIGURED"],
  },
  {
    method: "get",
    path: "/api/stream",
    summary: "The same events as /api/ws as Server-Sent Events; resume with Last-Event-ID. 204 for a bad or expired ticket.",
    auth: "ticket",
    query: { ticket: z.string(), lastEventId: z.string().optional() },
    ok: { status: 200, description: "text/event-stream", contentType: "text/event-stream" },
  },
  {
    method: "get",
    path: "/api/tables/{channelId}/messages",
    summary:
      "The table chat's history, oldest first; hasMore: ask again with before = the first message's id. A public table's chat is any player's; a private one's, its seat holders' (and those in its voice channel).",
    auth: "jwt",
    params: channelId,
    query: ChatHistoryQuery.shape,
    ok: { status: 200, description: "A page of the chat", schema: ChatHistory },
    errors: ["VALIDATION_FAILED", "ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "DISCORD_FORBIDDEN", "DISCORD_RATE_LIMITED", "DISCORD_UNAVAILABLE", "DISCORD_ERROR"],
  },
  {
    method: "post",
    path: "/api/tables/{channelId}/messages",
    summary:
      "Send to the table's chat (the text of its voice channel) as the bot; seat holders only; nobody is pinged. The result follows as a command.result signal.",
    auth: "jwt",
    params: channelId,
    body: SendMessageRequest,
    ok: { status: 202, description: "Accepted", schema: CommandAccepted },
    errors: ["VALIDATION_FAILED", "ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "RATE_LIMITED"],
  },
  {
    method: "put",
    path: "/api/tables/{channelId}/messages/{messageId}/reactions/{emoji}",
    summary: "React to a message of the table's chat (a URL-encoded emoji, or name:id for a custom one).",
    auth: "jwt",
    params: { ...channelId, messageId: Snowflake, emoji: ChatEmoji },
    ok: { status: 202, description: "Accepted", schema: CommandAccepted },
    errors: ["VALIDATION_FAILED", "ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "RATE_LIMITED"],
  },
  {
    method: "post",
    path: "/api/tables/{channelId}/typing",
    summary: "Show the table's chat that you are typing (one Discord call per channel per 8 s).",
    auth: "jwt",
    params: channelId,
    ok: { status: 202, description: "Accepted", schema: CommandAccepted },
    errors: ["ROOM_NOT_FOUND", "NOT_ROOM_MEMBER", "RATE_LIMITED"],
  },
  {
    method: "get",
    path: "/api/metrics",
    summary: "Operator counters (Prometheus text, or ?format=json); Bearer METRICS_TOKEN. 404 when METRICS_TOKEN is not set.",
    auth: "metrics",
    query: { format: z.enum(["json"]).optional() },
    ok: { status: 200, description: "text/plain (Prometheus)", contentType: "text/plain" },
  },
  { method: "get", path: "/api/openapi.json", summary: "This document.", auth: "none", ok: { status: 200, description: "OpenAPI 3.1" } },
  { method: "get", path: "/api/docs", summary: "This document as a page.", auth: "none", ok: { status: 200, description: "HTML", contentType: "text/html" } },
];
