/**
 * When to try again: exponential backoff with jitter (common's `backoffDelay`), at most
 * `maxAttempts` automatic attempts between two successful connections. No sockets here, so the
 * timing can be tested with fake timers.
 */
import { backoffDelay } from "@spell-coven/common";

export interface BackoffOptions {
  /** First delay ceiling (attempt 1 waits between base/2 and base). Default 1000 ms. */
  baseMs?: number;
  /** Largest delay ceiling. Default 16 000 ms. */
  maxMs?: number;
  /** Source of jitter, for tests. Default Math.random. */
  random?: () => number;
}

export interface ScheduledAttempt {
  /** 1 for the first attempt after a success, up to maxAttempts. */
  attempt: number;
  delayMs: number;
  /** Unix ms when the attempt starts. */
  at: number;
}

export const DEFAULT_MAX_RECONNECT_ATTEMPTS = 5;

export class ReconnectScheduler {
  readonly maxAttempts: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempts = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(maxAttempts = DEFAULT_MAX_RECONNECT_ATTEMPTS, opts: BackoffOptions = {}) {
    if (!Number.isInteger(maxAttempts) || maxAttempts < 0) throw new RangeError("maxAttempts must be a non-negative integer");
    this.maxAttempts = maxAttempts;
    this.#baseMs = opts.baseMs ?? 1000;
    this.#maxMs = opts.maxMs ?? 16_000;
    this.#random = opts.random ?? Math.random;
  }

  /** Attempts made since the last reset (a successful connection, or a manual reconnect). */
  get attempts(): number {
    return this.#attempts;
  }

  get pending(): boolean {
    return this.#timer !== null;
  }

  /** The delay before attempt `attempt` (1-based). */
  delayFor(attempt: number): number {
    return backoffDelay(attempt - 1, this.#baseMs, this.#maxMs, this.#random);
  }

  /**
   * Schedules the next attempt, replacing any pending one. `immediate` skips the wait (still
   * counted): used after a token refresh or a detected gap, where waiting helps nobody.
   * Returns null, and schedules nothing, when the attempts are used up.
   */
  schedule(run: () => void, opts: { immediate?: boolean } = {}): ScheduledAttempt | null {
    this.cancel();
    if (this.#attempts >= this.maxAttempts) return null;
    const attempt = ++this.#attempts;
    const delayMs = opts.immediate ? 0 : this.delayFor(attempt);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      run();
    }, delayMs);
    return { attempt, delayMs, at: Date.now() + delayMs };
  }

  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** After a success or a manual reconnect: the next failure starts again at attempt 1. */
  reset(): void {
    this.cancel();
    this.#attempts = 0;
  }
}
