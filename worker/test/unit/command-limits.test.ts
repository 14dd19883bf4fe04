import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatContent, ChatEmoji } from "@spell-coven/common";
import { CommandLimits, DEFAULT_COMMAND_LIMITS, TYPING_COLLAPSE_MS } from "../../src/hub/modules/commands/command-limits.ts";
import { TokenBuckets, takeAll } from "../../src/hub/modules/commands/token-bucket.ts";

afterEach(() => vi.useRealTimers());

describe("token buckets on a fake clock", () => {
  it("give capacity at once, refill exactly, and say when the next token comes", () => {
    vi.useFakeTimers();
    const b = new TokenBuckets({ capacity: 5, perMs: 10_000 }); // 1 token per 2 s
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(b.waitMs("u", t0)).toBe(0);
      b.take("u", t0);
    }
    expect(b.waitMs("u", t0)).toBe(2000);
    expect(b.waitMs("u", t0 + 1999)).toBe(1);
    expect(b.waitMs("u", t0 + 2000)).toBe(0);
    b.take("u", t0 + 2000);
    expect(b.waitMs("u", t0 + 2000)).toBe(2000);
    // Refill stops at capacity, and other keys are untouched.
    expect(b.tokens("u", t0 + 60_000)).toBe(5);
    expect(b.tokens("v", t0)).toBe(5);
    // No timer was ever started: nothing keeps a hibernating object awake.
    expect(vi.getTimerCount()).toBe(0);
  });

  it("takeAll takes from every bucket or from none, and names the one that refused", () => {
    const user = new TokenBuckets({ capacity: 2, perMs: 10_000 });
    const channel = new TokenBuckets({ capacity: 1, perMs: 5_000 });
    const checks = (u: string) => [
      { name: "user", buckets: user, key: u },
      { name: "channel", buckets: channel, key: "c" },
    ];
    expect(takeAll(checks("a"), 0)).toBeNull();
    expect(takeAll(checks("a"), 0)).toEqual({ bucket: "channel", retryAfterMs: 5000 });
    // The refused call cost the user nothing.
    expect(user.tokens("a", 0)).toBe(1);
  });
});

describe("command limits", () => {
  const now = 5_000_000;
  it("a burst of 50 sends by one player gives exactly the per-player capacity", () => {
    const limits = new CommandLimits();
    const verdicts = Array.from({ length: 50 }, () => limits.take("sendMessage", "p1", "c1", now));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(DEFAULT_COMMAND_LIMITS.sendPerUser.capacity);
    const refused = verdicts.find((v) => !v.ok)!;
    expect(refused).toMatchObject({ ok: false, bucket: "user", retryAfterMs: 2000 });
  });

  it("the channel bucket is shared by every player of the table", () => {
    const limits = new CommandLimits();
    const players = ["p1", "p2", "p3", "p4", "p5", "p6"];
    const verdicts = players.map((p) => limits.take("sendMessage", p, "c1", now));
    expect(verdicts.slice(0, 5).every((v) => v.ok)).toBe(true);
    expect(verdicts[5]).toMatchObject({ ok: false, bucket: "channel", retryAfterMs: 1000 });
    expect(limits.take("sendMessage", "p6", "c2", now).ok).toBe(true);
  });

  it("reactions: one per channel per second, one per 250 ms for the whole bot", () => {
    const limits = new CommandLimits();
    expect(limits.take("addReaction", "p1", "c1", now).ok).toBe(true);
    expect(limits.take("addReaction", "p2", "c1", now + 500)).toMatchObject({ ok: false, bucket: "channel", retryAfterMs: 500 });
    expect(limits.take("addReaction", "p2", "c2", now + 100)).toMatchObject({ ok: false, bucket: "bot", retryAfterMs: 150 });
    expect(limits.take("addReaction", "p2", "c2", now + 250).ok).toBe(true);
    expect(limits.take("addReaction", "p2", "c1", now + 1000).ok).toBe(true);
  });

  it("typing is collapsed to one Discord call per channel per 8 s", () => {
    const limits = new CommandLimits();
    expect(limits.take("typingStart", "p1", "c1", now)).toEqual({ ok: true, collapsed: false });
    expect(limits.take("typingStart", "p2", "c1", now + 3000)).toEqual({ ok: true, collapsed: true });
    expect(limits.take("typingStart", "p1", "c1", now + TYPING_COLLAPSE_MS - 1)).toEqual({ ok: true, collapsed: true });
    expect(limits.take("typingStart", "p1", "c1", now + TYPING_COLLAPSE_MS)).toEqual({ ok: true, collapsed: false });
  });
});

describe("chat input", () => {
  it("content: control characters removed, trimmed, 2000 code points at most (emoji count once)", () => {
    expect(ChatContent.parse("  hi\u0007 there\n ")).toBe("hi there");
    expect(ChatContent.safeParse("   ").success).toBe(false);
    // Discord's 2000 less the 25 characters of the prefix that names the player in Discord.
    expect(ChatContent.safeParse("👍".repeat(1975)).success).toBe(true);
    expect(ChatContent.safeParse("a".repeat(1976)).success).toBe(false);
  });
  it("emoji: one unicode emoji (multi-codepoint too) or name:id, nothing else", () => {
    for (const ok of ["👍", "👍🏽", "👨‍👩‍👧", "🇫🇷", "1️⃣", "❤️", "dragon:123456789012345678", "<a:dragon:123456789012345678>"])
      expect(ChatEmoji.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["", "a", "👍👍x", "👍 ", "123", "dragon", "../@me", "👍/x"]) expect(ChatEmoji.safeParse(bad).success, bad).toBe(false);
  });
});
