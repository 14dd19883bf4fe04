/**
 * Outgoing gateway sends within Discord's limit: 120 events per connection per 60 s (exceeding
 * it closes the socket with 4008). Counted over a sliding window (a ring of the last `limit` send
 * times), so no 60 s period ever holds more than `limit` sends whatever the server's window
 * alignment. Ordinary payloads may use `limit - reserved` of them; heartbeats, identify and
 * resume ("priority") may use the whole limit and jump the queue, so they are never starved
 * (discord.js keeps the same leeway: 115 for the rest).
 *
 * Ordinary payloads wait for `release()` (the session is ready: READY or RESUMED) on each new
 * connection: sent before identify they would be answered with 4003 Not authenticated.
 */
export interface SendQueueOptions {
  limit?: number;
  windowMs?: number;
  reserved?: number;
  now?: () => number;
}

export class SendQueue {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly normalLimit: number;
  private readonly now: () => number;
  /** Ring of the send times of the last `limit` sends. */
  private readonly times: Float64Array;
  private head = 0; // index of the oldest entry
  private count = 0;
  private readonly priorityQueue: string[] = [];
  private readonly normalQueue: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private write: ((payload: string) => void) | null = null;
  /** Ordinary payloads may go out (the connection's session is ready). */
  private released = false;

  constructor(opts: SendQueueOptions = {}) {
    this.limit = opts.limit ?? 120;
    this.windowMs = opts.windowMs ?? 60_000;
    this.normalLimit = this.limit - (opts.reserved ?? 5);
    this.now = opts.now ?? Date.now;
    this.times = new Float64Array(this.limit);
  }

  /**
   * Attaches a new socket writer. The send history is per connection, so it starts fresh. Only
   * priority payloads go out until `release()`.
   */
  attach(write: (payload: string) => void): void {
    this.write = write;
    this.released = false;
    this.head = 0;
    this.count = 0;
    this.drain();
  }

  /** The session on this connection is ready: ordinary payloads may go out. */
  release(): void {
    this.released = true;
    this.drain();
  }

  /** Detaches the writer (socket closed). Ordinary payloads stay queued for the next connection; priority ones are dropped (they belong to the old session's handshake). */
  detach(): void {
    this.write = null;
    this.released = false;
    this.priorityQueue.length = 0;
    this.clearTimer();
  }

  /** Heartbeat / identify / resume. */
  sendPriority(payload: string): void {
    this.priorityQueue.push(payload);
    this.drain();
  }

  send(payload: string): void {
    this.normalQueue.push(payload);
    this.drain();
  }

  get queued(): number {
    return this.priorityQueue.length + this.normalQueue.length;
  }

  /** Sends in the current window (for tests and metrics). */
  usedInWindow(): number {
    this.expire();
    return this.count;
  }

  clear(): void {
    this.priorityQueue.length = 0;
    this.normalQueue.length = 0;
    this.clearTimer();
  }

  private expire(): void {
    const cutoff = this.now() - this.windowMs;
    while (this.count > 0 && this.times[this.head]! <= cutoff) {
      this.head = (this.head + 1) % this.limit;
      this.count--;
    }
  }

  private record(): void {
    this.times[(this.head + this.count) % this.limit] = this.now();
    this.count++;
  }

  private drain(): void {
    if (!this.write) return;
    this.expire();
    while (this.priorityQueue.length && this.count < this.limit) {
      this.record();
      this.write(this.priorityQueue.shift()!);
      if (!this.write) return;
    }
    while (this.released && !this.priorityQueue.length && this.normalQueue.length && this.count < this.normalLimit) {
      this.record();
      this.write(this.normalQueue.shift()!);
      if (!this.write) return;
    }
    const waiting = this.priorityQueue.length + (this.released ? this.normalQueue.length : 0);
    if (waiting && !this.timer && this.count > 0) {
      // Wake when the oldest send leaves the window.
      const wait = Math.max(1, this.times[this.head]! + this.windowMs - this.now() + 1);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, wait);
      this.timer.unref?.();
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
