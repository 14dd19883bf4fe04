/**
 * The simulator's Discord voice server: a voice gateway v8 over WSS (a certificate made at start
 * for 127.0.0.1), the UDP relay, and one DAVE group per channel. The main gateway asks it for a
 * grant (`authorize`) when a user joins a voice channel and hands the token and endpoint to the
 * client in VOICE_SERVER_UPDATE; world voice-state changes (leave, channel deleted, deafen) reach it
 * through `onVoiceState`.
 */
import { randomBytes, randomInt } from "node:crypto";
import { unlinkSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "@spell-coven/common";
import { VoiceCloseCodes } from "discord-api-types/voice/v8";
import type { APIVoiceState } from "discord-api-types/v10";
import { WebSocketServer } from "ws";
import { VoiceCertificate } from "./certificate.ts";
import { DaveExternalSender } from "./daveExternalSender.ts";
import { DaveGroup } from "./daveGroup.ts";
import { ToneSource } from "./people/toneSource.ts";
import { TRANSPORT_MODES, type TransportMode } from "./transportCipher.ts";
import { UdpRelay, type RelayFaults } from "./udpRelay.ts";
import { VoiceGateway, type VoiceDirectory } from "./voiceGateway.ts";
import { VoiceRoom } from "./voiceRoom.ts";
import { VoiceSession, type VoiceGrant } from "./voiceSession.ts";
import { VoiceSocket } from "./voiceSocket.ts";

export interface VoiceServerOptions {
  /** Loopback address for WSS and UDP. Default 127.0.0.1 (the client needs IPv4). */
  host?: string;
  /** Voice Hello's heartbeat_interval. Default 13_750 (Discord's). */
  heartbeatIntervalMs?: number;
  /** How long a session whose socket dropped stays resumable. Default 15_000 ms. */
  resumeWindowMs?: number;
  /**
   * 1 (default): DAVE required, as on Discord since 2026-03-02; clients without it get 4017.
   * 0: the named "DAVE version 0" test mode (transport encryption only).
   */
  daveVersion?: 0 | 1;
  /** Modes offered in Ready, in order (the client takes the first it supports). Default both, AES-GCM first. */
  modes?: TransportMode[];
  /** Wait for every op 23 at most this long before op 22. Default 2000 ms. */
  transitionTimeoutMs?: number;
}

/** VOICE_SERVER_UPDATE's data. */
export interface VoiceServerUpdate {
  token: string;
  guild_id: string;
  endpoint: string;
}

export interface VoiceServerStats {
  sessions: number;
  identifies: number;
  resumes: number;
  closeCodes: Record<string, number>;
  relay: UdpRelay["stats"];
  rooms: { guildId: string; channelId: string; users: string[]; dave: ReturnType<DaveGroup["state"]> | null; daveStats: DaveGroup["stats"] | null }[];
}

export class VoiceServer implements VoiceDirectory {
  readonly host: string;
  readonly modes: readonly TransportMode[];
  readonly daveVersion: 0 | 1;
  readonly resumeWindowMs: number;
  /** Fault: extra delay before each DAVE op 22. */
  transitionDelayMs = 0;
  /** Fault: this many next DAVE Welcomes (op 30) are corrupted, so the joiner reports op 31 and is re-added. */
  corruptWelcomes = 0;
  /** Fault: DAVE commits are announced with transition id 0 (the @discordjs/voice 0.19.2 recovery bug). */
  zeroTransitionIds = false;
  /** Called when the server re-issues a grant itself (endpoint move, a move by someone else): deliver it as VOICE_SERVER_UPDATE. */
  readonly serverUpdateListeners = new Set<(userId: string, update: VoiceServerUpdate) => void>();
  private readonly log: Logger = createLogger(process.env.LOG_LEVEL ?? "WARN", { component: "sim-voice" });
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  private readonly gateway = new VoiceGateway(this);
  private readonly relay: UdpRelay;
  private readonly grants = new Map<string, VoiceGrant>();
  private readonly sessionsByToken = new Map<string, VoiceSession>();
  private readonly sessionsBySsrc = new Map<number, VoiceSession>();
  private readonly rooms = new Map<string, VoiceRoom>();
  private readonly sockets = new Set<VoiceSocket>();
  private readonly listeners: Server[] = [];
  private readonly counters = { identifies: 0, resumes: 0 };
  private readonly closeCodes = new Map<number, number>();
  private currentEndpoint = "";
  private readonly answering = new Set<string>();

  private constructor(
    readonly certificate: VoiceCertificate,
    private readonly heartbeatIntervalMs: number,
    private readonly transitionTimeoutMs: number,
    opts: VoiceServerOptions,
  ) {
    this.host = opts.host ?? "127.0.0.1";
    this.modes = opts.modes ?? [...TRANSPORT_MODES];
    this.daveVersion = opts.daveVersion ?? 1;
    this.resumeWindowMs = opts.resumeWindowMs ?? 15_000;
    this.relay = new UdpRelay(
      { sessionBySsrc: (ssrc) => this.sessionsBySsrc.get(ssrc), listenersOf: (s) => this.rooms.get(s.roomKey)?.listenersOf(s) ?? [] },
      this.host,
    );
  }

  static async start(opts: VoiceServerOptions = {}): Promise<VoiceServer> {
    if (opts.modes?.length === 0) throw new RangeError("voice modes must name at least one mode");
    const certificate = await VoiceCertificate.create(opts.host ?? "127.0.0.1");
    const server = new VoiceServer(certificate, opts.heartbeatIntervalMs ?? 13_750, opts.transitionTimeoutMs ?? 2000, opts);
    if (server.daveVersion === 1) await DaveExternalSender.prepare();
    await server.relay.listen();
    await server.openListener();
    return server;
  }

  /** `host:port` of the current WSS listener, as VOICE_SERVER_UPDATE's endpoint carries it. */
  get endpoint(): string {
    return this.currentEndpoint;
  }

  get udpPort(): number {
    return this.relay.port;
  }

  get faults(): RelayFaults {
    return this.relay.faults;
  }

  /** A user joins (or rejoins) a voice channel: a fresh token for VOICE_SERVER_UPDATE. */
  authorize(grant: Omit<VoiceGrant, "token">): VoiceServerUpdate {
    for (const [token, g] of this.grants) {
      if (g.guildId === grant.guildId && g.userId === grant.userId && !this.sessionsByToken.has(token)) this.grants.delete(token);
    }
    const token = randomBytes(12).toString("hex");
    this.grants.set(token, { ...grant, token });
    return { token, guild_id: grant.guildId, endpoint: this.currentEndpoint };
  }

  /**
   * Runs `change` (a world voice change made in answer to the user's own op 4, which answers with
   * its own VOICE_SERVER_UPDATE) without the move handling of `onVoiceState`.
   */
  answeringOp4<T>(guildId: string, userId: string, change: () => T): T {
    const key = `${guildId}:${userId}`;
    this.answering.add(key);
    try {
      return change();
    } finally {
      this.answering.delete(key);
    }
  }

  /**
   * World voice-state changes: a leave (or deleted channel) disconnects (4014); deafen stops
   * audio to the user; a move by someone else (the control API) re-issues the grant for the new
   * channel, so the client reconnects there (the simulator's way of moving a voice session).
   */
  onVoiceState(state: APIVoiceState): void {
    const { guild_id: guildId, user_id: userId } = state;
    for (const session of [...this.sessionsByToken.values()]) {
      if (session.grant.guildId !== guildId || session.userId !== userId) continue;
      if (state.channel_id === null) {
        this.endSession(session, VoiceCloseCodes.Disconnected);
        continue;
      }
      session.selfDeaf = state.self_deaf || state.deaf;
      if (state.channel_id !== session.grant.channelId && !this.answering.has(`${guildId}:${userId}`)) {
        const update = this.authorize({ guildId, channelId: state.channel_id, userId, sessionId: state.session_id });
        for (const listener of this.serverUpdateListeners) listener(userId, update);
      }
    }
    if (state.channel_id === null) {
      for (const [token, g] of this.grants) if (g.guildId === guildId && g.userId === userId) this.grants.delete(token);
    }
  }

  // ---- VoiceDirectory (used by the voice gateway) ----

  grant(token: string): VoiceGrant | undefined {
    return this.grants.get(token);
  }

  openSession(grant: VoiceGrant, daveVersion: 0 | 1): VoiceSession {
    this.counters.identifies++;
    for (const old of this.sessionsByToken.values()) {
      if (old.grant.guildId === grant.guildId && old.userId === grant.userId) this.endSession(old, VoiceCloseCodes.SessionNoLongerValid);
    }
    const session = new VoiceSession(grant);
    session.daveVersion = daveVersion;
    this.log.debug("voice: session identified", { guildId: grant.guildId, channelId: grant.channelId, userId: grant.userId, ssrc: session.ssrc, daveVersion });
    session.selfDeaf = this.selfDeafFor?.(grant.guildId, grant.userId) ?? false;
    this.sessionsByToken.set(grant.token, session);
    this.sessionsBySsrc.set(session.ssrc, session);
    return session;
  }

  /** Reads the user's current self_deaf from the world (set by the simulator). */
  selfDeafFor: ((guildId: string, userId: string) => boolean) | null = null;

  sessionByToken(token: string): VoiceSession | undefined {
    return this.sessionsByToken.get(token);
  }

  room(session: VoiceSession): VoiceRoom {
    let room = this.rooms.get(session.roomKey);
    if (!room) {
      const dave =
        this.daveVersion === 1
          ? new DaveGroup(session.grant.channelId, DaveExternalSender.create(), {
              transitionTimeoutMs: this.transitionTimeoutMs,
              transitionDelayMs: () => this.transitionDelayMs,
              takeWelcomeCorruption: () => this.corruptWelcomes > 0 && this.corruptWelcomes-- > 0,
              zeroTransitionIds: () => this.zeroTransitionIds,
              log: this.log,
            })
          : null;
      room = new VoiceRoom(session.grant.guildId, session.grant.channelId, dave);
      this.rooms.set(session.roomKey, room);
    }
    return room;
  }

  endSession(session: VoiceSession, closeCode?: number): void {
    if (session.ended) return;
    session.end();
    this.log.debug("voice: session ended", {
      guildId: session.grant.guildId,
      channelId: session.grant.channelId,
      userId: session.userId,
      closeCode: closeCode ?? null,
    });
    this.sessionsByToken.delete(session.grant.token);
    this.sessionsBySsrc.delete(session.ssrc);
    this.grants.delete(session.grant.token);
    const room = this.rooms.get(session.roomKey);
    room?.remove(session);
    if (room && room.size === 0) {
      room.close();
      this.rooms.delete(session.roomKey);
    }
    const socket = session.socket;
    if (socket) {
      socket.session = null;
      if (closeCode !== undefined) socket.close(closeCode);
    }
  }

  countResume(): void {
    this.counters.resumes++;
  }

  countClose(code: number): void {
    this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
  }

  // ---- faults ----

  /** Destroys voice WebSockets without a close frame (the clients resume). userId omitted = all. */
  dropSockets(userId?: string): number {
    let n = 0;
    for (const s of this.sockets) if (userId === undefined || s.session?.userId === userId) s.drop(), n++;
    return n;
  }

  /** Closes voice WebSockets with `code` (e.g. 4006, 4014, 4015). userId omitted = all. */
  closeSockets(code: number, userId?: string): number {
    let n = 0;
    for (const s of this.sockets) if (userId === undefined || s.session?.userId === userId) s.close(code), n++;
    return n;
  }

  /**
   * Fault: `count` plain (non-DAVE) Opus frames, one per 20 ms, to everyone in `userId`'s channel
   * as if that user sent them (a client sending before its E2EE was ready, or a buggy peer).
   * Listeners' davey sessions fail to decrypt them (UnencryptedWhenPassthroughDisabled).
   */
  async injectUnencryptedFrames(userId: string, count: number): Promise<number> {
    const sender = [...this.sessionsByToken.values()].find((s) => s.userId === userId && s.cipher);
    if (!sender) throw new RangeError(`User ${userId} has no connected voice session`);
    const tone = new ToneSource({ frequencyHz: 440, durationMs: count * 20 });
    const start = randomInt(0, 0xffff);
    let sent = 0;
    try {
      for (let frame = tone.read() as Buffer | null; frame && !sender.ended; frame = tone.read() as Buffer | null) {
        this.relay.injectFrom(sender, frame, start + sent++);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      tone.destroy();
    }
    return sent;
  }

  /**
   * Moves the voice endpoint: a new WSS port, and a new grant (VOICE_SERVER_UPDATE) for every
   * connected user through `serverUpdateListeners`. Their clients reconnect to the new endpoint.
   */
  async moveEndpoint(): Promise<string> {
    const old = this.listeners.shift();
    await this.openListener();
    old?.close();
    for (const session of [...this.sessionsByToken.values()]) {
      const { token: _old, ...grant } = session.grant;
      const update = this.authorize(grant);
      for (const listener of this.serverUpdateListeners) listener(session.userId, update);
    }
    return this.currentEndpoint;
  }

  stats(): VoiceServerStats {
    return {
      sessions: this.sessionsByToken.size,
      ...this.counters,
      closeCodes: Object.fromEntries(this.closeCodes),
      relay: { ...this.relay.stats },
      rooms: [...this.rooms.values()].map((r) => ({
        guildId: r.guildId,
        channelId: r.channelId,
        users: r.sessions().map((s) => s.userId),
        dave: r.dave?.state() ?? null,
        daveStats: r.dave ? { ...r.dave.stats } : null,
      })),
    };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.drop();
    for (const session of [...this.sessionsByToken.values()]) this.endSession(session);
    for (const room of this.rooms.values()) room.close();
    this.relay.close();
    this.wss.close();
    await Promise.all(this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
    for (const l of this.listeners) l.closeAllConnections();
    try {
      unlinkSync(this.certificate.caFile);
    } catch {
      // already gone
    }
  }

  // ---- internals ----

  private async openListener(): Promise<void> {
    const server = createServer({ cert: this.certificate.certPem, key: this.certificate.keyPem }, (_req, res) => {
      res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ message: "404: Not Found", code: 0 }));
    });
    server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "https://localhost");
      if (url.searchParams.get("v") !== "8") {
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const voiceSocket = new VoiceSocket(ws, this.gateway, this.heartbeatIntervalMs);
        this.sockets.add(voiceSocket);
        ws.on("close", () => this.sockets.delete(voiceSocket));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, this.host, () => resolve());
    });
    this.listeners.push(server);
    this.currentEndpoint = `${this.host}:${(server.address() as AddressInfo).port}`;
  }
}
