/**
 * GuildHub: one Durable Object per guild, the platform shell around HubCore. It keeps only what
 * the runtime needs (accepting WebSocket upgrades, the hibernation handlers, the alarm, the RPC
 * surface the Worker's routes call) and delegates the rest; features live in modules
 * (hub-core.ts, modules/).
 *
 * Flow: the Worker forwards `/api/ws` upgrades here (fetch) and calls `ingest()` over RPC with
 * events from gateway-node, and the rooms methods from its routes.
 */
import { DurableObject } from "cloudflare:workers";
import {
  PING,
  PONG,
  createLogger,
  type ChatHistory,
  type CommandAccepted,
  type CreateRoomRequest,
  type InternalEvent,
  type InternalSignal,
  type Logger,
  type Presence,
  type Room,
} from "@spell-coven/common";
import { getConfig, type Env } from "../env.ts";
import { botUserId, discordClient } from "../discord.ts";
import { readBridgeRequest } from "../stream/bridge-request.ts";
import { HubCore, type IngestResult } from "./hub-core.ts";
import { MAX_SOCKETS } from "./limits.ts";
import { presenceModule } from "./modules/presence/presence-module.ts";
import { PresenceStore } from "./modules/presence/presence-store.ts";
import { roomsModule } from "./modules/rooms/rooms-module.ts";
import { RoomsService, type RoomOutcome } from "./modules/rooms/rooms-service.ts";
import { RoomsStore } from "./modules/rooms/rooms-store.ts";
import { tablesModule } from "./modules/tables/tables-module.ts";
import { botModule } from "./modules/bot/bot-module.ts";
import { VoiceMover } from "./modules/tables/voice-mover.ts";
import type { ChatCommand, ChatCommands } from "./modules/commands/chat-commands.ts";
import { chatFeature } from "./modules/commands/chat-feature.ts";
import type { ChatHistoryReader, ChatHistoryRequest } from "./modules/commands/chat-history.ts";
import type { MetricSample } from "./modules/metrics/hub-metrics.ts";

export type { IngestResult } from "./hub-core.ts";
export type { RoomOutcome } from "./modules/rooms/rooms-service.ts";

/** Header the Worker's `/api/ws` route sets to tell the object which guild it serves. */
export const GUILD_ID_HEADER = "X-Guild-Id";

export interface HubStatus {
  guildId: string | null;
  seq: number;
  epoch: string;
  sockets: number;
  authenticated: number;
  presence: Presence;
}

export class GuildHub extends DurableObject<Env> {
  readonly #core: HubCore;
  readonly #rooms: RoomsService;
  readonly #presence: PresenceStore;
  readonly #chat: ChatCommands;
  readonly #history: ChatHistoryReader;
  readonly #log: Logger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = getConfig(env);
    this.#log = createLogger(env.LOG_LEVEL, { service: "guild-hub" });
    const sql = ctx.storage.sql;
    let rooms!: RoomsService;
    let presence!: PresenceStore;
    let chat!: ChatCommands;
    let history!: ChatHistoryReader;
    this.#core = new HubCore(
      {
        sql,
        alarm: ctx.storage,
        sockets: ctx.getWebSockets(),
        lastPingAt: (ws) => ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0,
        jwt: () => ({ jwksUrl: config.JWT_PUBLIC_JWK_URL, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
        log: this.#log,
      },
      (hub) => {
        presence = new PresenceStore(hub.sql);
        const roomsStore = new RoomsStore(hub.sql);
        rooms = new RoomsService(
          roomsStore,
          {
            get guildId() {
              return hub.meta.guildId ?? "";
            },
            publish: hub.publish,
            publishOnce: hub.publishOnce,
            voiceIn: (channelId) => presence.voiceIn(channelId),
          },
          config,
          () => discordClient(env, config, this.#log),
          botUserId(config),
          hub.log.child({ component: "rooms" }),
        );
        const mover = new VoiceMover({
          sql: hub.sql,
          fanout: hub.fanout,
          channelOf: (userId) => presence.channelOf(userId),
          discord: () => discordClient(env, config, this.#log),
          guildId: () => hub.meta.guildId ?? "",
          log: hub.log.child({ component: "voice-mover" }),
        });
        const tables = tablesModule({ subscribers: hub.subscribers, fanout: hub.fanout, rooms, mover, log: hub.log.child({ component: "tables" }) });
        const tableChat = chatFeature({
          hub,
          rooms,
          voiceIn: (channelId) => presence.voiceIn(channelId),
          guildId: () => hub.meta.guildId ?? "",
          discord: () => discordClient(env, config, this.#log),
          botUserId: botUserId(config),
          log: hub.log,
        });
        chat = tableChat.commands;
        history = tableChat.history;
        const bot = botModule({
          target: config.RTC_NODE_URL && config.HUB_SECRET ? { url: config.RTC_NODE_URL, secret: config.HUB_SECRET } : null,
          guildId: () => hub.meta.guildId ?? "",
          voiceIn: (channelId) => presence.voiceIn(channelId),
          botUserId: botUserId(config),
          log: hub.log.child({ component: "bot" }),
        });
        return {
          modules: [presenceModule(presence), roomsModule(roomsStore, rooms, hub.remember), tables, tableChat.module, bot],
          presence: () => presence.byChannel(),
          voiceFlags: () => presence.flagged(),
        };
      },
    );
    this.#rooms = rooms;
    this.#presence = presence;
    this.#chat = chat;
    this.#history = history;
    // Keep-alive pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- RPC --------------------------------------------------------------------------------------

  /** Applies internal events in order; duplicates (by id) are counted and skipped. */
  async ingest(events: InternalEvent[]): Promise<IngestResult> {
    const result = this.#core.ingest(events);
    // Voice changes move room idle deadlines; a deleted channel may have left a role to clean up.
    await this.#core.deadlines.by(this.#rooms.nextDue());
    return result;
  }

  /** Relays sidecar signals (rtc-node's `voice.speaking`) to the table each names; never stored. */
  async relaySignals(signals: InternalSignal[]): Promise<{ delivered: number }> {
    let delivered = 0;
    for (const s of signals) delivered += this.#core.fanout.signal({ table: s.payload.channelId }, s.signal, s.payload);
    return { delivered };
  }

  async createRoom(guildId: string, userId: string, body: CreateRoomRequest, idempotencyKey: string | null, requestHash: string) {
    return this.#roomsCall(guildId, () => this.#rooms.create(userId, body, idempotencyKey, requestHash));
  }

  async joinRoom(guildId: string, channelId: string, userId: string) {
    return this.#roomsCall(guildId, () => this.#rooms.join(channelId, userId));
  }

  async leaveRoom(guildId: string, channelId: string, userId: string) {
    return this.#roomsCall(guildId, () => this.#rooms.leave(channelId, userId));
  }

  async endRoom(guildId: string, channelId: string, userId: string, isAdmin: boolean) {
    return this.#roomsCall(guildId, () => this.#rooms.end(channelId, userId, isAdmin));
  }

  async listRooms(guildId: string): Promise<Room[]> {
    this.#core.meta.guildId = guildId;
    return this.#rooms.list();
  }

  async getRoom(guildId: string, channelId: string): Promise<RoomOutcome<Room>> {
    this.#core.meta.guildId = guildId;
    const room = this.#rooms.get(channelId);
    return room ? { ok: true, value: room } : { ok: false, code: "ROOM_NOT_FOUND", status: 404, message: "This room does not exist any more." };
  }

  /** A table chat command from the HTTP routes (the WebSocket path reaches the same service). */
  async chatCommand(guildId: string, userId: string, command: ChatCommand): Promise<RoomOutcome<CommandAccepted>> {
    this.#core.meta.guildId = guildId;
    return this.#chat.run(userId, command, Date.now());
  }

  /** A page of a table's chat for a player, oldest first (GET /api/tables/:channelId/messages). */
  async chatHistory(guildId: string, userId: string, channelId: string, request: ChatHistoryRequest): Promise<RoomOutcome<ChatHistory>> {
    this.#core.meta.guildId = guildId;
    return this.#history.read(userId, channelId, request);
  }

  /** Operator counters and gauges of this guild's hub (GET /api/metrics). */
  async metrics(): Promise<{ counters: MetricSample[]; gauges: MetricSample[] }> {
    const status = await this.status();
    const g = { guild: status.guildId ?? "" };
    return {
      counters: this.#core.metrics.samples().map((s) => ({ ...s, labels: { ...g, ...s.labels } })),
      gauges: [
        { name: "hub_sockets", labels: g, value: status.sockets },
        { name: "hub_authenticated_sockets", labels: g, value: status.authenticated },
        { name: "hub_seq", labels: g, value: status.seq },
      ],
    };
  }

  async status(): Promise<HubStatus> {
    let authenticated = 0;
    for (const [, s] of this.#core.subscribers.entries()) if (s.userId) authenticated++;
    return {
      guildId: this.#core.meta.guildId,
      seq: this.#core.eventLog.seq,
      epoch: this.#core.eventLog.epoch,
      sockets: this.#core.subscribers.size,
      authenticated,
      presence: this.#presence.byChannel(),
    };
  }

  // ---- WebSocket lifecycle ------------------------------------------------------------------------

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ error: { code: "UPGRADE_REQUIRED", message: "Connect with a WebSocket." } }, { status: 426 });
    }
    const guildId = request.headers.get(GUILD_ID_HEADER);
    if (guildId) this.#core.meta.guildId = guildId;
    if (this.#core.subscribers.size >= MAX_SOCKETS) {
      return Response.json({ error: { code: "HUB_FULL", message: "This guild has too many connections; retry later." } }, { status: 503 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const id = crypto.randomUUID().slice(0, 8);
    // The socket id is the only tag: user and table are not known until later (subscribers.ts).
    this.ctx.acceptWebSocket(server, [id]);
    const now = Date.now();
    const authDeadline = now + getConfig(this.env).WS_AUTH_TIMEOUT_MS;
    this.#core.subscribers.save(server, { id, connectedAt: now, authDeadline, userId: null, expiresAt: null, ackedSeq: 0, lastMessageAt: now });
    const bridge = readBridgeRequest(request);
    this.#core.metrics.count("hub_connections_total", { transport: bridge ? "sse" : "ws" });
    if (bridge) {
      // An SSE stream's bridge: the Worker verified the player's ticket (stream/bridge-request.ts).
      await this.#core.session.start(server, {
        player: { userId: bridge.userId, expiresAt: bridge.expiresAt, claims: {} },
        resume: bridge.resume,
        batch: true,
      });
    } else {
      await this.#core.deadlines.by(authDeadline);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.#core.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    const subscriber = this.#core.closed(ws);
    if (subscriber) this.#core.metrics.count("hub_closes_total", { code, by: "client" });
    // Complete the closing handshake, or the client waits and then sees 1006. 1005/1006/1015
    // describe a missing frame and may not be sent, so those become a plain 1000.
    this.#core.fanout.close(ws, code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    this.#log.debug("socket closed", { socket: subscriber?.id, code, reason });
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    const subscriber = this.#core.closed(ws);
    this.#log.info("socket error", { socket: subscriber?.id, err: error });
  }

  /** The one alarm: every module does what is due (deadlines.ts). */
  override async alarm(): Promise<void> {
    await this.#core.deadlines.fire();
  }

  /** Runs a rooms call for `guildId`, then makes sure the alarm comes for the room timers it moved. */
  async #roomsCall<T>(guildId: string, call: () => Promise<T>): Promise<T> {
    this.#core.meta.guildId = guildId;
    const out = await call();
    // A role Discord would not delete is queued for retry: the alarm must come for it even when
    // no socket or room timer would wake the object.
    await this.#core.deadlines.by(this.#rooms.nextDue());
    return out;
  }
}
