/**
 * Turns what the table bot hears into `voice.speaking` signals for the hub: a start or stop at
 * once, the level (RMS of the decoded audio, 0..1) at most `levelHz` times a second per speaker
 * while they talk. Posted signed to `POST /api/internal/signals` in small batches. Signals are
 * fire-and-forget (the hub never stores them): a failed post is counted and dropped, not retried,
 * because a late "speaking" is worse than none. Nothing of the audio itself leaves this class.
 */
import { InternalSignalsBody, type Logger } from "@spell-coven/common";
import type { HubPoster } from "@spell-coven/sidecar-kit";

type Signal = InternalSignalsBody["signals"][number];

export interface SpeakingReporterOptions {
  poster: HubPoster;
  log: Logger;
  /** Level updates per speaker per second at most. Default 4. */
  levelHz?: number;
  onPosted?: (count: number, ok: boolean, ms: number) => void;
}

export class SpeakingReporter {
  private readonly pending: Signal[] = [];
  private inFlight = false;
  private readonly lastLevelAt = new Map<string, number>();
  private readonly levelAcc = new Map<string, { sum: number; n: number }>();
  posted = 0;
  failed = 0;

  constructor(private readonly opts: SpeakingReporterOptions) {}

  speaking(guildId: string, channelId: string, userId: string, speaking: boolean): void {
    if (!speaking) {
      this.lastLevelAt.delete(userId);
      this.levelAcc.delete(userId);
    } else this.lastLevelAt.set(userId, Date.now());
    this.push({ guildId, signal: "voice.speaking", payload: { channelId, userId, speaking } });
  }

  /** One decoded frame's level; reported as the mean over the interval, at most levelHz. */
  level(guildId: string, channelId: string, userId: string, level: number): void {
    const acc = this.levelAcc.get(userId) ?? { sum: 0, n: 0 };
    acc.sum += level;
    acc.n++;
    this.levelAcc.set(userId, acc);
    const now = Date.now();
    const last = this.lastLevelAt.get(userId) ?? 0;
    if (now - last < 1000 / (this.opts.levelHz ?? 4)) return;
    this.lastLevelAt.set(userId, now);
    this.levelAcc.delete(userId);
    const mean = Math.min(1, Math.max(0, acc.sum / acc.n));
    this.push({ guildId, signal: "voice.speaking", payload: { channelId, userId, speaking: true, level: Math.round(mean * 1000) / 1000 } });
  }

  private push(s: Signal): void {
    // A bound: if the hub is slow, the oldest level updates go first.
    if (this.pending.length >= 200) this.pending.splice(0, this.pending.length - 199);
    this.pending.push(s);
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.pending.length === 0) return;
    this.inFlight = true;
    const batch = this.pending.splice(0, 50);
    const started = Date.now();
    try {
      const body = JSON.stringify(InternalSignalsBody.parse({ signals: batch }));
      const out = await this.opts.poster.post(body);
      const ok = out.kind === "ok";
      if (ok) this.posted += batch.length;
      else {
        this.failed += batch.length;
        this.opts.log.warn("hub refused speaking signals (dropped)", { outcome: out.kind, count: batch.length });
      }
      this.opts.onPosted?.(batch.length, ok, Date.now() - started);
    } catch (err) {
      this.failed += batch.length;
      this.opts.log.warn("speaking signals not posted (dropped)", { err: (err as Error).message });
    } finally {
      this.inFlight = false;
      if (this.pending.length) void this.flush();
    }
  }
}
