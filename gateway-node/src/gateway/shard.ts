/**
 * One Gateway v10 connection (one shard), following Discord's "Connection Lifecycle":
 * Hello -> first heartbeat after interval * random() -> Identify (throttled) or Resume ->
 * READY / RESUMED -> dispatches. Op 1 is answered at once; a heartbeat not acknowledged before
 * the next one is a zombie: close with 4900 (keeps the session) and resume on resume_gateway_url.
 * Op 7 -> resume; op 9 d:true -> resume, d:false -> wait 1-5 s, identify; close codes per
 * close-codes.ts. Consecutive failed attempts back off 1, 2, 4, 8, 16 s (jittered); after
 * `maxReconnectAttempts` of them the shard gives up (the process exits, its restart policy takes
 * over).
 */
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { GatewayOpcodes } from "discord-api-types/gateway/v10";
import { DISCORD_USER_AGENT, backoffDelay, type Logger } from "@spell-coven/common";
import { ExitCode } from "@spell-coven/sidecar-kit";
import type { Tuning } from "../config.ts";
import type { Series } from "@spell-coven/sidecar-kit";
import type { Metrics } from "../metrics.ts";
import type { DispatchConsumer } from "./dispatch-bus.ts";
import { createZlibStreamDecoder, type GatewayDecoder } from "./compression.ts";
import { CLIENT_CLOSE_NEW_SESSION, CLIENT_CLOSE_RESUME, GatewayFatalError, closeAction } from "./close-codes.ts";
import { SessionStartLimitError, type IdentifyThrottle } from "./identify-throttle.ts";
import { SendQueue } from "./send-queue.ts";

export type ShardState = "idle" | "connecting" | "identifying" | "resuming" | "ready" | "waiting" | "stopped" | "failed";

export interface ShardInfo {
  id: number;
  state: ShardState;
  lastHeartbeatLatencyMs: number | null;
  sessionId?: string;
  seq: number | null;
  consecutiveFailures: number;
}

/** What a shard calls for each dispatch (the DispatchBus's `publish`, or any consumer). */
export type DispatchHandler = DispatchConsumer;

export interface ShardOptions {
  id: number;
  count: number;
  token: string;
  intents: number;
  /** `url` of GET /gateway/bot. */
  gatewayUrl: string;
  throttle: IdentifyThrottle;
  tuning: Tuning;
  log: Logger;
  metrics: Metrics;
  onDispatch: DispatchHandler;
  onReady?: (d: { session_id: string; guilds: { id: string }[] }, shardId: number) => void;
  onFatal: (err: Error, shardId: number) => void;
  /** zlib-stream transport compression (default true). */
  compress?: boolean;
  random?: () => number;
}

interface Conn {
  ws: WebSocket;
  mode: "identify" | "resume";
  decoder: GatewayDecoder | null;
  abort: AbortController;
  helloTimer: ReturnType<typeof setTimeout> | null;
  readyTimer: ReturnType<typeof setTimeout> | null;
  firstBeat: ReturnType<typeof setTimeout> | null;
  beat: ReturnType<typeof setInterval> | null;
  killTimer: ReturnType<typeof setTimeout> | null;
  acked: boolean;
  lastBeatAt: number;
  established: boolean;
  /** The server answered: Hello or op 9 arrived. A connection that never answered is a failed attempt. */
  answered: boolean;
  /** Last socket error (e.g. "Unexpected server response: 503", "connect ECONNREFUSED ..."). */
  lastError: string | null;
  ended: boolean;
  replayed: number;
  /** Random per connection: the unique part of the event ids built from its dispatches. */
  eventKey: string;
  /** Last seq seen on this connection (a seq that does not increase renews eventKey). */
  lastSeq: number;
}

interface Payload {
  op: number;
  d: any;
  s: number | null;
  t: string | null;
}

/** Opcodes only the shard itself sends (the handshake and heartbeats): never through send(). */
const SHARD_OWN_OPS = new Set<number>([GatewayOpcodes.Heartbeat, GatewayOpcodes.Identify, GatewayOpcodes.Resume]);
/** Discord closes the connection with 4002 on a payload over 4096 bytes. */
const MAX_SEND_BYTES = 4096;

export class Shard {
  readonly id: number;
  private state: ShardState = "idle";
  private conn: Conn | null = null;
  private sessionId: string | null = null;
  private resumeUrl: string | null = null;
  private seq: number | null = null;
  /** Consecutive connections the server never answered (no Hello, no op 9): the give-up count. */
  private failures = 0;
  /** Consecutive connections that did not reach READY/RESUMED: drives the reconnect backoff. */
  private unestablished = 0;
  private resumeFailures = 0;
  private latency: number | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly sendQueue: SendQueue;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly compress: boolean;
  private readonly dispatchCount: Series;
  private readonly latencyGauge: Series;
  private readonly readyGauge: Series;
  private readonly labels: { shard: number };
  /** LOG_LEVEL=DEBUG: one line per dispatch (checked once; the hot path pays one branch). */
  private readonly logDispatches: boolean;

  constructor(private readonly opts: ShardOptions) {
    this.id = opts.id;
    this.labels = { shard: opts.id };
    this.log = opts.log.child({ shard: opts.id });
    this.logDispatches = this.log.level === "DEBUG";
    this.random = opts.random ?? Math.random;
    this.compress = opts.compress ?? true;
    this.sendQueue = new SendQueue({ limit: opts.tuning.sendLimit, windowMs: opts.tuning.sendWindowMs, reserved: opts.tuning.sendReserved });
    this.dispatchCount = opts.metrics.dispatchesReceived.handle();
    this.latencyGauge = opts.metrics.heartbeatLatency.handle(this.labels);
    this.readyGauge = opts.metrics.shardReady.handle(this.labels);
  }

  info(): ShardInfo {
    return {
      id: this.id,
      state: this.state,
      lastHeartbeatLatencyMs: this.latency,
      ...(this.sessionId ? { sessionId: this.sessionId } : {}),
      seq: this.seq,
      consecutiveFailures: this.failures,
    };
  }

  get currentState(): ShardState {
    return this.state;
  }

  start(): void {
    if (this.state !== "idle") return;
    this.connect();
  }

  /**
   * Queues an ordinary payload (op 3 presence, op 4 voice state, op 8 request members...) under the
   * send limit; it goes out once this connection's session is ready (queued across reconnects).
   * Throws RangeError for a payload Discord would close the connection over (an opcode the shard
   * owns, over 4096 bytes) and Error once the shard has stopped.
   */
  send(payload: { op: number; d: unknown }): void {
    if (!Number.isInteger(payload?.op) || SHARD_OWN_OPS.has(payload.op)) {
      throw new RangeError(`op ${String(payload?.op)} cannot be sent through the shard: heartbeat, identify and resume are its own`);
    }
    const text = JSON.stringify({ op: payload.op, d: payload.d ?? null });
    if (Buffer.byteLength(text) > MAX_SEND_BYTES)
      throw new RangeError(`gateway payload of ${Buffer.byteLength(text)} bytes: Discord closes the connection over ${MAX_SEND_BYTES}`);
    if (this.state === "stopped" || this.state === "failed") throw new Error(`shard ${this.id} is ${this.state}: cannot send op ${payload.op}`);
    this.sendQueue.send(text);
  }

  /** Closes with 1000 (ends the session) and stops for good. */
  stop(): Promise<void> {
    if (this.state === "stopped") return Promise.resolve();
    this.state = "stopped";
    this.readyGauge.value = 0;
    this.clearReconnect();
    this.sendQueue.clear();
    const conn = this.conn;
    this.conn = null;
    if (!conn || conn.ws.readyState === WebSocket.CLOSED) {
      if (conn) this.endConn(conn, 1000, "shutting down");
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      conn.ws.once("close", () => resolve());
      this.endConn(conn, 1000, "shutting down");
      setTimeout(resolve, 2000).unref();
    });
  }

  // ---- connection -------------------------------------------------------------------------

  private gatewayQuery(base: string): string {
    const u = new URL(base);
    u.searchParams.set("v", "10");
    u.searchParams.set("encoding", "json");
    if (this.compress) u.searchParams.set("compress", "zlib-stream");
    else u.searchParams.delete("compress");
    return u.toString();
  }

  private connect(): void {
    if (this.state === "stopped" || this.state === "failed") return;
    const resume = this.sessionId !== null && this.resumeUrl !== null;
    // After repeated failures on resume_gateway_url, resume through the main gateway URL: the
    // session stays valid (an op 9 d:false is what ends it), only that host may be unreachable.
    const viaResumeUrl = resume && this.resumeFailures < this.opts.tuning.maxResumeFailures;
    const url = this.gatewayQuery(viaResumeUrl ? this.resumeUrl! : this.opts.gatewayUrl);
    this.state = "connecting";
    this.log.debug("connecting", { url, mode: resume ? "resume" : "identify" });
    if (!resume) this.resumeFailures = 0;
    const ws = new WebSocket(url, {
      // The same DiscordBot (...) string as REST: some gateway servers refuse an upgrade without one.
      headers: { "User-Agent": DISCORD_USER_AGENT },
      perMessageDeflate: false,
      handshakeTimeout: this.opts.tuning.helloTimeoutMs,
      skipUTF8Validation: true,
      maxPayload: 256 * 1024 * 1024,
    });
    const conn: Conn = {
      ws,
      mode: resume ? "resume" : "identify",
      decoder: null,
      abort: new AbortController(),
      helloTimer: null,
      readyTimer: null,
      firstBeat: null,
      beat: null,
      killTimer: null,
      acked: true,
      lastBeatAt: 0,
      established: false,
      answered: false,
      lastError: null,
      eventKey: newEventKey(),
      lastSeq: -1,
      ended: false,
      replayed: 0,
    };
    if (this.compress) {
      conn.decoder = createZlibStreamDecoder(
        (text) => this.onText(conn, text),
        (err) => this.decodeFailed(conn, err),
      );
    }
    this.conn = conn;
    ws.on("open", () => {
      if (conn !== this.conn) return;
      this.sendQueue.attach((data) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data);
      });
      conn.helloTimer = setTimeout(() => this.lost(conn, CLIENT_CLOSE_RESUME, "no Hello in time"), this.opts.tuning.helloTimeoutMs);
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (conn.ended) return;
      if (!isBinary) return this.onText(conn, data.toString("utf8"));
      if (!conn.decoder) return;
      try {
        conn.decoder.push(data);
      } catch (err) {
        this.decodeFailed(conn, err as Error);
      }
    });
    ws.on("error", (err) => {
      if (conn.ended) return;
      conn.lastError = err.message;
      this.log.warn("gateway socket error", { err });
    });
    ws.on("close", (code: number, reason: Buffer) => {
      if (conn.ended) return; // we closed it ourselves and already moved on
      this.onClose(conn, code, reason.toString("utf8"));
    });
  }

  private onText(conn: Conn, text: string): void {
    if (conn.ended) return;
    let payload: Payload;
    try {
      payload = JSON.parse(text);
    } catch {
      this.log.warn("gateway sent a message that is not JSON; reconnecting");
      this.lost(conn, CLIENT_CLOSE_RESUME, "invalid JSON");
      return;
    }
    this.onPayload(conn, payload);
  }

  private decodeFailed(conn: Conn, err: Error): void {
    this.log.warn("zlib-stream decode failed; reconnecting", { err });
    this.lost(conn, CLIENT_CLOSE_RESUME, "decode error");
  }

  /** Ends `conn` from our side (close frame with `code`, then a hard kill if it lingers). */
  private endConn(conn: Conn, code: number, reason: string): void {
    if (conn.ended) return;
    conn.ended = true;
    this.clearConnTimers(conn);
    conn.abort.abort(new Error("connection ended"));
    conn.decoder?.close();
    this.sendQueue.detach();
    try {
      if (conn.ws.readyState === WebSocket.OPEN) {
        conn.ws.close(code, reason);
        conn.killTimer = setTimeout(() => conn.ws.terminate(), 1000);
        conn.killTimer.unref?.();
        conn.ws.once("close", () => conn.killTimer && clearTimeout(conn.killTimer));
      } else {
        conn.ws.terminate();
      }
    } catch {
      conn.ws.terminate();
    }
  }

  private clearConnTimers(conn: Conn): void {
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    if (conn.readyTimer) clearTimeout(conn.readyTimer);
    if (conn.firstBeat) clearTimeout(conn.firstBeat);
    if (conn.beat) clearInterval(conn.beat);
    conn.helloTimer = conn.readyTimer = conn.firstBeat = conn.beat = null;
  }

  /** We decided to drop the connection (zombie, op 7, timeouts, decode errors): keep the session. */
  private lost(conn: Conn, code: number, why: string, opts: { newSession?: boolean; delayMs?: number } = {}): void {
    if (conn.ended || conn !== this.conn) return;
    this.endConn(conn, code, why);
    this.afterConnection(conn, { newSession: opts.newSession ?? false, why, delayMs: opts.delayMs });
  }

  private onClose(conn: Conn, code: number, reason: string): void {
    this.opts.metrics.closes.inc({ shard: this.id, code });
    const closed = closeAction(code, { shardId: this.id, shardCount: this.opts.count, intents: this.opts.intents });
    const action = code === 1006 && conn.lastError ? { ...closed, why: `closed without a close frame (1006): ${conn.lastError}` } : closed;
    this.endConn(conn, code, reason);
    if (conn !== this.conn) return;
    switch (action.kind) {
      case "fatal": {
        this.fail(new GatewayFatalError(code, action.why, action.fix, ExitCode.ConfigRejected));
        return;
      }
      case "identify":
        this.log.warn("gateway closed; starting a new session", { code, reason, why: action.why });
        this.afterConnection(conn, { newSession: true, why: action.why });
        return;
      case "resume":
        this.log.warn("gateway closed; resuming", { code, reason, why: action.why });
        this.afterConnection(conn, { newSession: false, why: action.why });
        return;
    }
  }

  private afterConnection(conn: Conn, o: { newSession: boolean; why: string; delayMs?: number | undefined }): void {
    this.readyGauge.value = 0;
    if (this.state === "stopped" || this.state === "failed") return;
    if (!conn.established) {
      this.unestablished++;
      // A server that answers (Hello, op 9) is reachable: only silence counts toward giving up.
      if (!conn.answered) {
        this.failures++;
        if (conn.mode === "resume") this.resumeFailures++;
      }
    }
    if (o.newSession) this.clearSession();
    else if (this.sessionId && this.resumeFailures === this.opts.tuning.maxResumeFailures) {
      this.log.warn("resume_gateway_url keeps failing; resuming through the main gateway URL", { resumeFailures: this.resumeFailures });
    }
    if (this.failures >= this.opts.tuning.maxReconnectAttempts) {
      this.fail(
        new GatewayFatalError(
          "RECONNECT_FAILED",
          `shard ${this.id}: ${this.failures} consecutive connection attempts failed without a Hello from the gateway (last: ${o.why})`,
          giveUpAdvice(conn),
        ),
      );
      return;
    }
    const backoff = backoffDelay(this.unestablished, this.opts.tuning.reconnectBaseMs, this.opts.tuning.reconnectMaxMs, this.random);
    const delay = o.delayMs ?? backoff;
    this.state = "waiting";
    this.opts.metrics.reconnects.inc(this.labels);
    this.log.info("reconnecting", { inMs: delay, mode: this.sessionId ? "resume" : "identify", consecutiveFailures: this.failures, why: o.why });
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private clearSession(): void {
    this.sessionId = null;
    this.resumeUrl = null;
    this.seq = null;
    this.resumeFailures = 0;
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private fail(err: Error): void {
    if (this.state === "failed" || this.state === "stopped") return;
    this.state = "failed";
    this.readyGauge.value = 0;
    this.clearReconnect();
    const conn = this.conn;
    if (conn) this.endConn(conn, CLIENT_CLOSE_RESUME, "giving up");
    this.opts.onFatal(err, this.id);
  }

  // ---- protocol ---------------------------------------------------------------------------

  private onPayload(conn: Conn, p: Payload): void {
    switch (p.op) {
      case GatewayOpcodes.Dispatch: {
        this.dispatchCount.value++;
        if (this.logDispatches) this.logDispatch(p);
        if (p.s !== null && p.s !== undefined) this.seq = p.s;
        if (!conn.established) {
          this.armReadyTimer(conn);
          if (p.t === "READY") this.onReady(conn, p.d);
          else if (p.t === "RESUMED") this.onResumed(conn);
          else if (conn.mode === "resume") conn.replayed++;
        }
        if (this.sessionId === null) return;
        if (typeof p.s !== "number" || p.s <= conn.lastSeq) conn.eventKey = newEventKey();
        if (typeof p.s === "number") conn.lastSeq = p.s;
        try {
          this.opts.onDispatch(p.t!, p.d, conn.eventKey, p.s, this.id);
        } catch (err) {
          this.log.error("dispatch handler failed", { t: p.t, s: p.s, err });
        }
        return;
      }
      case GatewayOpcodes.Heartbeat:
        this.heartbeat(conn, true);
        return;
      case GatewayOpcodes.HeartbeatAck:
        conn.acked = true;
        this.latency = Date.now() - conn.lastBeatAt;
        this.latencyGauge.value = this.latency;
        return;
      case GatewayOpcodes.Hello:
        this.onHello(conn, Number(p.d?.heartbeat_interval));
        return;
      case GatewayOpcodes.Reconnect:
        this.log.info("op 7 Reconnect: resuming on a new connection");
        this.lost(conn, CLIENT_CLOSE_RESUME, "op 7 Reconnect", { delayMs: this.quickDelay() });
        return;
      case GatewayOpcodes.InvalidSession: {
        this.answered(conn);
        const resumable = p.d === true && this.sessionId !== null;
        this.opts.metrics.invalidSessions.inc({ shard: this.id, resumable: String(p.d === true) });
        if (resumable) {
          this.log.warn("op 9 Invalid Session (resumable): resuming on a new connection");
          this.lost(conn, CLIENT_CLOSE_RESUME, "op 9 resumable", { delayMs: this.quickDelay() });
        } else {
          const [min, max] = this.opts.tuning.invalidSessionDelayMs;
          const delay = Math.round(min + this.random() * (max - min));
          this.log.warn("op 9 Invalid Session: identifying again", { inMs: delay });
          this.lost(conn, CLIENT_CLOSE_NEW_SESSION, "op 9 not resumable", { newSession: true, delayMs: delay });
        }
        return;
      }
      default:
        this.log.debug("ignoring gateway opcode", { op: p.op });
    }
  }

  /**
   * What arrived, for diagnosing an interaction without a packet capture: type, guild and seq
   * only. Never the payload (it may hold message content, and READY a resume URL and session).
   */
  private logDispatch(p: Payload): void {
    const d = p.d as { guild_id?: unknown; id?: unknown } | null;
    const guildId =
      typeof d?.guild_id === "string" ? d.guild_id : (p.t === "GUILD_CREATE" || p.t === "GUILD_DELETE") && typeof d?.id === "string" ? d.id : undefined;
    this.log.debug("dispatch", { t: p.t, ...(guildId !== undefined ? { guildId } : {}), seq: p.s });
  }

  /** Delay before reconnecting after op 7 / op 9 resumable: immediate-ish, but backed off after failures. */
  private quickDelay(): number {
    return this.unestablished === 0
      ? Math.round(this.random() * 250)
      : backoffDelay(this.unestablished, this.opts.tuning.reconnectBaseMs, this.opts.tuning.reconnectMaxMs, this.random);
  }

  private onHello(conn: Conn, interval: number): void {
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    this.answered(conn);
    if (!(interval > 0)) {
      this.lost(conn, CLIENT_CLOSE_RESUME, "Hello without heartbeat_interval");
      return;
    }
    // First beat after interval * jitter (jitter in [0, 1)), then every interval.
    conn.firstBeat = setTimeout(
      () => {
        conn.firstBeat = null;
        this.heartbeat(conn, false);
        if (!conn.ended) conn.beat = setInterval(() => this.heartbeat(conn, false), interval);
      },
      Math.floor(interval * this.random()),
    );
    this.armReadyTimer(conn);
    if (conn.mode === "resume" && this.sessionId) {
      this.state = "resuming";
      this.opts.metrics.resumes.inc(this.labels);
      this.log.info("resuming", { sessionId: this.sessionId, seq: this.seq });
      this.sendQueue.sendPriority(JSON.stringify({ op: GatewayOpcodes.Resume, d: { token: this.opts.token, session_id: this.sessionId, seq: this.seq } }));
      return;
    }
    conn.mode = "identify";
    this.state = "identifying";
    this.opts.throttle.acquire(this.id, conn.abort.signal).then(
      () => {
        if (conn.ended || conn !== this.conn) return;
        this.opts.metrics.identifies.inc(this.labels);
        this.log.info("identifying", { shard: [this.id, this.opts.count], intents: this.opts.intents });
        this.armReadyTimer(conn);
        this.sendQueue.sendPriority(
          JSON.stringify({
            op: GatewayOpcodes.Identify,
            d: {
              token: this.opts.token,
              intents: this.opts.intents,
              properties: { os: process.platform, browser: "spell-coven-gateway", device: "spell-coven-gateway" },
              shard: [this.id, this.opts.count],
              large_threshold: 250,
            },
          }),
        );
      },
      (err: unknown) => {
        if (err instanceof SessionStartLimitError) this.fail(err);
        // else: the connection ended while waiting; its close handling reconnects.
      },
    );
  }

  /** The gateway answered on this connection: the run of unanswered attempts is over. */
  private answered(conn: Conn): void {
    conn.answered = true;
    this.failures = 0;
  }

  private armReadyTimer(conn: Conn): void {
    if (conn.readyTimer) clearTimeout(conn.readyTimer);
    conn.readyTimer = setTimeout(() => this.lost(conn, CLIENT_CLOSE_RESUME, "no READY/RESUMED in time"), this.opts.tuning.readyTimeoutMs);
  }

  private heartbeat(conn: Conn, requested: boolean): void {
    if (conn.ended) return;
    if (!requested && !conn.acked) {
      this.opts.metrics.zombies.inc(this.labels);
      this.log.warn("heartbeat not acknowledged: zombie connection, closing and resuming");
      this.lost(conn, CLIENT_CLOSE_RESUME, "zombie connection (no heartbeat ACK)", { delayMs: this.quickDelay() });
      return;
    }
    this.sendQueue.sendPriority(JSON.stringify({ op: GatewayOpcodes.Heartbeat, d: this.seq }));
    conn.lastBeatAt = Date.now();
    conn.acked = false;
  }

  private onReady(conn: Conn, d: { session_id: string; resume_gateway_url: string; guilds: { id: string }[] }): void {
    this.finishHandshake(conn);
    this.sessionId = d.session_id;
    this.resumeUrl = d.resume_gateway_url || this.opts.gatewayUrl;
    this.log.info("READY", { sessionId: d.session_id, guilds: d.guilds?.length ?? 0 });
    try {
      this.opts.onReady?.(d, this.id);
    } catch (err) {
      this.log.error("ready handler failed", { err });
    }
  }

  private onResumed(conn: Conn): void {
    this.finishHandshake(conn);
    this.opts.metrics.resumed.inc(this.labels);
    this.log.info("RESUMED", { sessionId: this.sessionId, replayedEvents: conn.replayed, seq: this.seq });
  }

  private finishHandshake(conn: Conn): void {
    conn.established = true;
    if (conn.readyTimer) clearTimeout(conn.readyTimer);
    conn.readyTimer = null;
    this.failures = 0;
    this.unestablished = 0;
    this.resumeFailures = 0;
    this.state = "ready";
    this.readyGauge.value = 1;
    this.sendQueue.release();
  }
}

/** What to check after giving up, from how the last attempt ended. */
function giveUpAdvice(conn: Conn): string {
  const status = /Unexpected server response: (\d+)/.exec(conn.lastError ?? "")?.[1];
  if (status) {
    return `Operator action is needed: the gateway refused the WebSocket upgrade with HTTP ${status}; check the gateway URL from GET /gateway/bot (DISCORD_API_BASE), any proxy in between, and https://discordstatus.com. The process exits so its restart policy can take over.`;
  }
  return "Operator action is needed: check network access to Discord and https://discordstatus.com; the process exits so its restart policy can take over.";
}

/** 12 hex characters (48 random bits): unique across the connections of every process. */
function newEventKey(): string {
  return randomBytes(6).toString("hex");
}
