/**
 * A token bucket per socket for signalling messages: ICE candidates come in bursts at the start
 * of a call, then almost nothing. Kept in memory only: the object hibernates only when sockets are
 * idle, and a bucket that refills after a wake is harmless.
 */
export class SignalBudget {
  private readonly buckets = new WeakMap<WebSocket, { tokens: number; at: number }>();

  constructor(
    /** Messages a socket may send at once. */
    private readonly burst = 200,
    /** Messages per second refilled. */
    private readonly perSecond = 50,
  ) {}

  /** Takes one token for `ws`; false when its budget is spent (the message is refused). */
  take(ws: WebSocket, now: number): boolean {
    const b = this.buckets.get(ws) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(ws, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
