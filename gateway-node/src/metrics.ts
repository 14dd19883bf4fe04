/**
 * gateway-node's metrics (names documented in the README), on the sidecar kit's registry.
 */
import { MetricsRegistry } from "@spell-coven/sidecar-kit";

export class Metrics extends MetricsRegistry {
  readonly dispatchesReceived = this.counter("gateway_dispatches_received_total", "Gateway dispatches (op 0) received, all types.");
  readonly eventsTranslated = this.counter("gateway_events_translated_total", "Hub events produced by translation, by event name.");
  readonly eventsForwarded = this.counter("gateway_events_forwarded_total", "Hub events accepted by the Worker (2xx), by event name.");
  readonly eventsDropped = this.counter(
    "gateway_events_dropped_total",
    "Poison events dropped after the Worker rejected them alone (4xx) or they failed validation.",
  );
  readonly outboxDepth = this.gauge("gateway_outbox_depth", "Events waiting in the outbox, by guild.");
  readonly outboxOverflows = this.counter(
    "gateway_outbox_overflows_total",
    "Times a guild's outbox hit its bound and voice events were compacted into a presence snapshot.",
  );
  readonly outboxCompacted = this.counter("gateway_outbox_compacted_events_total", "Voice events replaced by a presence snapshot on overflow.");
  readonly postsOk = this.counter("gateway_hub_posts_ok_total", "Posts to the Worker answered 2xx.");
  readonly postsFailed = this.counter("gateway_hub_posts_failed_total", "Posts to the Worker that failed, by reason (status code, timeout, network).");
  readonly reconnects = this.counter("gateway_reconnects_total", "Gateway reconnections, by shard.");
  readonly resumes = this.counter("gateway_resumes_total", "Resume (op 6) attempts, by shard.");
  readonly resumed = this.counter("gateway_resumed_total", "Successful resumes (RESUMED received), by shard.");
  readonly identifies = this.counter("gateway_identifies_total", "Identify (op 2) sent, by shard.");
  readonly invalidSessions = this.counter("gateway_invalid_sessions_total", "Op 9 Invalid Session received, by shard and resumable flag.");
  readonly zombies = this.counter("gateway_zombie_connections_total", "Connections closed because a heartbeat was not acknowledged, by shard.");
  readonly closes = this.counter("gateway_closes_total", "Gateway socket closes, by shard and code.");
  readonly heartbeatLatency = this.gauge("gateway_heartbeat_latency_ms", "Last heartbeat round trip, by shard.");
  readonly shardReady = this.gauge("gateway_shard_ready", "1 when the shard's session is ready, by shard.");
  readonly voiceStatesCached = this.gauge("gateway_voice_states_cached", "Voice states held in the cache.");
  readonly dispatchToPost = this.histogram(
    "gateway_dispatch_to_post_seconds",
    "From a dispatch's arrival to the end of the Worker post that delivered its event (queueing, retries and the post itself).",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  );
  readonly postDuration = this.histogram(
    "gateway_hub_post_duration_seconds",
    "Duration of one post to the Worker, every outcome.",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
}
