/**
 * Presence: applies gateway-node's voice reports (joins, leaves, mute / deafen flags, snapshots)
 * to the guild's voice presence and yields the public voice events. Rooms react to those events
 * (rooms-module.ts).
 */
import type { HubModule } from "../../hub-module.ts";
import { applyFlags, applyJoin, applyLeave, applySnapshot } from "./apply-voice.ts";
import type { PresenceStore } from "./presence-store.ts";

export function presenceModule(presence: PresenceStore): HubModule {
  return {
    name: "presence",
    internalEvents: {
      "voice.joined": (e) => applyJoin(presence, e.guildId, e.payload.userId, e.payload.channelId),
      "voice.left": (e) => applyLeave(presence, e.guildId, e.payload.userId),
      "voice.flags": (e) => applyFlags(presence, e.guildId, e.payload),
      "presence.snapshot": (e) => applySnapshot(presence, e.guildId, e.payload.voiceStates, e.payload.voiceFlags),
    },
  };
}
