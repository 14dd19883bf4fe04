/**
 * One gateway WebSocket connection: framing, optional zlib-stream compression, the client-side
 * limits (payload size, send rate), heartbeats and the heartbeat timeout. Session logic
 * (identify, resume) belongs to the Gateway, which this connection calls through `handler`.
 */
import { GatewayCloseCodes, GatewayOpcodes } from "discord-api-types/v10";
import { WebSocket, type RawData } from "ws";
import { ZlibStreamEncoder } from "./compression.ts";
import { MAX_CLIENT_PAYLOAD_BYTES, SendLimiter } from "./limits.ts";
import type { Session, SessionConnection } from "./sessions.ts";

export interface ConnectionHandler {
  onHeartbeat(connection: GatewayConnection): void;
  onIdentify(connection: GatewayConnection, d: unknown): void;
  onResume(connection: GatewayConnection, d: unknown): void;
  onVoiceStateUpdate(connection: GatewayConnection, d: unknown): void;
  /** `code` is what the server closed with, or what the client sent (1006 for a dropped socket). */
  onClosed(connection: GatewayConnection, code: number, closedByServer: boolean): void;
}

/** Close reasons worded as Discord's gateway words them. */
const CLOSE_REASONS: Partial<Record<number, string>> = {
  [GatewayCloseCodes.UnknownError]: "Unknown error.",
  [GatewayCloseCodes.UnknownOpcode]: "Unknown opcode.",
  [GatewayCloseCodes.DecodeError]: "Error while decoding payload.",
  [GatewayCloseCodes.NotAuthenticated]: "Not authenticated.",
  [GatewayCloseCodes.AuthenticationFailed]: "Authentication failed.",
  [GatewayCloseCodes.AlreadyAuthenticated]: "Already authenticated.",
  [GatewayCloseCodes.InvalidSeq]: "Invalid seq.",
  [GatewayCloseCodes.RateLimited]: "Rate limited.",
  [GatewayCloseCodes.SessionTimedOut]: "Session timed out.",
  [GatewayCloseCodes.InvalidShard]: "Invalid shard.",
  [GatewayCloseCodes.ShardingRequired]: "Sharding required.",
  [GatewayCloseCodes.InvalidAPIVersion]: "Invalid API version.",
  [GatewayCloseCodes.InvalidIntents]: "Invalid intent(s).",
  [GatewayCloseCodes.DisallowedIntents]: "Disallowed intent(s).",
};

/** Opcodes a client may send once identified that the simulator accepts without acting on them. */
const ACCEPTED_OPS = new Set<number>([
  GatewayOpcodes.PresenceUpdate,
  GatewayOpcodes.RequestGuildMembers,
  GatewayOpcodes.RequestSoundboardSounds,
  43, // Request Channel Info (documented 2026-04; not yet in discord-api-types' enum)
]);

export class GatewayConnection implements SessionConnection {
  session: Session | null = null;
  /** When true, heartbeats are received but never acknowledged. */
  zombie = false;
  private serverCloseCode: number | null = null;
  private readonly limiter = new SendLimiter();
  private heartbeatTimeout: NodeJS.Timeout | undefined;
  private readonly encoder: ZlibStreamEncoder | null;
  /** In compressed mode, frames (and a final close) leave in order through this chain. */
  private outbox: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    private readonly handler: ConnectionHandler,
    private readonly heartbeatIntervalMs: number,
    compress: boolean,
  ) {
    this.encoder = compress ? new ZlibStreamEncoder() : null;
    ws.on("message", (data) => this.onMessage(data));
    ws.on("close", (code) => this.onSocketClosed(code));
    ws.on("error", () => {}); // a client vanishing mid-frame is normal here; 'close' follows
    this.send({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: heartbeatIntervalMs, _trace: ['["sim-gateway"]'] } });
    this.armHeartbeatTimeout();
  }

  /** Open and not being closed by us. */
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.serverCloseCode === null;
  }

  send(payload: object): void {
    if (!this.open) return;
    const text = JSON.stringify({ s: null, t: null, d: null, ...payload });
    const encoder = this.encoder;
    if (!encoder) {
      this.ws.send(text);
      return;
    }
    this.outbox = this.outbox
      .then(() => encoder.encode(text))
      .then((frame) => {
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame, { binary: true });
      })
      .catch(() => undefined);
  }

  /** Closes with a close frame, after anything already queued has been sent. */
  close(code: number, reason = CLOSE_REASONS[code] ?? ""): void {
    if (this.serverCloseCode !== null || this.ws.readyState !== WebSocket.OPEN) return;
    this.serverCloseCode = code;
    clearTimeout(this.heartbeatTimeout);
    this.outbox = this.outbox.then(() => this.ws.close(code, reason));
  }

  /** Destroys the TCP socket without a close frame (what a network failure looks like). */
  drop(): void {
    this.ws.terminate();
  }

  private onMessage(data: RawData): void {
    if (!this.open) return;
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (raw.length > MAX_CLIENT_PAYLOAD_BYTES) return this.close(GatewayCloseCodes.DecodeError);
    if (!this.limiter.take()) return this.close(GatewayCloseCodes.RateLimited);
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(raw.toString("utf8")) as { op?: unknown; d?: unknown };
    } catch {
      return this.close(GatewayCloseCodes.DecodeError);
    }
    if (typeof payload !== "object" || payload === null || typeof payload.op !== "number") {
      return this.close(GatewayCloseCodes.DecodeError);
    }
    this.handleOp(payload.op, payload.d);
  }

  private handleOp(op: number, d: unknown): void {
    switch (op) {
      case GatewayOpcodes.Heartbeat:
        this.handler.onHeartbeat(this);
        this.armHeartbeatTimeout();
        if (!this.zombie) this.send({ op: GatewayOpcodes.HeartbeatAck });
        return;
      case GatewayOpcodes.Identify:
        if (this.session) return this.close(GatewayCloseCodes.AlreadyAuthenticated);
        return this.handler.onIdentify(this, d);
      case GatewayOpcodes.Resume:
        if (this.session) return this.close(GatewayCloseCodes.AlreadyAuthenticated);
        return this.handler.onResume(this, d);
      case GatewayOpcodes.VoiceStateUpdate:
        if (!this.session) return this.close(GatewayCloseCodes.NotAuthenticated);
        return this.handler.onVoiceStateUpdate(this, d);
      default:
        if (!ACCEPTED_OPS.has(op)) return this.close(GatewayCloseCodes.UnknownOpcode);
        if (!this.session) return this.close(GatewayCloseCodes.NotAuthenticated);
    }
  }

  /** Discord drops clients that stop heartbeating; we allow 1.5 intervals since the last one. */
  private armHeartbeatTimeout(): void {
    clearTimeout(this.heartbeatTimeout);
    this.heartbeatTimeout = setTimeout(() => this.close(GatewayCloseCodes.SessionTimedOut), this.heartbeatIntervalMs * 1.5);
  }

  private onSocketClosed(code: number): void {
    clearTimeout(this.heartbeatTimeout);
    this.encoder?.close();
    const byServer = this.serverCloseCode !== null;
    this.handler.onClosed(this, this.serverCloseCode ?? code, byServer);
  }
}
