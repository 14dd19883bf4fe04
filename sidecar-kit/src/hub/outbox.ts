/**
 * The outbox between a sidecar and the Worker. Per key (gateway-node: per guild): a FIFO, at most
 * one post in flight, batches of up to `maxEventsPerPost` events and `maxBodyBytes`, retried with
 * exponential backoff (capped) until the Worker takes them, so events reach it in order, once
 * (each event keeps its id across retries, so the Worker's dedupe makes a retried post idempotent).
 *
 * Bound: `maxPerKey` events per key. When a key's queue is full, the `overflow` policy decides: every
 * queued event it calls replaceable (not in flight) is replaced by ONE summary event it builds
 * (gateway-node: a presence snapshot built from the voice-state cache), placed at the tail; other
 * events are never dropped. Without a policy the queue grows past the bound (and says so).
 *
 * Poison events: a post answered 400/413/422 is split in halves until the offending event is
 * alone; that event alone is dropped with an ERROR log (`metrics.dropped`), never the rest. Events
 * failing `schema` are dropped the same way before they are sent.
 *
 * The outbox knows nothing about Discord: what an event is comes from the options.
 */
import type { z } from "zod";
import { backoffDelay, type Logger } from "@spell-coven/common";
import type { Histogram, Metric, Series } from "../metrics.ts";
import type { HubPoster, PostOutcome } from "./poster.ts";

/** What the outbox needs of an event: a stable id (kept across retries) and a name (for metrics). */
export interface OutboxEvent {
  id: string;
  event: string;
}

/** The sidecar's metrics the outbox updates (their names are the sidecar's). */
export interface OutboxMetrics {
  /** Events queued, by `event`. */
  queued: Metric;
  /** Events the Worker accepted, by `event`. */
  delivered: Metric;
  /** Poison events dropped, by `event`. */
  dropped: Metric;
  /** Events waiting, by key label. */
  depth: Metric;
  /** Times a queue hit its bound, by key label. */
  overflows: Metric;
  /** Events replaced by a summary, by key label. */
  compacted: Metric;
  postsOk: Metric;
  /** By `reason` (status code, timeout, network). */
  postsFailed: Metric;
  /** Seconds from an event's `receivedAt` to the end of the post that delivered it. */
  deliveryLatency?: Histogram;
  /** Seconds one post took (every outcome). */
  postDuration?: Histogram;
}

/** What to do when a key's queue is full. */
export interface OverflowPolicy<E extends OutboxEvent> {
  /** May this queued event be replaced by the summary? Others (e.g. room events) are always kept. */
  replaceable(ev: E): boolean;
  /** The one event that stands for every replaced one (built from current state). */
  summary(key: string): E;
  /**
   * After `absorbed` went into a summary, is `next` (the event enqueued right after it) part of
   * the same change and so already in the summary too (the second half of a move)?
   */
  absorbsNext?(absorbed: E, next: E): boolean;
}

interface Entry<E> {
  ev: E;
  /** Serialized once, reused by retries. */
  json: string | null;
  bytes: number;
}

class KeyQueue<E> {
  items: Entry<E>[] = [];
  head = 0;
  /** Entries [head, head + inflight) are in the post in flight. */
  inflight = 0;
  running = false;
  attempt = 0;
  maxBatch: number;
  /** The event just absorbed into a summary (its second half may follow). */
  absorbing: E | null = null;
  authErrors = 0;
  constructor(
    readonly key: string,
    readonly depthGauge: Series,
    maxBatch: number,
  ) {
    this.maxBatch = maxBatch;
  }
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

export interface OutboxOptions<E extends OutboxEvent> {
  poster: HubPoster;
  log: Logger;
  metrics: OutboxMetrics;
  /** The queue an event belongs to (order is kept within a key). */
  keyOf: (ev: E) => string;
  /** Label name of the key in the depth / overflow metrics and the logs. Default "key". */
  keyLabel?: string;
  /** The body of one post, `{"events":[...]}`, checked before sending (poison events are dropped). */
  bodySchema?: z.ZodType;
  /** One event, to find the bad one when a body fails `bodySchema` without pointing at one. */
  eventSchema?: z.ZodType;
  overflow?: OverflowPolicy<E>;
  maxPerKey?: number;
  maxEventsPerPost?: number;
  maxBodyBytes?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** When the sidecar received what the event reports (Unix ms), for `metrics.deliveryLatency`. */
  receivedAt?: (ev: E) => number | undefined;
  /**
   * Extra headers of a post, from its events (gateway-node: `traceparent` of the first event with
   * a trace id; every event also carries its own in the body).
   */
  postHeaders?: (events: readonly E[]) => Record<string, string>;
}

const BODY_OVERHEAD = '{"events":[]}'.length;

export class Outbox<E extends OutboxEvent> {
  private readonly queues = new Map<string, KeyQueue<E>>();
  private readonly maxPerKey: number;
  private readonly maxEventsPerPost: number;
  private readonly keyLabel: string;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxBodyBytes: number;
  private readonly abort = new AbortController();
  private closed = false;
  /** Resolvers of pending backoff sleeps; wake() ends them early. */
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: OutboxOptions<E>) {
    this.maxPerKey = opts.maxPerKey ?? 10_000;
    this.maxEventsPerPost = opts.maxEventsPerPost ?? 500;
    this.keyLabel = opts.keyLabel ?? "key";
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 2 * 1024 * 1024;
  }

  /** Queues one event for its key and starts delivery. */
  enqueue(ev: E): void {
    if (this.closed) {
      this.opts.log.warn("event after outbox close", { id: ev.id, event: ev.event });
      return;
    }
    const key = this.opts.keyOf(ev);
    let q = this.queues.get(key);
    if (!q) {
      q = new KeyQueue<E>(key, this.opts.metrics.depth.handle({ [this.keyLabel]: key }), this.maxEventsPerPost);
      this.queues.set(key, q);
    }
    if (q.absorbing !== null) {
      const absorbed = this.opts.overflow?.absorbsNext?.(q.absorbing, ev) ?? false;
      q.absorbing = null;
      if (absorbed) return;
    }
    if (q.length >= this.maxPerKey && this.compact(q, ev)) return;
    q.items.push({ ev, json: null, bytes: 0 });
    this.translatedCount(ev.event).value++;
    q.depthGauge.value = q.length;
    this.start(q);
  }

  /**
   * Starts delivery on a microtask, so every event of one dispatch goes in the same post: a move
   * (left + joined) then reaches players in one frame and is applied as one change.
   */
  private start(q: KeyQueue<E>): void {
    if (q.running) return;
    q.running = true;
    queueMicrotask(() => void this.run(q));
  }

  private readonly translatedSeries = new Map<string, Series>();
  private translatedCount(event: string): Series {
    let s = this.translatedSeries.get(event);
    if (!s) {
      s = this.opts.metrics.queued.handle({ event });
      this.translatedSeries.set(event, s);
    }
    return s;
  }

  /**
   * Overflow: replaces queued (not in flight) replaceable events by one fresh summary.
   * Returns true when `incoming` was absorbed by that summary.
   */
  private compact(q: KeyQueue<E>, incoming: E): boolean {
    const policy = this.opts.overflow;
    if (!policy) {
      if (q.length === this.maxPerKey)
        this.opts.log.warn("outbox full and no overflow policy: the queue grows past its bound", { [this.keyLabel]: q.key, bound: this.maxPerKey });
      return false;
    }
    const start = q.head + q.inflight;
    const kept: Entry<E>[] = q.items.slice(q.head, start);
    let replaced = 0;
    for (let i = start; i < q.items.length; i++) {
      const e = q.items[i]!;
      if (policy.replaceable(e.ev)) replaced++;
      else kept.push(e);
    }
    const incomingReplaceable = policy.replaceable(incoming);
    if (replaced === 0 && !incomingReplaceable) return false; // only kept events queued: keep them all
    if (!incomingReplaceable) {
      // The kept event stays and goes before the summary; the summary reflects the state now.
      kept.push({ ev: incoming, json: null, bytes: 0 });
      this.translatedCount(incoming.event).value++;
    } else {
      replaced++;
      q.absorbing = incoming;
    }
    const summary = policy.summary(q.key);
    kept.push({ ev: summary, json: null, bytes: 0 });
    this.translatedCount(summary.event).value++;
    q.items = kept;
    q.head = 0;
    this.opts.metrics.overflows.inc({ [this.keyLabel]: q.key });
    this.opts.metrics.compacted.inc({ [this.keyLabel]: q.key }, replaced);
    q.depthGauge.value = q.length;
    this.opts.log.warn("outbox full: queued events replaced by one summary event", {
      [this.keyLabel]: q.key,
      bound: this.maxPerKey,
      replaced,
      summaryId: summary.id,
      queued: q.length,
    });
    this.start(q);
    return true;
  }

  /** Events waiting (including those in flight), all keys. */
  depth(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  depthByKey(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const q of this.queues.values()) out[q.key] = q.length;
    return out;
  }

  /** True when at least one key's posts are currently failing. */
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

  private serialize(e: Entry<E>): void {
    if (e.json === null) {
      e.json = JSON.stringify(e.ev);
      e.bytes = Buffer.byteLength(e.json);
    }
  }

  /** Takes the next batch (bounded by count and body size) and validates it against the body schema. */
  private takeBatch(q: KeyQueue<E>): Entry<E>[] {
    for (;;) {
      const batch: Entry<E>[] = [];
      let bytes = BODY_OVERHEAD;
      const limit = Math.min(q.maxBatch, this.maxEventsPerPost);
      for (let i = q.head; i < q.items.length && batch.length < limit; i++) {
        const e = q.items[i]!;
        this.serialize(e);
        if (batch.length > 0 && bytes + e.bytes + 1 > this.maxBodyBytes) break;
        bytes += e.bytes + 1;
        batch.push(e);
      }
      if (batch.length === 0 || !this.opts.bodySchema) return batch;
      // One schema per wire message: the body we are about to send.
      const check = this.opts.bodySchema.safeParse({ events: batch.map((e) => e.ev) });
      if (check.success) return batch;
      const bad = new Set<number>();
      for (const issue of check.error.issues) {
        if (issue.path[0] === "events" && typeof issue.path[1] === "number") bad.add(issue.path[1]);
      }
      if (bad.size === 0) {
        // Not attributable to one event: test them one by one.
        const eventSchema = this.opts.eventSchema;
        if (eventSchema) {
          batch.forEach((e, i) => {
            if (!eventSchema.safeParse(e.ev).success) bad.add(i);
          });
        }
      }
      if (bad.size === 0) return batch; // whole-body issue (should not happen); let the Worker judge
      // Remove the invalid ones from the queue (they are all at the head segment).
      const badEntries = new Set([...bad].map((i) => batch[i]!));
      const rest: Entry<E>[] = [];
      for (let i = q.head; i < q.items.length; i++) {
        const e = q.items[i]!;
        if (badEntries.has(e)) this.drop(q, e, "failed the schema before sending", JSON.stringify(check.error.issues.slice(0, 3)));
        else rest.push(e);
      }
      q.items = rest;
      q.head = 0;
    }
  }

  private drop(q: KeyQueue<E>, e: Entry<E>, why: string, detail?: string): void {
    this.opts.metrics.dropped.inc({ event: e.ev.event });
    this.opts.log.error(`dropping one poison event: ${why}`, {
      [this.keyLabel]: q.key,
      id: e.ev.id,
      event: e.ev.event,
      detail,
    });
  }

  private async run(q: KeyQueue<E>): Promise<void> {
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
        const postStarted = Date.now();
        try {
          const extra = this.opts.postHeaders?.(batch.map((e) => e.ev));
          outcome = await this.opts.poster.post(body, signal, extra);
        } catch (err) {
          outcome = { kind: "retry", reason: `post failed: ${(err as Error).message}` };
        }
        const postEnded = Date.now();
        this.opts.metrics.postDuration?.observe((postEnded - postStarted) / 1000);
        q.inflight = 0;
        if (this.closed) break;
        switch (outcome.kind) {
          case "ok": {
            q.head += batch.length;
            q.compactHead();
            if (q.attempt > 0 || q.authErrors > 0) {
              this.opts.log.info("hub delivery recovered", { [this.keyLabel]: q.key, failedAttempts: q.attempt });
            }
            q.attempt = 0;
            q.authErrors = 0;
            q.maxBatch = Math.min(this.maxEventsPerPost, q.maxBatch * 2);
            this.opts.metrics.postsOk.inc();
            for (const e of batch) this.opts.metrics.delivered.inc({ event: e.ev.event });
            const latency = this.opts.metrics.deliveryLatency;
            if (latency && this.opts.receivedAt) {
              for (const e of batch) {
                const at = this.opts.receivedAt(e.ev);
                if (at !== undefined) latency.observe(Math.max(0, postEnded - at) / 1000);
              }
            }
            q.depthGauge.value = q.length;
            break;
          }
          case "rejected": {
            this.opts.metrics.postsFailed.inc({ reason: String(outcome.status) });
            if (batch.length === 1) {
              q.head += 1;
              q.compactHead();
              this.drop(
                q,
                batch[0]!,
                `the Worker rejected it with ${outcome.status} ${outcome.code ?? ""}`.trim(),
                `${outcome.message} (requestId ${outcome.requestId ?? "?"})`,
              );
              q.depthGauge.value = q.length;
            } else {
              // Isolate the poison event: halve the batch until it is alone.
              q.maxBatch = Math.max(1, Math.ceil(batch.length / 2));
              this.opts.log.warn("the Worker rejected a batch; splitting it to isolate the bad event", {
                [this.keyLabel]: q.key,
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
                { [this.keyLabel]: q.key, status: outcome.status, code: outcome.code, message: outcome.message, requestId: outcome.requestId },
              );
            }
            await this.backoff(backoffDelay(q.attempt++, this.retryBaseMs, this.retryMaxMs));
            break;
          }
          case "retry": {
            this.opts.metrics.postsFailed.inc({
              reason: outcome.status ? String(outcome.status) : outcome.reason.startsWith("timeout") ? "timeout" : "network",
            });
            const delay = Math.min(this.retryMaxMs, Math.max(outcome.retryAfterMs ?? 0, backoffDelay(q.attempt, this.retryBaseMs, this.retryMaxMs)));
            const log = q.attempt === 0 || q.attempt % 10 === 0 ? this.opts.log.warn : this.opts.log.debug;
            log(
              outcome.status === 404
                ? "the Worker answered 404: check HUB_ENDPOINT (it must be the URL of /api/internal/events)"
                : "hub post failed; will retry",
              {
                [this.keyLabel]: q.key,
                reason: outcome.reason,
                attempt: q.attempt + 1,
                retryInMs: delay,
                queued: q.length,
              },
            );
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
