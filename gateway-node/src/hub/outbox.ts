/**
 * The outbox between translation and the Worker. Per guild: a FIFO, at most one post in flight,
 * batches of up to MAX_EVENTS_PER_POST events and MAX_INTERNAL_BODY_BYTES, retried with
 * exponential backoff (capped) until the Worker takes them, so events reach it in order, once
 * (ids make retried posts idempotent on the Worker side).
 *
 * Bound: `maxPerGuild` events (default 10,000) per guild. When a guild's queue is full, every
 * queued voice event and presence snapshot of that guild that is not in flight is replaced by
 * ONE presence snapshot built from the voice-state cache (which already reflects them), placed at
 * the tail. Room events are never dropped (they can exceed the bound; they are rare).
 * `gateway_outbox_overflows_total` counts it.
 *
 * Poison events: a post answered 400/413/422 is split in halves until the offending event is
 * alone; that event alone is dropped with an ERROR log (`gateway_events_dropped_total`), never the
 * rest. Events failing the shared schema are dropped the same way before they are sent.
 */
import { HubEvent, InternalEventsBody, MAX_EVENTS_PER_POST, MAX_INTERNAL_BODY_BYTES } from "@spell-coven/common";
import { backoffDelay } from "@spell-coven/common";
import { type Logger } from "@spell-coven/common";
import type { Metrics, Series } from "../metrics.ts";
import type { HubPoster, PostOutcome } from "./client.ts";

interface Entry {
  ev: HubEvent;
  /** Serialized once, reused by retries. */
  json: string | null;
  bytes: number;
}

class GuildQueue {
  items: Entry[] = [];
  head = 0;
  /** Entries [head, head + inflight) are in the post in flight. */
  inflight = 0;
  running = false;
  attempt = 0;
  maxBatch = MAX_EVENTS_PER_POST;
  /** After an overflow, further events of the same dispatch (a move's second half) are already in the snapshot. */
  absorbPrefix: string | null = null;
  authErrors = 0;
  constructor(
    readonly guildId: string,
    readonly depthGauge: Series,
  ) {}
  get length(): number {
    return this.items.length - this.head;
  }
  compactHead(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

export interface OutboxOptions {
  poster: HubPoster;
  log: Logger;
  metrics: Metrics;
  /** Presence snapshot of a guild built from the cache (for overflow compaction). */
  buildSnapshot: (guildId: string) => HubEvent;
  maxPerGuild?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  maxBodyBytes?: number;
}

const BODY_OVERHEAD = '{"events":[]}'.length;

export class Outbox {
  private readonly queues = new Map<string, GuildQueue>();
  private readonly maxPerGuild: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxBodyBytes: number;
  private readonly abort = new AbortController();
  private closed = false;
  /** Resolvers of pending backoff sleeps; wake() ends them early. */
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: OutboxOptions) {
    this.maxPerGuild = opts.maxPerGuild ?? 10_000;
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.maxBodyBytes = opts.maxBodyBytes ?? MAX_INTERNAL_BODY_BYTES;
  }

  /** Queues one event for its guild and starts delivery. */
  enqueue(ev: HubEvent): void {
    if (this.closed) {
      this.opts.log.warn("event after outbox close", { id: ev.id, event: ev.event });
      return;
    }
    let q = this.queues.get(ev.guildId);
    if (!q) {
      q = new GuildQueue(ev.guildId, this.opts.metrics.outboxDepth.handle({ guild: ev.guildId }));
      this.queues.set(ev.guildId, q);
    }
    const isVoice = ev.event === "voice.joined" || ev.event === "voice.left";
    if (q.absorbPrefix !== null) {
      const absorbed = isVoice && ev.id === q.absorbPrefix + "1";
      q.absorbPrefix = null;
      if (absorbed) return;
    }
    if (q.length >= this.maxPerGuild && this.compact(q, ev)) return;
    q.items.push({ ev, json: null, bytes: 0 });
    this.translatedCount(ev.event).value++;
    q.depthGauge.value = q.length;
    this.start(q);
  }

  /**
   * Starts delivery on a microtask, so every event of one dispatch goes in the same post: a move
   * (left + joined) then reaches players in one frame and is applied as one change.
   */
  private start(q: GuildQueue): void {
    if (q.running) return;
    q.running = true;
    queueMicrotask(() => void this.run(q));
  }

  private readonly translatedSeries = new Map<string, Series>();
  private translatedCount(event: string): Series {
    let s = this.translatedSeries.get(event);
    if (!s) {
      s = this.opts.metrics.eventsTranslated.handle({ event });
      this.translatedSeries.set(event, s);
    }
    return s;
  }

  /**
   * Overflow: replaces queued (not in flight) voice events and snapshots by one fresh snapshot.
   * Returns true when `incoming` was absorbed by that snapshot.
   */
  private compact(q: GuildQueue, incoming: HubEvent): boolean {
    const start = q.head + q.inflight;
    const kept: Entry[] = q.items.slice(q.head, start);
    let replaced = 0;
    for (let i = start; i < q.items.length; i++) {
      const e = q.items[i]!;
      if (e.ev.event === "room.created" || e.ev.event === "room.deleted") kept.push(e);
      else replaced++;
    }
    const incomingIsVoice = incoming.event === "voice.joined" || incoming.event === "voice.left" || incoming.event === "presence.snapshot";
    if (replaced === 0 && !incomingIsVoice) return false; // only room events queued: keep them all
    if (incoming.event === "room.created" || incoming.event === "room.deleted") {
      // The room event stays and goes before the snapshot; the snapshot reflects the cache now.
      kept.push({ ev: incoming, json: null, bytes: 0 });
      this.opts.metrics.eventsTranslated.inc({ event: incoming.event });
    } else {
      replaced++;
      // A move is left (`v:<session>:<seq>:0`) then joined (`...:1`); the snapshot already holds
      // the joined half, so that one is absorbed too. Nothing else is.
      const parts = incoming.id.split(":");
      q.absorbPrefix = parts.length === 4 && parts[0] === "v" && parts[3] === "0" ? `${parts[0]}:${parts[1]}:${parts[2]}:` : null;
    }
    const snap = this.opts.buildSnapshot(q.guildId);
    kept.push({ ev: snap, json: null, bytes: 0 });
    this.opts.metrics.eventsTranslated.inc({ event: snap.event });
    q.items = kept;
    q.head = 0;
    this.opts.metrics.outboxOverflows.inc({ guild: q.guildId });
    this.opts.metrics.outboxCompacted.inc({ guild: q.guildId }, replaced);
    q.depthGauge.value = q.length;
    this.opts.log.warn("outbox full: queued voice events replaced by a presence snapshot", {
      guildId: q.guildId,
      bound: this.maxPerGuild,
      replaced,
      snapshotId: snap.id,
      queued: q.length,
    });
    this.start(q);
    return true;
  }

  /** Events waiting (including those in flight), all guilds. */
  depth(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  depthByGuild(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const q of this.queues.values()) out[q.guildId] = q.length;
    return out;
  }

  /** True when at least one guild's posts are currently failing. */
  failing(): boolean {
    for (const q of this.queues.values()) if (q.attempt > 0) return true;
    return false;
  }

  /**
   * Waits until every queue is empty or `deadlineMs` has passed; ends pending backoff waits so
   * delivery is attempted at once. Returns the number of events left.
   */
  async flush(deadlineMs: number): Promise<number> {
    this.wake();
    if (this.depth() === 0) return 0;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, deadlineMs);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.idleWaiters.push(done);
    });
    return this.depth();
  }

  /** Stops delivery (aborts the posts in flight). Queued events are reported by depth(). */
  close(): void {
    this.closed = true;
    this.abort.abort(new Error("outbox closed"));
    this.wake();
  }

  /** Ends every pending backoff wait now. */
  wake(): void {
    for (const s of [...this.sleepers]) s();
  }

  private notifyIdle(): void {
    if (this.depth() !== 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private serialize(e: Entry): void {
    if (e.json === null) {
      e.json = JSON.stringify(e.ev);
      e.bytes = Buffer.byteLength(e.json);
    }
  }

  /** Takes the next batch (bounded by count and body size) and validates it against the shared schema. */
  private takeBatch(q: GuildQueue): Entry[] {
    for (;;) {
      const batch: Entry[] = [];
      let bytes = BODY_OVERHEAD;
      const limit = Math.min(q.maxBatch, MAX_EVENTS_PER_POST);
      for (let i = q.head; i < q.items.length && batch.length < limit; i++) {
        const e = q.items[i]!;
        this.serialize(e);
        if (batch.length > 0 && bytes + e.bytes + 1 > this.maxBodyBytes) break;
        bytes += e.bytes + 1;
        batch.push(e);
      }
      if (batch.length === 0) return batch;
      // One schema per wire message: the body we are about to send.
      const check = InternalEventsBody.safeParse({ events: batch.map((e) => e.ev) });
      if (check.success) return batch;
      const bad = new Set<number>();
      for (const issue of check.error.issues) {
        if (issue.path[0] === "events" && typeof issue.path[1] === "number") bad.add(issue.path[1]);
      }
      if (bad.size === 0) {
        // Not attributable to one event: test them one by one.
        batch.forEach((e, i) => {
          if (!HubEvent.safeParse(e.ev).success) bad.add(i);
        });
      }
      if (bad.size === 0) return batch; // whole-body issue (should not happen); let the Worker judge
      // Remove the invalid ones from the queue (they are all at the head segment).
      const badEntries = new Set([...bad].map((i) => batch[i]!));
      const rest: Entry[] = [];
      for (let i = q.head; i < q.items.length; i++) {
        const e = q.items[i]!;
        if (badEntries.has(e)) this.drop(q, e, "failed the shared schema before sending", JSON.stringify(check.error.issues.slice(0, 3)));
        else rest.push(e);
      }
      q.items = rest;
      q.head = 0;
    }
  }

  private drop(q: GuildQueue, e: Entry, why: string, detail?: string): void {
    this.opts.metrics.eventsDropped.inc({ event: e.ev.event });
    this.opts.log.error(`dropping one poison event: ${why}`, {
      guildId: q.guildId,
      id: e.ev.id,
      event: e.ev.event,
      detail,
    });
  }

  private async run(q: GuildQueue): Promise<void> {
    q.running = true;
    const signal = this.abort.signal;
    try {
      while (!this.closed && q.length > 0) {
        const batch = this.takeBatch(q);
        if (batch.length === 0) break;
        q.inflight = batch.length;
        let body = '{"events":[';
        for (let i = 0; i < batch.length; i++) body += (i ? "," : "") + batch[i]!.json;
        body += "]}";
        let outcome: PostOutcome;
        try {
          outcome = await this.opts.poster.post(body, signal);
        } catch (err) {
          outcome = { kind: "retry", reason: `post failed: ${(err as Error).message}` };
        }
        q.inflight = 0;
        if (this.closed) break;
        switch (outcome.kind) {
          case "ok": {
            q.head += batch.length;
            q.compactHead();
            if (q.attempt > 0 || q.authErrors > 0) {
              this.opts.log.info("hub delivery recovered", { guildId: q.guildId, failedAttempts: q.attempt });
            }
            q.attempt = 0;
            q.authErrors = 0;
            q.maxBatch = Math.min(MAX_EVENTS_PER_POST, q.maxBatch * 2);
            this.opts.metrics.postsOk.inc();
            for (const e of batch) this.opts.metrics.eventsForwarded.inc({ event: e.ev.event });
            q.depthGauge.value = q.length;
            break;
          }
          case "rejected": {
            this.opts.metrics.postsFailed.inc({ reason: String(outcome.status) });
            if (batch.length === 1) {
              q.head += 1;
              q.compactHead();
              this.drop(q, batch[0]!, `the Worker rejected it with ${outcome.status} ${outcome.code ?? ""}`.trim(), `${outcome.message} (requestId ${outcome.requestId ?? "?"})`);
              q.depthGauge.value = q.length;
            } else {
              // Isolate the poison event: halve the batch until it is alone.
              q.maxBatch = Math.max(1, Math.ceil(batch.length / 2));
              this.opts.log.warn("the Worker rejected a batch; splitting it to isolate the bad event", {
                guildId: q.guildId,
                status: outcome.status,
                code: outcome.code,
                message: outcome.message,
                batch: batch.length,
              });
            }
            break;
          }
          case "unauthorized": {
            this.opts.metrics.postsFailed.inc({ reason: String(outcome.status) });
            if (q.authErrors++ % 10 === 0) {
              this.opts.log.error(
                "the Worker refused our signature: check that HUB_SECRET here equals the Worker's HUB_SECRET and that this machine's clock is right (NTP, within 60 s); the events are kept and retried",
                { guildId: q.guildId, status: outcome.status, code: outcome.code, message: outcome.message, requestId: outcome.requestId },
              );
            }
            await this.backoff(backoffDelay(q.attempt++, this.retryBaseMs, this.retryMaxMs));
            break;
          }
          case "retry": {
            this.opts.metrics.postsFailed.inc({ reason: outcome.status ? String(outcome.status) : outcome.reason.startsWith("timeout") ? "timeout" : "network" });
            const delay = Math.min(this.retryMaxMs, Math.max(outcome.retryAfterMs ?? 0, backoffDelay(q.attempt, this.retryBaseMs, this.retryMaxMs)));
            const log = q.attempt === 0 || q.attempt % 10 === 0 ? this.opts.log.warn : this.opts.log.debug;
            log(outcome.status === 404 ? "the Worker answered 404: check HUB_ENDPOINT (it must be the URL of /api/internal/events)" : "hub post failed; will retry", {
              guildId: q.guildId,
              reason: outcome.reason,
              attempt: q.attempt + 1,
              retryInMs: delay,
              queued: q.length,
            });
            q.attempt++;
            await this.backoff(delay);
            break;
          }
        }
      }
    } finally {
      q.running = false;
      q.inflight = 0;
      this.notifyIdle();
      // An event may have arrived while the last post finished.
      if (!this.closed && q.length > 0 && !signal.aborted) void this.run(q);
    }
  }
}
