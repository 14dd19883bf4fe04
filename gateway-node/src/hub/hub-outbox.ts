/**
 * gateway-node's outbox: the sidecar kit's Outbox for hub events, one queue per guild, each post
 * checked against the shared `InternalEventsBody` schema. On overflow every queued voice event
 * (joins, leaves, flags) and snapshot of the guild is replaced by one presence snapshot built from
 * the voice-state cache; room events are always kept; the second half of a move, or the flags of
 * a join, whose first half was absorbed is absorbed too (the snapshot already holds it).
 */
import { InternalEvent, InternalEventsBody, MAX_EVENTS_PER_POST, MAX_INTERNAL_BODY_BYTES, traceParent, type Logger } from "@spell-coven/common";
import { Outbox, type HubPoster, type OverflowPolicy } from "@spell-coven/sidecar-kit";
import type { Metrics } from "../metrics.ts";

export interface HubOutboxOptions {
  poster: HubPoster;
  log: Logger;
  metrics: Metrics;
  /** Presence snapshot of a guild built from the cache (for overflow compaction). */
  buildSnapshot: (guildId: string) => InternalEvent;
  maxPerGuild?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  maxBodyBytes?: number;
}

/** Voice events and snapshots are summed up by a snapshot; room events are not. */
export function voiceOverflowPolicy(buildSnapshot: (guildId: string) => InternalEvent): OverflowPolicy<InternalEvent> {
  return {
    replaceable: (ev) => ev.event === "voice.joined" || ev.event === "voice.left" || ev.event === "voice.flags" || ev.event === "presence.snapshot",
    summary: buildSnapshot,
    // A move is left (`v:<key>:<seq>:0`) then joined (`...:1`) from one dispatch; a join's flags
    // follow it (`...:f`). The snapshot was built after the whole dispatch was cached, so it holds
    // them. (Only the event right after is absorbed: a move's `:f` then arrives after the summary,
    // where it repeats what the summary says, which the hub ignores.)
    absorbsNext: (absorbed, next) =>
      absorbed.id.startsWith("v:") &&
      ((absorbed.id.endsWith(":0") && next.id === `${absorbed.id.slice(0, -1)}1`) || next.id === `${absorbed.id.replace(/:[01]$/, "")}:f`),
  };
}

/** `traceparent` of the post: the first event's trace id (each event carries its own in the body). */
export function traceHeaders(events: readonly InternalEvent[]): Record<string, string> {
  const traceId = events.find((e) => e.traceId)?.traceId;
  return traceId ? { traceparent: traceParent(traceId) } : {};
}

export class HubOutbox extends Outbox<InternalEvent> {
  constructor(opts: HubOutboxOptions) {
    const m = opts.metrics;
    super({
      poster: opts.poster,
      log: opts.log,
      metrics: {
        queued: m.eventsTranslated,
        delivered: m.eventsForwarded,
        dropped: m.eventsDropped,
        depth: m.outboxDepth,
        overflows: m.outboxOverflows,
        compacted: m.outboxCompacted,
        postsOk: m.postsOk,
        postsFailed: m.postsFailed,
        deliveryLatency: m.dispatchToPost,
        postDuration: m.postDuration,
      },
      // The translator stamps `ts` when the dispatch arrives.
      receivedAt: (ev) => ev.ts,
      postHeaders: traceHeaders,
      keyOf: (ev) => ev.guildId,
      keyLabel: "guild",
      bodySchema: InternalEventsBody,
      eventSchema: InternalEvent,
      overflow: voiceOverflowPolicy(opts.buildSnapshot),
      maxEventsPerPost: MAX_EVENTS_PER_POST,
      maxBodyBytes: opts.maxBodyBytes ?? MAX_INTERNAL_BODY_BYTES,
      ...(opts.maxPerGuild !== undefined ? { maxPerKey: opts.maxPerGuild } : {}),
      ...(opts.retryBaseMs !== undefined ? { retryBaseMs: opts.retryBaseMs } : {}),
      ...(opts.retryMaxMs !== undefined ? { retryMaxMs: opts.retryMaxMs } : {}),
    });
  }
}
