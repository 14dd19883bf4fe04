/**
 * Typed calls to the rooms API (contract: common/src/protocol/rooms-api.ts). Answers are validated with the
 * shared schemas; every failure is a RoomsApiError with the server's stable code and request id.
 */
import {
  ChatHistory,
  CommandAccepted,
  CreateRoomRequest,
  EndRoomResult as EndRoomResultSchema,
  IceServersResult,
  Invite,
  JoinRoomResult,
  LeaveRoomResult,
  RoomsList,
  Room,
  traceParent,
  type RoomErrorCode,
} from "@spell-coven/common";
import type {
  ChatHistory as ChatHistoryT,
  CommandAccepted as CommandAcceptedT,
  EndRoomResult,
  IceServersResult as IceServersResultT,
  Invite as InviteT,
  JoinRoomResult as JoinRoomResultT,
  LeaveRoomResult as LeaveRoomResultT,
  Room as RoomT,
} from "@spell-coven/common";
import type { TokenProvider } from "./connection.ts";

export type { EndRoomResult };

export class RoomsApiError extends Error {
  override name = "RoomsApiError";
  constructor(
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    /** The server's machine code (ROOM_FULL, INVITE_EXPIRED...), or NETWORK_ERROR / INVALID_RESPONSE. */
    readonly code: RoomErrorCode | (string & {}),
    message: string,
    readonly requestId: string | null = null,
    readonly details?: unknown,
    /** Seconds, from Retry-After (429 and in-progress answers). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.retryAt = retryAfterSeconds === undefined ? null : Date.now() + retryAfterSeconds * 1000;
  }

  /** When trying again makes sense (Unix ms), from Retry-After; null when the server did not say. */
  readonly retryAt: number | null;
}

export interface RoomsApiOptions {
  /** The Worker's base URL. */
  baseUrl: string;
  getToken: TokenProvider;
  fetch?: typeof fetch;
}

/** What the client needs of a zod schema (keeps zod itself out of this package's imports). */
interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
}

/** Typed calls to the rooms API. */
export class RoomsApi {
  readonly #base: string;
  readonly #getToken: TokenProvider;
  readonly #fetch: typeof fetch;

  constructor(opts: RoomsApiOptions) {
    this.#base = opts.baseUrl.replace(/\/+$/, "");
    this.#getToken = opts.getToken;
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /**
   * Creates a room (201). An Idempotency-Key is always sent (a fresh one unless given), so the
   * same call retried after a lost answer cannot create a second room.
   */
  createRoom(req: CreateRoomRequest = {}, opts: { idempotencyKey?: string } = {}): Promise<RoomT> {
    const body = CreateRoomRequest.safeParse(req);
    if (!body.success)
      return Promise.reject(
        new RoomsApiError(0, "VALIDATION_FAILED", body.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ")),
      );
    const key = opts.idempotencyKey ?? crypto.randomUUID();
    return this.#call<RoomT>("POST", "/api/create-room", Room, body.data, { "Idempotency-Key": key });
  }

  async listRooms(): Promise<RoomT[]> {
    return (await this.#call<RoomsList>("GET", "/api/rooms", RoomsList)).rooms;
  }

  createInvite(channelId: string): Promise<InviteT> {
    return this.#call<InviteT>("POST", `/api/rooms/${encodeURIComponent(channelId)}/invites`, Invite, {});
  }

  joinRoom(channelId: string, opts: { invite?: string } = {}): Promise<JoinRoomResultT> {
    return this.#call<JoinRoomResultT>("POST", `/api/rooms/${encodeURIComponent(channelId)}/join`, JoinRoomResult, opts.invite ? { invite: opts.invite } : {});
  }

  /** ICE servers for a table's call (board video); refresh before `expiresAt`. */
  iceServers(channelId: string): Promise<IceServersResultT> {
    return this.#call<IceServersResultT>("GET", `/api/rtc/ice-servers?channelId=${encodeURIComponent(channelId)}`, IceServersResult);
  }

  /** Gives up the player's seat (ROOM_NOT_FOUND 404, NOT_ROOM_MEMBER 403 when not seated there). */
  leaveRoom(channelId: string): Promise<LeaveRoomResultT> {
    return this.#call<LeaveRoomResultT>("POST", `/api/rooms/${encodeURIComponent(channelId)}/leave`, LeaveRoomResult, {});
  }

  endRoom(channelId: string): Promise<EndRoomResult> {
    return this.#call<EndRoomResult>("DELETE", `/api/end-room/${encodeURIComponent(channelId)}`, EndRoomResultSchema);
  }

  // ---- table chat (202 CommandAccepted; the outcome follows as a command.result signal) ----------

  /**
   * Writes `content` in the table's chat (only seat holders may). `commandId` is Discord's nonce:
   * the same id sent again never makes a second message. `traceId` starts the command's trace.
   */
  sendChatMessage(channelId: string, content: string, opts: { commandId: string; traceId?: string }): Promise<CommandAcceptedT> {
    return this.#call<CommandAcceptedT>(
      "POST",
      `/api/tables/${encodeURIComponent(channelId)}/messages`,
      CommandAccepted,
      { content, commandId: opts.commandId },
      traceHeader(opts.traceId),
    );
  }

  /** Adds the player's reaction (`emoji`: one unicode emoji, or a custom one as name:id) to a message. */
  addChatReaction(channelId: string, messageId: string, emoji: string, opts: { commandId: string; traceId?: string }): Promise<CommandAcceptedT> {
    const path = `/api/tables/${encodeURIComponent(channelId)}/messages/${encodeURIComponent(messageId)}/reactions/${encodeURIComponent(emoji)}`;
    return this.#call<CommandAcceptedT>("PUT", path, CommandAccepted, undefined, { "Idempotency-Key": opts.commandId, ...traceHeader(opts.traceId) });
  }

  /** Says the player is typing (the hub collapses calls to one per channel per 8 s). */
  chatTyping(channelId: string, opts: { commandId: string; traceId?: string }): Promise<CommandAcceptedT> {
    return this.#call<CommandAcceptedT>("POST", `/api/tables/${encodeURIComponent(channelId)}/typing`, CommandAccepted, undefined, {
      "Idempotency-Key": opts.commandId,
      ...traceHeader(opts.traceId),
    });
  }

  /**
   * A page of the table's chat, oldest first: the latest `limit` (1-100, default 50) messages, or
   * those before `before`. 404 ROOM_NOT_FOUND, 403 NOT_ROOM_MEMBER (a private table), 503
   * DISCORD_UNAVAILABLE, 429 with Retry-After.
   */
  chatHistory(channelId: string, opts: { before?: string; limit?: number } = {}): Promise<ChatHistoryT> {
    const q = new URLSearchParams();
    if (opts.before) q.set("before", opts.before);
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    const query = q.toString() ? `?${q}` : "";
    return this.#call<ChatHistoryT>("GET", `/api/tables/${encodeURIComponent(channelId)}/messages${query}`, ChatHistory);
  }

  async #call<T>(method: string, path: string, schema: Schema<T> | null, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let res = await this.#send(method, path, await this.#getToken({ refresh: false }), body, headers);
    if (res.status === 401) {
      // An expired token: ask the app for a fresh one, once.
      const first = await readError(res);
      if (first.code !== "TOKEN_EXPIRED") throw first;
      res = await this.#send(method, path, await this.#getToken({ refresh: true }), body, headers);
    }
    if (!res.ok) throw await readError(res);
    const requestId = res.headers.get("X-Request-Id");
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new RoomsApiError(res.status, "INVALID_RESPONSE", `${method} ${path} answered ${res.status} without JSON.`, requestId);
    }
    if (!schema) return json as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RoomsApiError(
        res.status,
        "INVALID_RESPONSE",
        `${method} ${path}: unexpected answer (${issue?.path.map(String).join(".") || "body"}: ${issue?.message}).`,
        requestId,
      );
    }
    return parsed.data;
  }

  async #send(method: string, path: string, token: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    try {
      return await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new RoomsApiError(0, "NETWORK_ERROR", `Could not reach the server (${cause instanceof Error ? cause.message : String(cause)}).`);
    }
  }
}

/** The browser's own trace id for a command, as W3C trace-context (never forwarded to Discord). */
function traceHeader(traceId: string | undefined): Record<string, string> {
  return traceId ? { traceparent: traceParent(traceId) } : {};
}

async function readError(res: Response): Promise<RoomsApiError> {
  const headerId = res.headers.get("X-Request-Id");
  const retry = res.headers.get("Retry-After");
  const retryAfter = parseRetryAfter(retry);
  let body: any = null;
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  const e = body?.error;
  if (e && typeof e.code === "string" && typeof e.message === "string") {
    return new RoomsApiError(res.status, e.code, e.message, typeof e.requestId === "string" ? e.requestId : headerId, e.details, retryAfter);
  }
  return new RoomsApiError(res.status, `HTTP_${res.status}`, `The server answered ${res.status} ${res.statusText}.`, headerId, undefined, retryAfter);
}

/** Retry-After is either seconds or an HTTP date (RFC 9110 10.2.3). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
