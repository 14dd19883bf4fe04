/** Discord's limits on what a client may send (Gateway docs, "Sending Events" / "Rate Limiting"). */

/** A payload above this many bytes closes the connection with 4002. */
export const MAX_CLIENT_PAYLOAD_BYTES = 4096;

/** 120 payloads per connection per 60 s, else close 4008. */
export const CLIENT_SEND_LIMIT = 120;
export const CLIENT_SEND_WINDOW_MS = 60_000;

/**
 * Fixed window starting when the connection opens, the way @discordjs/ws counts its own sends,
 * so a client that respects its window never trips ours.
 */
export class SendLimiter {
  private windowStart = Date.now();
  private count = 0;

  constructor(
    private readonly limit = CLIENT_SEND_LIMIT,
    private readonly windowMs = CLIENT_SEND_WINDOW_MS,
  ) {}

  /** Counts one payload; false when it is over the limit. */
  take(now = Date.now()): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    return this.count <= this.limit;
  }
}
