/**
 * GuildHub: one Durable Object per guild. It holds the players' WebSockets (hibernatable), the
 * guild's voice presence and rooms, and sequences every event it broadcasts.
 *
 * Flow: the Worker forwards `/api/ws` upgrades here (fetch) and calls `ingest()` over RPC with
 * events from gateway-node or its own routes. Each public event gets the next per-guild `seq`, is
 * serialized once, stored in a bounded history for resume, and sent as the same string to every
 * authenticated socket.
 */
import { DurableObject } from "cloudflare:workers";
import {
  ClientMessage,
  CloseCodes,
  MAX_BATCH_EVENTS,
  createLogger,
  PING,
  PONG,
  type AuthOk,
  type ErrorAck,
  type HubEvent,
  type Logger,
} from "@spell-coven/common";
import type { CreateRoomRequest, Room } from "@spell-coven/common";
import { getConfig, type Env } from "../env.ts";
import { TokenError, verifyPlayerToken } from "../auth/jwt.ts";
import { botUserId, discordClient } from "../discord.ts";
import { applyEvent, type GuildState, type PublicEvent } from "./apply.ts";
import { HubStore } from "./store.ts";
import { RoomsStore } from "./rooms-store.ts";
import { RoomsService, type RoomOutcome } from "./rooms.ts";
import { SocketRegistry, type SocketState } from "./sockets.ts";
import {
  IDLE_TIMEOUT_MS,
  MAX_CLIENT_LAG,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_SOCKETS,
  SWEEP_INTERVAL_MS,
} from "./limits.ts";

export const GUILD_ID_HEADER = "X-Guild-Id";

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Public events broadcast as a result. */
  broadcast: number;
  seq: number;
}

export interface HubStatus {
  guildId: string | null;
  seq: number;
  epoch: string;
  sockets: number;
  authenticated: number;
  presence: Record<string, string[]>;
}

export class GuildHub extends DurableObject<Env> {
  readonly #store: HubStore;
  readonly #state: GuildState;
  readonly #sockets: SocketRegistry;
  readonly #log: Logger;
  #lastPrune = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new HubStore(ctx.storage.sql);
    this.#sockets = new SocketRegistry(ctx.getWebSockets(), this.#store.seq);
    this.#log = createLogger(env.LOG_LEVEL, { service: "guild-hub", guildId: this.#store.guildId ?? undefined });
    const config = getConfig(env);
    const roomsStore = new RoomsStore(ctx.storage.sql);
    const store = this.#store;
    const rooms = new RoomsService(
      roomsStore,
      {
        get guildId() {
          return store.guildId ?? "";
        },
        publishOnce: (id, e) => this.#publishOnce(id, e),
        voiceIn: (channelId) => store.voiceIn(channelId),
      },
      config,
      () => discordClient(env, config, this.#log),
      botUserId(config),
      this.#log.child({ component: "rooms" }),
    );
    this.#state = { store, roomsStore, rooms };
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- RPC ------------------------------------------------------------------------------------

  /** Applies events in order; duplicates (by id) are counted and skipped. */
  async ingest(events: HubEvent[]): Promise<IngestResult> {
    const now = Date.now();
    // Clients are judged on what they had been sent before this batch: they cannot ack events
    // of a batch that is still being broadcast.
    const sentBefore = this.#store.seq;
    const out: string[] = [];
    let accepted = 0;
    let duplicates = 0;
    for (const e of events) {
      this.#store.guildId = e.guildId;
      if (!this.#store.markSeen(e.id, now)) {
        duplicates++;
        continue;
      }
      accepted++;
      for (const pub of applyEvent(this.#state, e, now)) out.push(this.#sequence(pub, e.ts ?? now));
    }
    const broadcast = out.length;
    this.#send(out, sentBefore);
    this.#log.debug("ingested", { accepted, duplicates, broadcast, seq: this.#store.seq });
    // Voice changes move room idle deadlines; a deleted channel may have left a role to clean up.
    await this.#alarmBy(this.#state.rooms.nextDue());
    return { accepted, duplicates, broadcast, seq: this.#store.seq };
  }

  // ---- rooms (RPC from the Worker's routes) ----------------------------------------------------

  async createRoom(guildId: string, userId: string, body: CreateRoomRequest, idempotencyKey: string | null, requestHash: string) {
    this.#store.guildId = guildId;
    const out = await this.#state.rooms.create(userId, body, idempotencyKey, requestHash);
    await this.#alarmBy(this.#state.rooms.nextDue());
    return out;
  }

  async joinRoom(guildId: string, channelId: string, userId: string) {
    this.#store.guildId = guildId;
    const out = await this.#state.rooms.join(channelId, userId);
    await this.#alarmBy(this.#state.rooms.nextDue());
    return out;
  }

  async endRoom(guildId: string, channelId: string, userId: string, isAdmin: boolean) {
    this.#store.guildId = guildId;
    const out = await this.#state.rooms.end(channelId, userId, isAdmin);
    // A role Discord would not delete is queued for retry: the alarm must come for it even when
    // no socket or room timer would wake the object.
    await this.#alarmBy(this.#state.rooms.nextDue());
    return out;
  }

  async listRooms(guildId: string): Promise<Room[]> {
    this.#store.guildId = guildId;
    return this.#state.rooms.list();
  }

  async getRoom(guildId: string, channelId: string): Promise<RoomOutcome<Room>> {
    this.#store.guildId = guildId;
    const room = this.#state.rooms.get(channelId);
    return room ? { ok: true, value: room } : { ok: false, code: "ROOM_NOT_FOUND", status: 404, message: "This room does not exist any more." };
  }

  async status(): Promise<HubStatus> {
    let authenticated = 0;
    for (const [, s] of this.#sockets.entries()) if (s.userId) authenticated++;
    return {
      guildId: this.#store.guildId,
      seq: this.#store.seq,
      epoch: this.#store.epoch,
      sockets: this.#sockets.size,
      authenticated,
      presence: this.#store.presenceByChannel(),
    };
  }

  // ---- WebSocket lifecycle --------------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "UPGRADE_REQUIRED", message: "Connect with a WebSocket." } }, { status: 426 });
    }
    const guildId = request.headers.get(GUILD_ID_HEADER);
    if (guildId) this.#store.guildId = guildId;
    if (this.#sockets.size >= MAX_SOCKETS) {
      return Response.json({ error: { code: "HUB_FULL", message: "This guild has too many connections; retry later." } }, { status: 503 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    const authDeadline = now + getConfig(this.env).WS_AUTH_TIMEOUT_MS;
    this.#sockets.save(server, {
      id: crypto.randomUUID().slice(0, 8),
      connectedAt: now,
      authDeadline,
      userId: null,
      expiresAt: null,
      ackedSeq: 0,
      lastMessageAt: now,
    });
    await this.#alarmBy(authDeadline);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const state = this.#sockets.get(ws);
    if (!state) return; // closed by us a moment ago
    try {
      await this.#onMessage(ws, state, message);
    } catch (err) {
      this.#log.error("message handler failed", { socket: state.id, err });
      this.#sendError(ws, "INTERNAL", "The server could not process that message; it was not applied.");
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const state = this.#sockets.get(ws);
    // Complete the closing handshake, or the client waits and then sees 1006. 1005/1006/1015
    // describe a missing frame and may not be sent, so those become a plain 1000.
    this.#sockets.close(ws, code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    this.#log.debug("socket closed", { socket: state?.id, code, reason });
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    const state = this.#sockets.get(ws);
    this.#sockets.delete(ws);
    this.#log.info("socket error", { socket: state?.id, err: error });
  }

  /** One alarm multiplexes every timer: auth deadlines, token expiry, idle sweep, dedup pruning. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const [ws, s] of this.#sockets.entries()) {
      if (!s.userId) {
        if (now >= s.authDeadline) this.#sockets.close(ws, CloseCodes.AuthTimeout, "No auth message in time; send it first.");
        continue;
      }
      if (s.expiresAt !== null && now >= s.expiresAt) {
        this.#sockets.close(ws, CloseCodes.TokenExpired, "Token expired: get a new token and reconnect with resume.");
        continue;
      }
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      if (Math.max(pinged, s.lastMessageAt) < now - IDLE_TIMEOUT_MS) {
        this.#sockets.close(ws, CloseCodes.Idle, `No ping for ${IDLE_TIMEOUT_MS / 1000} s; reconnect.`);
      }
    }
    await this.#state.rooms.sweep(now, (e) => this.#send([this.#sequence(e, now)], this.#store.seq));
    if (now - this.#lastPrune > 60 * 60_000) {
      this.#store.pruneSeen(now);
      this.#lastPrune = now;
    }
    await this.#alarmBy(this.#nextDeadline());
  }

  // ---- internals ------------------------------------------------------------------------------

  async #onMessage(ws: WebSocket, state: SocketState, message: string | ArrayBuffer): Promise<void> {
    // Acks are most of what clients send: take the common exact form without a full parse.
    const ack = state.userId && typeof message === "string" ? ACK_FAST.exec(message) : null;
    if (ack) {
      const seq = Number(ack[1]);
      if (seq <= this.#store.seq) this.#sockets.ack(ws, seq, Date.now());
      return;
    }
    if (typeof message !== "string" || message.length > MAX_CLIENT_MESSAGE_BYTES) {
      return this.#protocolViolation(ws, state, "Messages must be JSON text under 16 KB.");
    }
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      return this.#protocolViolation(ws, state, "Message is not valid JSON.");
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#protocolViolation(ws, state, `Invalid message: ${issue?.path.join(".") || "type"}: ${issue?.message}`);
    }
    const msg = parsed.data;
    if (msg.type === "auth") {
      if (state.userId) return this.#sendError(ws, "ALREADY_AUTHENTICATED", "This connection is already authenticated.");
      return this.#authenticate(ws, state, msg.token, msg.resume, msg.batch);
    }
    if (!state.userId) return this.#protocolViolation(ws, state, 'The first message must be {"type":"auth","token":"..."}.');
    if (msg.seq <= this.#store.seq) this.#sockets.ack(ws, msg.seq, Date.now());
  }

  /** Before auth a bad message closes the socket; after auth it is answered and ignored. */
  #protocolViolation(ws: WebSocket, state: SocketState, message: string): void {
    if (state.userId) this.#sendError(ws, "BAD_MESSAGE", message);
    else this.#sockets.close(ws, CloseCodes.ProtocolError, message);
  }

  async #authenticate(ws: WebSocket, state: SocketState, token: string, resume?: { seq: number; epoch?: string | undefined }, batch?: boolean): Promise<void> {
    const config = getConfig(this.env);
    let player;
    try {
      player = await verifyPlayerToken(token, { jwksUrl: config.JWT_PUBLIC_JWK_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      this.#log.info("ws auth rejected", { socket: state.id, reason: err.message });
      const code = err.code === "TOKEN_EXPIRED" ? CloseCodes.TokenExpired : CloseCodes.AuthFailed;
      return this.#sockets.close(ws, code, err.message);
    }
    // The socket may have closed, or timed out, while the keys were fetched.
    const current = this.#sockets.get(ws);
    if (!current || current.userId) return;

    const seq = this.#store.seq;
    const canResume =
      resume !== undefined &&
      resume.epoch === this.#store.epoch &&
      resume.seq <= seq &&
      resume.seq >= this.#store.oldestHeldSeq() - 1;
    const now = Date.now();
    this.#sockets.save(ws, { ...current, userId: player.userId, expiresAt: player.expiresAt, ackedSeq: canResume ? resume.seq : seq, lastMessageAt: now, batch: batch === true });

    const ok: AuthOk = {
      v: 1,
      type: "ack",
      event: "auth.ok",
      guildId: this.#store.guildId ?? "",
      userId: player.userId,
      seq,
      epoch: this.#store.epoch,
      resumed: canResume,
      presence: this.#store.presenceByChannel(),
      expiresAt: player.expiresAt,
      maxLag: MAX_CLIENT_LAG,
      ts: now,
    };
    ws.send(JSON.stringify(ok));
    if (canResume) {
      const missed = this.#store.eventsAfter(resume.seq);
      for (const data of batch ? batchFrames(missed) : missed) ws.send(data);
    }
    this.#log.info("ws authenticated", { socket: state.id, userId: player.userId, resumed: canResume, fromSeq: resume?.seq });
    await this.#alarmBy(player.expiresAt);
  }

  #publishOnce(id: string, e: PublicEvent): void {
    const now = Date.now();
    if (this.#store.markSeen(id, now)) this.#send([this.#sequence(e, now)], this.#store.seq);
  }

  /** Gives the event the next seq, stores it for resume, and returns it serialized (once). */
  #sequence(e: PublicEvent, ts: number): string {
    return this.#store.append((seq) => JSON.stringify({ v: 1, type: "event", event: e.event, payload: e.payload, ts, seq })).data;
  }

  /**
   * Sends serialized events to every authenticated socket: one message per event, or for clients
   * that asked for batches one frame holding them all (built once, the same string for each).
   * `sentBefore` is the seq the clients had been sent before these events (slow-consumer check).
   */
  #send(events: string[], sentBefore: number): void {
    if (events.length === 0) return;
    let frames: string[] | undefined;
    for (const [ws, s] of this.#sockets.entries()) {
      if (!s.userId) continue;
      if (sentBefore - s.ackedSeq > MAX_CLIENT_LAG) {
        this.#log.warn("closing slow consumer", { socket: s.id, userId: s.userId, ackedSeq: s.ackedSeq, sentBefore });
        this.#sockets.close(ws, CloseCodes.SlowConsumer, `Fell more than ${MAX_CLIENT_LAG} events behind; reconnect with resume.`);
        continue;
      }
      try {
        if (s.batch && events.length > 1) {
          frames ??= batchFrames(events);
          for (const frame of frames) ws.send(frame);
        } else {
          for (const data of events) ws.send(data);
        }
      } catch (err) {
        this.#log.info("send failed; dropping socket", { socket: s.id, err });
        this.#sockets.close(ws, 1011, "Send failed.");
      }
    }
  }

  #sendError(ws: WebSocket, code: string, message: string): void {
    const err: ErrorAck = { v: 1, type: "ack", event: "error", payload: { code, message }, ts: Date.now() };
    try {
      ws.send(JSON.stringify(err));
    } catch {
      // socket already gone
    }
  }

  /**
   * Brings the alarm forward to `at` when it is set later or not at all. Each deadline is passed
   * here when it is created (auth deadline, token expiry, room timers) and alarm() recomputes all
   * of them after firing, so the alarm is never later than the earliest one and no scan over the
   * sockets is needed on the hot paths (connects, posts).
   */
  async #alarmBy(at: number | null | undefined): Promise<void> {
    if (at === null || at === undefined) return;
    const now = Date.now();
    const existing = await this.ctx.storage.getAlarm();
    if (existing === null || existing > at || existing < now) await this.ctx.storage.setAlarm(Math.max(at, now + 1));
  }

  /** The earliest of every pending deadline, for re-arming after the alarm fired. */
  #nextDeadline(): number | null {
    const now = Date.now();
    let next = this.#state.rooms.nextDue() ?? Infinity;
    for (const [, s] of this.#sockets.entries()) {
      next = Math.min(next, s.userId ? now + SWEEP_INTERVAL_MS : s.authDeadline);
      if (s.expiresAt !== null) next = Math.min(next, s.expiresAt);
    }
    return next === Infinity ? null : next;
  }
}

/** `{"type":"ack","seq":N}` exactly as the client library sends it. */
const ACK_FAST = /^\{"type":"ack","seq":(\d{1,15})\}$/;

/** Batch frames of at most MAX_BATCH_EVENTS from already-serialized events, without parsing them again. */
function batchFrames(events: string[]): string[] {
  const frames: string[] = [];
  for (let i = 0; i < events.length; i += MAX_BATCH_EVENTS) frames.push(`{"v":1,"type":"batch","events":[${events.slice(i, i + MAX_BATCH_EVENTS).join(",")}]}`);
  return frames;
}
