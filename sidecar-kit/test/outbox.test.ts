/** The kit's Outbox with an event type that is not Discord's: order per key, retries, poison, overflow. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "@spell-coven/common";
import { MetricsRegistry, Outbox, type HubPoster, type OutboxEvent, type PostOutcome } from "../src/index.ts";

interface LevelEvent extends OutboxEvent {
  event: "level" | "summary" | "joined";
  table: string;
  value: number;
}

const LevelSchema = z.object({ id: z.string(), event: z.enum(["level", "summary", "joined"]), table: z.string(), value: z.number().min(0).max(1) });
const Body = z.object({ events: z.array(LevelSchema) });

class TestMetrics extends MetricsRegistry {
  readonly queued = this.counter("t_queued_total", "q");
  readonly delivered = this.counter("t_delivered_total", "d");
  readonly dropped = this.counter("t_dropped_total", "x");
  readonly depth = this.gauge("t_depth", "depth");
  readonly overflows = this.counter("t_overflows_total", "o");
  readonly compacted = this.counter("t_compacted_total", "c");
  readonly postsOk = this.counter("t_posts_ok_total", "ok");
  readonly postsFailed = this.counter("t_posts_failed_total", "f");
}

/** Records accepted bodies; answers from a script of outcomes first (then ok). */
class ScriptedPoster implements HubPoster {
  readonly accepted: LevelEvent[] = [];
  posts = 0;
  constructor(readonly script: (body: LevelEvent[]) => PostOutcome | null = () => null) {}
  async post(body: string): Promise<PostOutcome> {
    this.posts++;
    const events = (JSON.parse(body) as { events: LevelEvent[] }).events;
    const scripted = this.script(events);
    if (scripted) return scripted;
    this.accepted.push(...events);
    return { kind: "ok", status: 200, accepted: events.length, duplicates: 0 };
  }
}

const quiet = createLogger("ERROR", {}, () => {});
let n = 0;
const ev = (table: string, value: number, event: LevelEvent["event"] = "level"): LevelEvent => ({ id: `e${++n}`, event, table, value });

function make(poster: HubPoster, extra: Partial<ConstructorParameters<typeof Outbox<LevelEvent>>[0]> = {}) {
  const metrics = new TestMetrics();
  const outbox = new Outbox<LevelEvent>({
    poster,
    log: quiet,
    metrics,
    keyOf: (e) => e.table,
    keyLabel: "table",
    bodySchema: Body,
    eventSchema: LevelSchema,
    retryBaseMs: 5,
    retryMaxMs: 20,
    ...extra,
  });
  return { outbox, metrics };
}

describe("sidecar-kit Outbox", () => {
  it("delivers in order per key and retries a failing post with the same ids", async () => {
    let failures = 2;
    const poster = new ScriptedPoster(() => (failures-- > 0 ? { kind: "retry", status: 503, reason: "HTTP 503" } : null));
    const { outbox, metrics } = make(poster);
    const sent = [ev("a", 0.1), ev("b", 0.2), ev("a", 0.3), ev("a", 0.4)];
    for (const e of sent) outbox.enqueue(e);
    expect(await outbox.flush(2000)).toBe(0);
    expect(poster.accepted.filter((e) => e.table === "a").map((e) => e.id)).toEqual([sent[0]!.id, sent[2]!.id, sent[3]!.id]);
    expect(new Set(poster.accepted.map((e) => e.id)).size).toBe(4);
    expect(metrics.postsFailed.value({ reason: "503" })).toBe(2);
    expect(metrics.delivered.value({ event: "level" })).toBe(4);
    expect(metrics.render()).toContain('t_depth{table="a"} 0');
  });

  it("drops only the event the schema or the Worker rejects", async () => {
    const poster = new ScriptedPoster((events) => (events.some((e) => e.value === 0.5) ? { kind: "rejected", status: 422, message: "bad" } : null));
    const { outbox, metrics } = make(poster);
    outbox.enqueue(ev("a", 0.1));
    outbox.enqueue(ev("a", 7)); // fails the schema before sending
    outbox.enqueue(ev("a", 0.5)); // the Worker rejects it
    outbox.enqueue(ev("a", 0.9));
    expect(await outbox.flush(2000)).toBe(0);
    expect(poster.accepted.map((e) => e.value)).toEqual([0.1, 0.9]);
    expect(metrics.dropped.value({ event: "level" })).toBe(2);
  });

  it("overflow: replaceable events become one summary; others are kept; a follower can be absorbed", async () => {
    let down = true;
    const poster = new ScriptedPoster(() => (down ? { kind: "retry", reason: "network: ECONNREFUSED" } : null));
    const { outbox, metrics } = make(poster, {
      maxPerKey: 5,
      overflow: {
        replaceable: (e) => e.event !== "joined",
        summary: (table) => ({ id: `sum-${++n}`, event: "summary", table, value: 1 }),
        absorbsNext: (absorbed, next) => next.event === "level" && next.value === absorbed.value,
      },
    });
    outbox.enqueue(ev("a", 0.1)); // its post fails: waiting for a retry, not in flight, so replaceable
    await new Promise((r) => setTimeout(r, 5));
    outbox.enqueue(ev("a", 0, "joined"));
    for (let i = 2; i <= 4; i++) outbox.enqueue(ev("a", i / 10));
    outbox.enqueue(ev("a", 0.6)); // full: the four queued levels and this one become one summary
    outbox.enqueue(ev("a", 0.6)); // absorbed by that summary
    expect(metrics.overflows.value({ table: "a" })).toBe(1);
    expect(metrics.compacted.value({ table: "a" })).toBe(5);
    down = false;
    outbox.wake();
    expect(await outbox.flush(2000)).toBe(0);
    expect(poster.accepted.map((e) => `${e.event}:${e.value}`)).toEqual(["joined:0", "summary:1"]);
  });
});
