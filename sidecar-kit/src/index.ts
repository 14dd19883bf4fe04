/**
 * @spell-coven/sidecar-kit: what every Node sidecar of Spell Coven (gateway-node, rtc-node) needs,
 * written once: the signed hub poster and the outbox, the /health + /metrics server and metrics,
 * the stop sequence and process lifecycle (signals, exit codes, flush on stop), and the shared
 * configuration rules. Nothing here knows about Discord.
 */
export { SidecarConfigError, envBool, envHost, envHttpUrl, envInt, envPort, parseEnv, sidecarEnv } from "./config.ts";
export { HealthServer, type HealthSource, type HealthStatus } from "./health-server.ts";
export { HttpTimeoutError, fetchOverHttp, httpRequest, type HttpRequest, type HttpRequestOptions, type HttpResponse } from "./http-client.ts";
export { HubClient, type HubClientOptions, type HubPoster, type PostOutcome } from "./hub/poster.ts";
export { Outbox, type OutboxEvent, type OutboxMetrics, type OutboxOptions, type OverflowPolicy } from "./hub/outbox.ts";
export { ExitCode, runUntilStopped, type LifecycleOptions, type LifecycleService, type ServiceResult } from "./lifecycle.ts";
export { Histogram, HistogramSeries, Metric, MetricsRegistry, renderLabels, type Labels, type Series } from "./metrics.ts";
export { SidecarRuntime, type FlushableOutbox, type SidecarRuntimeOptions, type StopResult } from "./runtime.ts";
