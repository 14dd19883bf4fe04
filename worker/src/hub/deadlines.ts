/**
 * The one alarm of the Durable Object, shared by every module that needs a deadline (auth
 * timeouts, token expiry, the idle sweep, room timers, cleanup retries).
 *
 * Each deadline is passed to `by()` when it is made, which only ever brings the alarm forward;
 * when the alarm fires, every module does what is due and the alarm is set again to the earliest
 * deadline any module still has. No scan runs on the hot paths (connects, posts), and the alarm is
 * never later than the earliest deadline. Alarms are delivered at least once, so what modules do
 * on a deadline must be safe to repeat.
 */

/** The part of DurableObjectStorage the alarm needs (a fake in unit tests). */
export interface AlarmStorage {
  getAlarm(): Promise<number | null>;
  setAlarm(at: number): Promise<void>;
}

/** Something that has deadlines: a hub module. */
export interface DeadlineOwner {
  readonly name: string;
  nextDeadline?(now: number): number | null;
  onDeadline?(now: number): void | Promise<void>;
}

/** The earliest of the owners' deadlines, or null when none has one. */
export function earliestDeadline(owners: readonly DeadlineOwner[], now: number): number | null {
  let next = Infinity;
  for (const owner of owners) {
    const at = owner.nextDeadline?.(now);
    if (at !== null && at !== undefined && at < next) next = at;
  }
  return next === Infinity ? null : next;
}

export class Deadlines {
  constructor(
    private readonly storage: AlarmStorage,
    private readonly owners: readonly DeadlineOwner[],
    /** A module that failed on its deadline is reported here; the others still run. */
    private readonly onError: (owner: string, err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Brings the alarm forward to `at` when it is set later, not at all, or in the past. */
  async by(at: number | null | undefined): Promise<void> {
    if (at === null || at === undefined) return;
    const now = this.clock();
    const existing = await this.storage.getAlarm();
    if (existing === null || existing > at || existing < now) await this.storage.setAlarm(Math.max(at, now + 1));
  }

  /**
   * The alarm fired: every owner handles what is due (one failing does not stop the others, and
   * its deadline is still pending, so the next alarm retries it), then the alarm is set again.
   */
  async fire(): Promise<void> {
    const now = this.clock();
    for (const owner of this.owners) {
      try {
        await owner.onDeadline?.(now);
      } catch (err) {
        this.onError(owner.name, err);
      }
    }
    await this.by(earliestDeadline(this.owners, this.clock()));
  }
}
