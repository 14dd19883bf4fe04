/**
 * The limits on table chat commands, kept in the hub so that a refusal never reaches Discord
 * (401/403/429 answers count toward Discord's 10,000 invalid requests per 10 minutes, then an IP
 * ban). Starting values from Discord's documented and observed limits
 * (../shared/research/webrtc-sse-facts.md §7.2, §9.1):
 *
 * | command     | per player      | per channel                   | whole bot (this guild's hub)  |
 * | sendMessage | 5 per 10 s      | 5 per 5 s (Discord's bucket)  | 20, refilled 10/s (all calls) |
 * | addReaction | 4 per 5 s       | 1 per 1 s (the headers)       | 1 per 250 ms (the real limit) |
 * | typingStart | 3, 1 per 3 s    | one Discord call per 8 s      | the all-calls bucket          |
 *
 * The bot-wide buckets are per guild hub; with one primary guild that is the whole bot. Discord's
 * global limit (50/s) is also enforced across isolates by the REST client's rate-limit object.
 */
import type { ChatCommandName } from "@spell-coven/common";
import { TokenBuckets, takeAll, type BucketPolicy, type Refusal } from "./token-bucket.ts";

/** Typing shows for 10 s in Discord; one call per channel per this long keeps it lit. */
export const TYPING_COLLAPSE_MS = 8_000;

export interface CommandLimitPolicies {
  sendPerUser: BucketPolicy;
  sendPerChannel: BucketPolicy;
  reactPerUser: BucketPolicy;
  reactPerChannel: BucketPolicy;
  reactBot: BucketPolicy;
  typingPerUser: BucketPolicy;
  bot: BucketPolicy;
}

export const DEFAULT_COMMAND_LIMITS: CommandLimitPolicies = {
  sendPerUser: { capacity: 5, perMs: 10_000 },
  sendPerChannel: { capacity: 5, perMs: 5_000 },
  reactPerUser: { capacity: 4, perMs: 5_000 },
  reactPerChannel: { capacity: 1, perMs: 1_000 },
  reactBot: { capacity: 1, perMs: 250 },
  typingPerUser: { capacity: 3, perMs: 9_000 },
  bot: { capacity: 20, perMs: 2_000 },
};

type Buckets = { [K in keyof CommandLimitPolicies]: TokenBuckets };

export type LimitVerdict = { ok: true; collapsed: boolean } | ({ ok: false } & Refusal);

export class CommandLimits {
  private readonly b: Buckets;
  /** channelId -> when its last typing call went to Discord. */
  private readonly typedAt = new Map<string, number>();

  constructor(policies: CommandLimitPolicies = DEFAULT_COMMAND_LIMITS) {
    this.b = Object.fromEntries(Object.entries(policies).map(([k, p]) => [k, new TokenBuckets(p)])) as Buckets;
  }

  /**
   * Takes what `command` by `userId` in `channelId` costs, or refuses it. A typing command within
   * TYPING_COLLAPSE_MS of the channel's last call is accepted as `collapsed`: nothing goes to Discord.
   */
  take(command: ChatCommandName, userId: string, channelId: string, now: number): LimitVerdict {
    const b = this.b;
    const bot = { name: "bot", buckets: b.bot, key: "bot" };
    let refusal: Refusal | null;
    if (command === "sendMessage") {
      refusal = takeAll([{ name: "user", buckets: b.sendPerUser, key: userId }, { name: "channel", buckets: b.sendPerChannel, key: channelId }, bot], now);
    } else if (command === "addReaction") {
      refusal = takeAll(
        [
          { name: "user", buckets: b.reactPerUser, key: userId },
          { name: "channel", buckets: b.reactPerChannel, key: channelId },
          { name: "bot", buckets: b.reactBot, key: "bot" },
          bot,
        ],
        now,
      );
    } else {
      const last = this.typedAt.get(channelId);
      const collapsed = last !== undefined && now - last < TYPING_COLLAPSE_MS;
      refusal = takeAll(
        collapsed ? [{ name: "user", buckets: b.typingPerUser, key: userId }] : [{ name: "user", buckets: b.typingPerUser, key: userId }, bot],
        now,
      );
      if (refusal) return { ok: false, ...refusal };
      if (!collapsed) {
        this.typedAt.set(channelId, now);
        if (this.typedAt.size > 1000) for (const [k, at] of this.typedAt) if (now - at >= TYPING_COLLAPSE_MS) this.typedAt.delete(k);
      }
      return { ok: true, collapsed };
    }
    return refusal ? { ok: false, ...refusal } : { ok: true, collapsed: false };
  }
}
