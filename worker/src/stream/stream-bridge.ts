/**
 * One SSE stream, held by the Worker: the GuildHub's messages arrive on a hibernatable bridge
 * WebSocket and leave as `text/event-stream` (ARCHITECTURE.md, "SSE stream"). Holding the stream
 * here rather than in the object lets the object hibernate between events.
 *
 * - auth.ok becomes `event: ready` (or `event: resync`, with the fresh presence, when the
 *   client's cursor could not be resumed); every event becomes `id: <epoch>:<seq>`.
 * - The bridge acknowledges what it wrote (so the hub's slow-consumer rule sees the real reader)
 *   and pings the hub; a `:` comment goes to the browser every heartbeat interval.
 * - When either side goes, the other is closed: the hub closing (token expired, slow consumer)
 *   ends the stream and EventSource reconnects with Last-Event-ID.
 */
import {
  AuthOk,
  BatchFrame,
  EventEnvelope,
  PING,
  SignalEnvelope,
  SkipFrame,
  STREAM_READY,
  STREAM_RESYNC,
  STREAM_SKIP,
  streamCursor,
  type Logger,
} from "@spell-coven/common";
import { sseComment, sseMessage, sseRetry } from "./sse-frames.ts";

export interface StreamBridgeOptions {
  /** Whether the client came with a cursor (a resume that fails is then a `resync`). */
  hadCursor: boolean;
  heartbeatMs: number;
  /** EventSource's reconnect delay. */
  retryMs: number;
  log: Logger;
}

/** Acknowledge after this many events (the hub allows 500). */
const ACK_EVERY = 50;
/** The hub drops sockets silent for 90 s; the runtime answers this ping without waking it. */
const HUB_PING_MS = 30_000;

export class StreamBridge {
  private readonly encoder = new TextEncoder();
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private epoch = "";
  private unacked = 0;
  private lastSeq = 0;
  private closed = false;
  /** Hub messages are handled one after another, so events are written in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly hub: WebSocket,
    writable: WritableStream<Uint8Array>,
    private readonly opts: StreamBridgeOptions,
  ) {
    this.writer = writable.getWriter();
    void this.write(sseRetry(opts.retryMs));
    hub.addEventListener("message", (e) => {
      this.queue = this.queue.then(() => this.onHubMessage(e.data)).catch((err) => this.opts.log.warn("bad message on the stream bridge", { err }));
    });
    hub.addEventListener("close", (e) => this.close(`hub closed the bridge (${e.code})`));
    hub.addEventListener("error", () => this.close("bridge socket failed"));
    this.timers.push(setInterval(() => void this.write(sseComment("heartbeat")), opts.heartbeatMs));
    this.timers.push(setInterval(() => this.send(PING), HUB_PING_MS));
  }

  /** Ends the stream and the bridge (idempotent). */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.opts.log.debug("stream closed", { why });
    try {
      this.hub.close(1000, "stream closed");
    } catch {
      // already gone
    }
    this.writer.close().catch(() => {});
  }

  private async onHubMessage(data: unknown): Promise<void> {
    if (typeof data !== "string" || data === "pong") return;
    let json: { type?: string; event?: string };
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    if (json.type === "ack" && json.event === "auth.ok") {
      const ok = AuthOk.parse(json);
      this.epoch = ok.epoch;
      this.lastSeq = ok.seq;
      const event = !ok.resumed && this.opts.hadCursor ? STREAM_RESYNC : STREAM_READY;
      return this.write(sseMessage({ id: streamCursor(ok.epoch, ok.seq), event, data }));
    }
    if (json.type === "batch") {
      for (const e of BatchFrame.parse(json).events) await this.event(e);
    } else if (json.type === "event" || json.type === "skip") {
      await this.event(json);
    } else if (json.type === "signal") {
      // Signals addressed to this player (a chat command's result...) go out without an id: they
      // are never replayed, so they must not move the client's Last-Event-ID.
      const signal = SignalEnvelope.safeParse(json);
      if (signal.success) await this.write(sseMessage({ event: signal.data.signal, data }));
    }
    // Error acks are not part of the stream.
  }

  /** An event, or the skip frame standing in for one that is not for this player (it moves the cursor too). */
  private async event(raw: unknown): Promise<void> {
    const skip = SkipFrame.safeParse(raw);
    const parsed = skip.success ? skip : EventEnvelope.safeParse(raw);
    if (!parsed.success) return;
    const e = parsed.data;
    await this.write(sseMessage({ id: streamCursor(this.epoch, e.seq), event: "event" in e ? e.event : STREAM_SKIP, data: JSON.stringify(e) }));
    this.lastSeq = e.seq;
    if (++this.unacked >= ACK_EVERY) {
      this.unacked = 0;
      this.send(JSON.stringify({ type: "ack", seq: this.lastSeq }));
    }
  }

  /** Writes to the browser; when it has gone, everything is closed. */
  private async write(text: string): Promise<void> {
    if (this.closed) return;
    try {
      await this.writer.write(this.encoder.encode(text));
    } catch {
      this.close("the browser went away");
    }
  }

  private send(text: string): void {
    try {
      this.hub.send(text);
    } catch {
      this.close("bridge socket gone");
    }
  }
}
