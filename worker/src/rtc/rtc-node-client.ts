/**
 * The Worker's calls to rtc-node's bot control API, signed with HUB_SECRET like internal posts
 * (the same helper), so only the Worker and the hub can move the bot. Answers map to ApiErrors
 * with stable codes: BOT_BUSY (409, names the table that has it), BOT_NOT_AT_TABLE (404),
 * BOT_UNAVAILABLE (503: rtc-node down, not configured, or without its gateway link).
 */
import { signHubRequest, type BotCueName } from "@spell-coven/common";
import { ApiError } from "../errors.ts";

export interface RtcNodeTarget {
  url: string;
  secret: string;
}

export async function callRtcNode(
  target: RtcNodeTarget,
  path: "/bot/join" | "/bot/leave" | "/bot/cue",
  body: { guildId: string; channelId: string; requestedBy?: string; cue?: BotCueName },
): Promise<unknown> {
  const text = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(new URL(path, target.url), {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(await signHubRequest(target.secret, text)) },
      body: text,
      // No AbortSignal.timeout: its pending timer would keep a Durable Object (the hub's bot
      // module calls this) from being evicted for its whole length; the platform bounds subrequests.
    });
  } catch {
    throw new ApiError("BOT_UNAVAILABLE", "The table bot service (rtc-node) cannot be reached right now; try again in a moment.");
  }
  const json = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; busyChannelIds?: string[] } } | null;
  if (res.ok) return json;
  const err = json?.error;
  if (err?.code === "BOT_BUSY")
    throw new ApiError("BOT_BUSY", err.message ?? "The table bot is at another table.", { busyChannelIds: err.busyChannelIds ?? [] });
  if (err?.code === "BOT_NOT_AT_TABLE") throw new ApiError("BOT_NOT_AT_TABLE", err.message ?? "The table bot is not at this table.");
  if (res.status === 401) throw new ApiError("NOT_CONFIGURED", "rtc-node refused the Worker's signature: set the same HUB_SECRET on both.");
  throw new ApiError("BOT_UNAVAILABLE", err?.message ? `The table bot could not do that: ${err.message}` : `rtc-node answered HTTP ${res.status}.`);
}
