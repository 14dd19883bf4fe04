/**
 * Gateway sessions outlive connections: a session keeps its sequence number and a bounded replay
 * buffer of the dispatches it produced, so a client that lost its socket can RESUME and get every
 * dispatch after its last seen `s` — including those emitted while it was disconnected.
 */
import { randomBytes } from "node:crypto";
import { GatewayOpcodes, type GatewayDispatchEvents } from "discord-api-types/v10";
import { shardOf } from "../snowflake.ts";

export interface DispatchPayload {
  op: GatewayOpcodes.Dispatch;
  t: GatewayDispatchEvents;
  s: number;
  d: unknown;
}

/** Anything a session can be attached to (a live connection). */
export interface SessionConnection {
  send(payload: object): void;
}

export class Session {
  readonly id: string;
  seq = 0;
  connection: SessionConnection | null = null;
  /** When the last connection went away; null while connected. */
  disconnectedAt: number | null = null;
  private buffer: DispatchPayload[] = [];
  /** Highest `s` dropped from the buffer: a resume from before it cannot be served. */
  private evictedUpTo = 0;

  constructor(
    readonly shard: [id: number, count: number],
    readonly intents: number,
    private readonly capacity: number,
    /** A given id (a server that reuses session ids); default a fresh random one. */
    id?: string,
  ) {
    this.id = id ?? randomBytes(16).toString("hex");
  }

  /** Does this session receive events of that guild? */
  routes(guildId: string): boolean {
    return shardOf(guildId, this.shard[1]) === this.shard[0];
  }

  /** Numbers and stores a dispatch, and sends it if a connection is attached. */
  dispatch(t: GatewayDispatchEvents, d: unknown): DispatchPayload {
    const payload: DispatchPayload = { op: GatewayOpcodes.Dispatch, t, s: ++this.seq, d };
    this.buffer.push(payload);
    if (this.buffer.length > this.capacity) this.evictedUpTo = this.buffer.shift()!.s;
    this.connection?.send(payload);
    return payload;
  }

  /** Dispatches after `seq`, oldest first; null when some were already evicted. */
  replayAfter(seq: number): DispatchPayload[] | null {
    if (seq < this.evictedUpTo) return null;
    return this.buffer.filter((p) => p.s > seq);
  }

  /** A server that numbers from 1 again (a fault): forgets what it sent, the next dispatch is s = 1. */
  restartSeq(): void {
    this.seq = 0;
    this.buffer = [];
    this.evictedUpTo = 0;
  }

  detach(now = Date.now()): void {
    this.connection = null;
    this.disconnectedAt = now;
  }

  attach(connection: SessionConnection): void {
    this.connection = connection;
    this.disconnectedAt = null;
  }
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly resumeWindowMs: number) {}

  add(session: Session): void {
    this.sessions.set(session.id, session);
  }

  /** A resumable session, or undefined (unknown or disconnected longer than the resume window). */
  get(id: string, now = Date.now()): Session | undefined {
    this.purgeExpired(now);
    return this.sessions.get(id);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }

  all(now = Date.now()): Session[] {
    this.purgeExpired(now);
    return [...this.sessions.values()];
  }

  private purgeExpired(now: number): void {
    for (const [id, session] of this.sessions) {
      if (session.disconnectedAt !== null && now - session.disconnectedAt > this.resumeWindowMs) this.sessions.delete(id);
    }
  }
}
