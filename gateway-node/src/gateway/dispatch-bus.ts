/**
 * The dispatch bus: every shard of this process publishes its dispatches here, and any number of
 * consumers read them (the Translator, which feeds the hub; later the rtc-node voice link, which
 * needs VOICE_STATE_UPDATE / VOICE_SERVER_UPDATE of the bot). Consumers run synchronously in the
 * order they subscribed, so each sees one shard's dispatches in seq order; one that throws is
 * logged (type and seq, never the payload) and does not keep the others from their dispatch.
 */
import type { Logger } from "@spell-coven/common";

/**
 * One dispatch, as positional arguments (no object per dispatch on the hot path). `eventKey` is
 * random per gateway connection (and renewed if the server's seq ever fails to increase on it),
 * so `eventKey:seq` names the dispatch uniquely without trusting the peer's session ids or seq.
 */
export type DispatchConsumer = (t: string, d: unknown, eventKey: string, seq: number | null, shardId: number) => void;

export interface SubscribeOptions {
  /** Only these dispatch types (e.g. ["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"]); default all. */
  types?: readonly string[];
}

export class DispatchBus {
  /** Consumers of every type, in subscription order. */
  private all: DispatchConsumer[] = [];
  /** Consumers of some types, by type. */
  private readonly byType = new Map<string, DispatchConsumer[]>();

  constructor(private readonly log: Logger) {}

  /** Adds a consumer; returns the function that removes it. */
  subscribe(consumer: DispatchConsumer, opts: SubscribeOptions = {}): () => void {
    if (opts.types === undefined) {
      this.all = [...this.all, consumer];
      return () => void (this.all = this.all.filter((c) => c !== consumer));
    }
    for (const t of opts.types) this.byType.set(t, [...(this.byType.get(t) ?? []), consumer]);
    return () => {
      for (const t of opts.types!) {
        const left = (this.byType.get(t) ?? []).filter((c) => c !== consumer);
        if (left.length) this.byType.set(t, left);
        else this.byType.delete(t);
      }
    };
  }

  /** Delivers one dispatch to every consumer that wants it. Shaped like a DispatchConsumer. */
  readonly publish: DispatchConsumer = (t, d, eventKey, seq, shardId) => {
    // Arrays are replaced, never mutated, so a consumer may (un)subscribe while being called.
    const all = this.all;
    for (let i = 0; i < all.length; i++) this.deliver(all[i]!, t, d, eventKey, seq, shardId);
    const some = this.byType.get(t);
    if (some !== undefined) for (let i = 0; i < some.length; i++) this.deliver(some[i]!, t, d, eventKey, seq, shardId);
  };

  /** Consumers subscribed (for health and tests). */
  get size(): number {
    const typed = new Set<DispatchConsumer>();
    for (const list of this.byType.values()) for (const c of list) typed.add(c);
    return this.all.length + typed.size;
  }

  private deliver(consumer: DispatchConsumer, t: string, d: unknown, eventKey: string, seq: number | null, shardId: number): void {
    try {
      consumer(t, d, eventKey, seq, shardId);
    } catch (err) {
      this.log.error("a dispatch consumer failed; the other consumers still got the dispatch", { t, seq, shard: shardId, err });
    }
  }
}
