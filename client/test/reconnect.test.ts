/** The reconnect scheduler alone (no sockets): backoff timing, jitter bounds, attempt limit. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ReconnectScheduler } from "../src/reconnect.ts";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs the scheduler through failures; returns the delay before each attempt as observed on the clock. */
function observe(s: ReconnectScheduler): number[] {
  const delays: number[] = [];
  let started = Date.now();
  const fail = () => {
    delays.push(Date.now() - started);
    started = Date.now();
    s.schedule(fail);
  };
  s.schedule(fail);
  vi.runAllTimers();
  return delays;
}

describe("ReconnectScheduler", () => {
  it("doubles the delay on each attempt (1 s, 2 s, 4 s, 8 s, 16 s ceilings) and stops after maxAttempts", () => {
    expect(observe(new ReconnectScheduler(5, { random: () => 1 }))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(observe(new ReconnectScheduler(5, { random: () => 0 }))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it("caps the delay at maxMs", () => {
    expect(observe(new ReconnectScheduler(7, { random: () => 1, baseMs: 1000, maxMs: 5000 }))).toEqual([1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  });

  it("jitters each delay within [ceiling/2, ceiling]", () => {
    const s = new ReconnectScheduler(5);
    for (let i = 0; i < 200; i++) {
      for (let attempt = 1; attempt <= 5; attempt++) {
        const ceiling = 1000 * 2 ** (attempt - 1);
        const d = s.delayFor(attempt);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    // and it is actually random
    expect(new Set(Array.from({ length: 20 }, () => s.delayFor(3))).size).toBeGreaterThan(5);
  });

  it("does not run before the delay has passed, runs once when it has", () => {
    const s = new ReconnectScheduler(5, { random: () => 0.5 });
    const run = vi.fn();
    const next = s.schedule(run)!;
    expect(next).toMatchObject({ attempt: 1, delayMs: 750 });
    vi.advanceTimersByTime(749);
    expect(run).not.toHaveBeenCalled();
    expect(s.pending).toBe(true);
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(s.pending).toBe(false);
  });

  it("returns null once the attempts are used up, and starts over after reset()", () => {
    const s = new ReconnectScheduler(2, { random: () => 1 });
    expect(s.schedule(() => {})?.attempt).toBe(1);
    vi.runAllTimers();
    expect(s.schedule(() => {})?.attempt).toBe(2);
    vi.runAllTimers();
    expect(s.schedule(() => {})).toBeNull();
    expect(s.attempts).toBe(2);
    s.reset();
    expect(s.schedule(() => {})).toMatchObject({ attempt: 1, delayMs: 1000 });
  });

  it("an immediate attempt waits 0 ms but still counts", () => {
    const s = new ReconnectScheduler(5, { random: () => 1 });
    const run = vi.fn();
    expect(s.schedule(run, { immediate: true })).toMatchObject({ attempt: 1, delayMs: 0 });
    vi.advanceTimersByTime(0);
    expect(run).toHaveBeenCalledTimes(1);
    expect(s.schedule(run)).toMatchObject({ attempt: 2, delayMs: 2000 });
  });

  it("cancel() drops the pending attempt; scheduling again replaces it", () => {
    const s = new ReconnectScheduler(5, { random: () => 1 });
    const a = vi.fn();
    const b = vi.fn();
    s.schedule(a);
    s.cancel();
    vi.runAllTimers();
    expect(a).not.toHaveBeenCalled();
    s.schedule(a);
    s.schedule(b);
    vi.runAllTimers();
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
  });
});
