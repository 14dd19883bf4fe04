/** Tunables of the GuildHub, in one place so the docs and tests can quote them. */

/** Events kept for resume. A client further behind gets a fresh snapshot instead. */
export const HISTORY_LIMIT = 2_000;
/**
 * Slow-consumer bound: a client whose acknowledged seq is more than this many events behind the
 * hub is closed with 4008 (it reconnects and resumes). The runtime exposes no bufferedAmount, so
 * client acks are the only honest measure of how far behind a client is.
 */
export const MAX_CLIENT_LAG = 500;
/** A socket with no ping and no message for this long is presumed dead (close 4009). */
export const IDLE_TIMEOUT_MS = 90_000;
/** How often the alarm sweeps for idle sockets while any are connected. */
export const SWEEP_INTERVAL_MS = 30_000;
/** How long internal event ids are remembered for deduplication. */
export const DEDUP_WINDOW_MS = 24 * 60 * 60_000;
/** Most concurrent sockets per guild object; beyond it new connections are refused (503). */
export const MAX_SOCKETS = 10_000;
