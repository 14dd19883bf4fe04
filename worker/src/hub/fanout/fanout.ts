/**
 * Fan-out: what the hub sends, to whom.
 *
 * - **Events** go to every authenticated subscriber, as one message each or, for clients that
 *   asked for batches, one frame per batch (built once, the same string for each socket). An
 *   event addressed to some players reaches only them; the others get a skip frame for its seq,
 *   so their seq stays contiguous (frames are then built per socket, which only private table
 *   chat costs). The
 *   slow-consumer policy lives here: a client more than MAX_CLIENT_LAG events past its last ack
 *   is closed with 4008 rather than buffered without limit (Workers expose no bufferedAmount).
 * - **Signals** go to one socket, a user's sockets or a table's subscribers. They carry no seq,
 *   are never stored and never count toward the lag.
 */
import { CloseCodes, type Logger, type SignalName, type SignalPayload } from "@spell-coven/common";
import { MAX_CLIENT_LAG } from "../limits.ts";
import { batchFrames, errorFrame, signalFrame, skipFrame } from "./frames.ts";
import type { SequencedEvent } from "../event-log.ts";
import type { Subscriber, SubscriberRegistry } from "./subscribers.ts";
import type { HubCounters } from "../modules/metrics/hub-metrics.ts";

/** Who a signal is for. */
export type SignalTarget = { socket: WebSocket } | { userId: string } | { table: string; except?: WebSocket };

export class Fanout {
  constructor(
    private readonly subscribers: SubscriberRegistry,
    private readonly log: Logger,
    /** Told about every socket the fan-out closes or drops, so modules can let go of it. */
    private readonly onDropped: (ws: WebSocket, subscriber: Subscriber) => void,
    /** Counts signals and the closes the hub makes. */
    private readonly counters?: HubCounters,
  ) {}

  /**
   * Sends sequenced events to every authenticated subscriber. `sentBefore` is the seq the clients
   * had been sent before these events: they cannot have acknowledged events still being sent.
   */
  events(events: readonly SequencedEvent[], sentBefore: number): void {
    if (events.length === 0) return;
    const addressed = events.some((e) => e.audience !== null);
    const everyone = events.map((e) => e.data);
    const skips = addressed ? events.map((e) => (e.audience ? skipFrame(e.seq, Date.now()) : e.data)) : everyone;
    let sharedFrames: string[] | undefined;
    let skipsFrames: string[] | undefined;
    for (const [ws, s] of this.subscribers.entries()) {
      if (!s.userId) continue;
      if (sentBefore - s.ackedSeq > MAX_CLIENT_LAG) {
        this.log.warn("closing slow consumer", { socket: s.id, userId: s.userId, ackedSeq: s.ackedSeq, sentBefore });
        this.close(ws, CloseCodes.SlowConsumer, `Fell more than ${MAX_CLIENT_LAG} events behind; reconnect with resume.`);
        continue;
      }
      const userId = s.userId;
      // Most sockets are in no audience of the batch: they share the frames with skips.
      const own = !addressed
        ? everyone
        : events.some((e) => e.audience?.has(userId))
          ? events.map((e, i) => (e.audience === null || e.audience.has(userId) ? e.data : skips[i]!))
          : skips;
      try {
        if (s.batch && own.length > 1) {
          const frames = own === everyone ? (sharedFrames ??= batchFrames(everyone)) : own === skips ? (skipsFrames ??= batchFrames(skips)) : batchFrames(own);
          for (const frame of frames) ws.send(frame);
        } else {
          for (const data of own) ws.send(data);
        }
      } catch (err) {
        this.log.info("send failed; dropping socket", { socket: s.id, err });
        this.close(ws, 1011, "Send failed.");
      }
    }
  }

  /** Sends one signal to its addressees (authenticated sockets only). Returns how many got it. */
  signal<S extends SignalName>(to: SignalTarget, signal: S, payload: SignalPayload<S>): number {
    const frame = signalFrame(signal, payload, Date.now());
    this.counters?.count("hub_signals_total", { signal });
    let sent = 0;
    for (const ws of this.targets(to)) {
      if (!this.subscribers.get(ws)?.userId) continue;
      if (this.send(ws, frame)) sent++;
    }
    return sent;
  }

  /** Answers a message the hub could not use; the socket stays open. */
  error(ws: WebSocket, code: string, message: string): void {
    this.send(ws, errorFrame(code, message, Date.now()));
  }

  /** Sends one frame; a socket that cannot take it is dropped. */
  send(ws: WebSocket, frame: string): boolean {
    try {
      ws.send(frame);
      return true;
    } catch (err) {
      this.log.info("send failed; dropping socket", { socket: this.subscribers.get(ws)?.id, err });
      this.close(ws, 1011, "Send failed.");
      return false;
    }
  }

  /**
   * Closes with an application code and forgets the socket. Codes 1005/1006/1015 must never be
   * sent and reasons over 123 bytes throw in workerd, so reasons are trimmed; a socket already
   * gone is just forgotten.
   */
  close(ws: WebSocket, code: number, reason: string): void {
    const subscriber = this.subscribers.delete(ws);
    if (subscriber) this.counters?.count("hub_closes_total", { code, by: "hub" });
    try {
      ws.close(code, truncateUtf8(reason, 123));
    } catch {
      // already closed by the peer
    }
    if (subscriber) this.onDropped(ws, subscriber);
  }

  private *targets(to: SignalTarget): Iterable<WebSocket> {
    if ("socket" in to) yield to.socket;
    else if ("userId" in to) yield* [...this.subscribers.ofUser(to.userId)];
    else for (const ws of [...this.subscribers.atTable(to.table)]) if (ws !== to.except) yield ws;
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.slice(0, maxBytes)).replace(/\uFFFD$/, "");
}
