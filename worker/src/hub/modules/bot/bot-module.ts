/**
 * The table bot's part of the hub: when a room's closing warning starts (`room.closing`) at a
 * table where the bot sits, rtc-node plays the room-closing cue into the voice channel; when the
 * room is deleted, the bot is sent away (Discord also removes it with the channel; this covers a
 * missed 4014). Calls are signed (HUB_SECRET) and fire-and-forget: a cue that cannot be played
 * is logged, never retried (a late warning is worse than none), and never delays the event.
 */
import type { Logger } from "@spell-coven/common";
import type { HubModule, PublicEvent } from "../../hub-module.ts";
import { callRtcNode, type RtcNodeTarget } from "../../../rtc/rtc-node-client.ts";

export interface BotModuleDeps {
  /** rtc-node's control API; null when RTC_NODE_URL or HUB_SECRET is unset (the module does nothing). */
  target: RtcNodeTarget | null;
  guildId: () => string;
  /** Who is in a voice channel now, and the bot's user id (null if unknown: then always ask). */
  voiceIn: (channelId: string) => string[];
  botUserId: string | null;
  log: Logger;
  /** Keeps the object alive until the call settles (ctx.waitUntil). */
  waitUntil?: (p: Promise<unknown>) => void;
}

export function botModule(deps: BotModuleDeps): HubModule {
  const call = (path: "/bot/cue" | "/bot/leave", channelId: string, cue?: "room_closing") => {
    const target = deps.target;
    if (!target) return;
    const p = callRtcNode(target, path, { guildId: deps.guildId(), channelId, ...(cue ? { cue } : {}) }).catch((err: Error & { code?: string }) => {
      if (err.code !== "BOT_NOT_AT_TABLE") deps.log.warn("table bot call failed", { path, channelId, code: err.code, err: err.message });
    });
    deps.waitUntil?.(p);
  };
  const botAt = (channelId: string) => deps.botUserId === null || deps.voiceIn(channelId).includes(deps.botUserId);
  return {
    name: "bot",
    onPublished(event: PublicEvent): PublicEvent[] {
      if (event.event === "room.closing" && botAt(event.payload.channelId)) call("/bot/cue", event.payload.channelId, "room_closing");
      else if (event.event === "room.deleted") call("/bot/leave", event.payload.channelId);
      return [];
    },
  };
}
