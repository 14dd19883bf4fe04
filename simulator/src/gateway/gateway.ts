/**
 * The Gateway v10 server: accepts WebSocket upgrades on /gateway and /gateway-resume, runs
 * identify and resume against the session store, fans world events out to sessions by shard and
 * intents, and exposes the fault switches (drop, zombie, op 7, op 9, close, outage).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayOpcodes, GatewayVersion } from "discord-api-types/v10";
import { WebSocketServer } from "ws";
import type { GatewayFaults } from "../types.ts";
import type { VoiceStateRequests } from "../voice/voiceStateRequests.ts";
import type { World } from "../world.ts";
import { GatewayConnection, type ConnectionHandler } from "./connection.ts";
import { ALL_INTENTS, visibleData } from "./intents.ts";
import { Session, SessionStore } from "./sessions.ts";

export const GATEWAY_PATH = "/gateway";
export const RESUME_PATH = "/gateway-resume";

export interface GatewayOptions {
  botToken: string;
  heartbeatIntervalMs: number;
  resumeWindowMs: number;
  allowedIntents: number;
  replayBufferSize: number;
  /** Identify buckets: shard_id % maxConcurrency may identify once per identifyWindowMs (else op 9). */
  maxConcurrency: number;
  identifyWindowMs: number;
  sessionStartLimit: number;
  /** Base for resume_gateway_url, e.g. ws://127.0.0.1:1234 (known once the server listens). */
  wsBase: () => string;
  /** Op 4 handling (voice/voiceStateRequests.ts). */
  voiceStateRequests: VoiceStateRequests;
}

export interface GatewayStats {
  connections: number;
  identifies: number;
  resumes: number;
  heartbeats: number;
  dispatches: number;
  /** Connections opened on resume_gateway_url (Discord asks clients to resume there). */
  resumeUrlConnections: number;
  /** Connections open right now. */
  openConnections: number;
  /** Sessions that exist (connected or resumable). */
  sessions: number;
}

const NO_FAULTS: GatewayFaults = { requireUserAgent: false, invalidateResumes: false, reuseSessionIds: false, restartSeqOnResume: false };

/** Server-sent close codes after which the session cannot be resumed. */
const SESSION_ENDING_CLOSE_CODES = new Set<number>([
  GatewayCloseCodes.NotAuthenticated,
  GatewayCloseCodes.AuthenticationFailed,
  GatewayCloseCodes.InvalidSeq,
  GatewayCloseCodes.SessionTimedOut,
  GatewayCloseCodes.InvalidShard,
  GatewayCloseCodes.ShardingRequired,
  GatewayCloseCodes.InvalidAPIVersion,
  GatewayCloseCodes.InvalidIntents,
  GatewayCloseCodes.DisallowedIntents,
]);

export class Gateway implements ConnectionHandler {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  private readonly connections = new Set<GatewayConnection>();
  private readonly sessions: SessionStore;
  private readonly lastIdentifyAt = new Map<number, number>();
  private readonly counters = { connections: 0, resumeUrlConnections: 0, identifies: 0, resumes: 0, heartbeats: 0, dispatches: 0 };
  private sessionStartsUsed = 0;
  private down = false;
  private faults: GatewayFaults = { ...NO_FAULTS };
  /** The first session id handed out, reused by every identify under `reuseSessionIds`. */
  private firstSessionId: string | null = null;

  constructor(
    private readonly world: World,
    private readonly opts: GatewayOptions,
  ) {
    this.sessions = new SessionStore(opts.resumeWindowMs);
    world.onDispatch = (guildId, event, data) => this.dispatch(guildId, event, data);
  }

  get sessionStartRemaining(): number {
    return Math.max(0, this.opts.sessionStartLimit - this.sessionStartsUsed);
  }

  /** Handles an HTTP upgrade; returns false when the path is not a gateway path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== GATEWAY_PATH && url.pathname !== RESUME_PATH) return false;
    if (this.down) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return true;
    }
    if (this.faults.requireUserAgent && !/^DiscordBot \(/.test(req.headers["user-agent"] ?? "")) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.counters.connections++;
      if (url.pathname === RESUME_PATH) this.counters.resumeUrlConnections++;
      const v = url.searchParams.get("v");
      const encoding = url.searchParams.get("encoding") ?? "json";
      const compress = url.searchParams.get("compress");
      const connection = new GatewayConnection(ws, this, this.opts.heartbeatIntervalMs, compress === "zlib-stream");
      this.connections.add(connection);
      // Discord closes on an unsupported version; the simulator also refuses what it cannot speak.
      if (v !== GatewayVersion) connection.close(GatewayCloseCodes.InvalidAPIVersion);
      else if (encoding !== "json") connection.close(GatewayCloseCodes.DecodeError, "The simulator only speaks encoding=json.");
      else if (compress !== null && compress !== "zlib-stream")
        connection.close(GatewayCloseCodes.DecodeError, "The simulator only supports compress=zlib-stream.");
    });
    return true;
  }

  // ---- ConnectionHandler ----

  onHeartbeat(): void {
    this.counters.heartbeats++;
  }

  onIdentify(connection: GatewayConnection, d: unknown): void {
    const identify = d as { token?: unknown; intents?: unknown; properties?: unknown; shard?: unknown } | null;
    if (typeof identify !== "object" || identify === null || typeof identify.properties !== "object" || typeof identify.intents !== "number") {
      return connection.close(GatewayCloseCodes.DecodeError);
    }
    if (identify.token !== this.opts.botToken && identify.token !== `Bot ${this.opts.botToken}`) {
      return connection.close(GatewayCloseCodes.AuthenticationFailed);
    }
    const shard = identify.shard ?? [0, 1];
    if (!isValidShard(shard)) return connection.close(GatewayCloseCodes.InvalidShard);
    const intents = identify.intents;
    if (!Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) return connection.close(GatewayCloseCodes.InvalidIntents);
    if ((intents & ~this.opts.allowedIntents) !== 0) return connection.close(GatewayCloseCodes.DisallowedIntents);

    // max_concurrency: one identify per bucket (shard_id % max_concurrency) per window, else op 9.
    const bucket = shard[0] % this.opts.maxConcurrency;
    const now = Date.now();
    if (now - (this.lastIdentifyAt.get(bucket) ?? -Infinity) < this.opts.identifyWindowMs) {
      return connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    }
    this.lastIdentifyAt.set(bucket, now);
    this.counters.identifies++;
    this.sessionStartsUsed++;

    const reused = this.faults.reuseSessionIds ? this.firstSessionId : null;
    const session = new Session(shard, intents, this.opts.replayBufferSize, reused ?? undefined);
    this.firstSessionId ??= session.id;
    if (reused) this.sessions.delete(reused);
    this.sessions.add(session);
    this.bind(connection, session);
    const guildIds = this.world
      .guilds()
      .map((g) => g.id)
      .filter((id) => session.routes(id));
    const bot = this.world.apiUser(this.world.bot.id);
    this.deliver(session, GatewayDispatchEvents.Ready, {
      v: Number(GatewayVersion),
      user: { ...bot, verified: true, mfa_enabled: false, email: null, flags: 0 },
      guilds: guildIds.map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      session_type: "normal",
      resume_gateway_url: `${this.opts.wsBase()}${RESUME_PATH}`,
      shard,
      application: { id: this.world.bot.id, flags: 0 },
      user_settings: {},
      relationships: [],
      private_channels: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ["local"],
      _trace: ['["sim-gateway"]'],
    });
    for (const id of guildIds) this.deliver(session, GatewayDispatchEvents.GuildCreate, this.world.guildCreatePayload(id));
  }

  onResume(connection: GatewayConnection, d: unknown): void {
    const resume = d as { token?: unknown; session_id?: unknown; seq?: unknown } | null;
    if (typeof resume !== "object" || resume === null || typeof resume.session_id !== "string" || !(typeof resume.seq === "number" || resume.seq === null)) {
      return connection.close(GatewayCloseCodes.DecodeError);
    }
    if (resume.token !== this.opts.botToken && resume.token !== `Bot ${this.opts.botToken}`) {
      return connection.close(GatewayCloseCodes.AuthenticationFailed);
    }
    const session = this.sessions.get(resume.session_id);
    if (!session || this.faults.invalidateResumes) {
      if (session) this.sessions.delete(session.id);
      return connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    }
    const seq = resume.seq ?? 0;
    if (seq > session.seq) {
      this.sessions.delete(session.id);
      return connection.close(GatewayCloseCodes.InvalidSeq);
    }
    const missed = session.replayAfter(seq);
    if (!missed) {
      this.sessions.delete(session.id);
      return connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    }
    // A resume takes the session over: a half-open old connection is cut, as a new login would.
    const previous = this.connectionOf(session);
    if (previous && previous !== connection) {
      previous.session = null;
      previous.drop();
    }
    this.counters.resumes++;
    this.bind(connection, session);
    for (const payload of missed) connection.send(payload);
    if (this.faults.restartSeqOnResume) session.restartSeq();
    this.deliver(session, GatewayDispatchEvents.Resumed, { _trace: ['["sim-gateway"]'] });
  }

  /** Op 4 from the bot: join, move or leave voice (VOICE_STATE_UPDATE then VOICE_SERVER_UPDATE). */
  onVoiceStateUpdate(connection: GatewayConnection, d: unknown): void {
    if (connection.session && !this.opts.voiceStateRequests.handle(connection.session, d)) connection.close(GatewayCloseCodes.DecodeError);
  }

  onClosed(connection: GatewayConnection, code: number, closedByServer: boolean): void {
    this.connections.delete(connection);
    const session = connection.session;
    connection.session = null;
    if (!session || session.connection !== connection) return;
    // Docs: a client closing with 1000/1001 ends its session; anything else (or a drop) keeps it resumable.
    const ends = closedByServer ? SESSION_ENDING_CLOSE_CODES.has(code) : code === 1000 || code === 1001;
    if (ends) this.sessions.delete(session.id);
    else session.detach();
  }

  // ---- world events ----

  dispatch(guildId: string, event: GatewayDispatchEvents, data: unknown): void {
    for (const session of this.sessions.all()) {
      if (!session.routes(guildId)) continue;
      const visible = visibleData(event, data, session.intents, this.world.bot.id);
      if (visible !== null) this.deliver(session, event, visible);
    }
  }

  // ---- faults (shardId undefined = every connection) ----

  /** Switches misbehaviours on or off (see GatewayFaults); unnamed ones keep their setting. */
  setFaults(faults: Partial<GatewayFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  get currentFaults(): GatewayFaults {
    return { ...this.faults };
  }

  /**
   * A gateway server restart: every socket drops without a close frame and every session is
   * forgotten, so resumes get op 9 d:false and clients identify again.
   */
  restart(): void {
    for (const c of this.connections) {
      c.session = null;
      c.drop();
    }
    this.sessions.clear();
  }

  dropConnections(shardId?: number): void {
    for (const c of this.targets(shardId)) c.drop();
  }

  setZombie(on: boolean, shardId?: number): void {
    for (const c of this.targets(shardId)) c.zombie = on;
  }

  requestHeartbeat(shardId?: number): void {
    for (const c of this.targets(shardId)) c.send({ op: GatewayOpcodes.Heartbeat, d: null });
  }

  sendReconnect(shardId?: number): void {
    for (const c of this.targets(shardId)) c.send({ op: GatewayOpcodes.Reconnect, d: null });
  }

  /** Op 9. Resumable: the session is detached and can be resumed (even on this socket); else it is forgotten. */
  sendInvalidSession(resumable: boolean, shardId?: number): void {
    for (const c of this.targets(shardId)) {
      const session = c.session;
      c.session = null;
      if (session && resumable) session.detach();
      else if (session) this.sessions.delete(session.id);
      c.send({ op: GatewayOpcodes.InvalidSession, d: resumable });
    }
  }

  closeWith(code: number, reason?: string, shardId?: number): void {
    if (!isSendableCloseCode(code)) throw new RangeError(`Close code ${code} cannot be sent in a close frame (use dropConnections for 1006)`);
    for (const c of this.targets(shardId)) c.close(code, reason);
  }

  /** An outage: every socket drops without a close frame; sessions stay resumable. */
  goDown(): void {
    this.down = true;
    for (const c of this.connections) c.drop();
  }

  comeBack(): void {
    this.down = false;
  }

  get isDown(): boolean {
    return this.down;
  }

  stats(): GatewayStats {
    return { ...this.counters, openConnections: this.connections.size, sessions: this.sessions.all().length };
  }

  /** Connections with their shard and state, for the control page. */
  describeConnections(): { shard: [number, number] | null; sessionId: string | null; zombie: boolean; seq: number | null }[] {
    return [...this.connections].map((c) => ({
      shard: c.session?.shard ?? null,
      sessionId: c.session?.id ?? null,
      zombie: c.zombie,
      seq: c.session?.seq ?? null,
    }));
  }

  close(): void {
    for (const c of this.connections) c.drop();
    this.wss.close();
  }

  // ---- internals ----

  private bind(connection: GatewayConnection, session: Session): void {
    connection.session = session;
    session.attach(connection);
  }

  private deliver(session: Session, event: GatewayDispatchEvents, data: unknown): void {
    this.counters.dispatches++;
    session.dispatch(event, data);
  }

  private connectionOf(session: Session): GatewayConnection | undefined {
    return [...this.connections].find((c) => c.session === session);
  }

  private targets(shardId?: number): GatewayConnection[] {
    return [...this.connections].filter((c) => shardId === undefined || c.session?.shard[0] === shardId);
  }
}

function isValidShard(shard: unknown): shard is [number, number] {
  if (!Array.isArray(shard) || shard.length !== 2) return false;
  const [id, count] = shard as unknown[];
  return Number.isInteger(id) && Number.isInteger(count) && (id as number) >= 0 && (count as number) >= 1 && (id as number) < (count as number);
}

/** Codes a close frame may carry (RFC 6455 §7.4; 1005/1006/1015 are reserved for local use). */
function isSendableCloseCode(code: number): boolean {
  return (code >= 3000 && code <= 4999) || [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code);
}
