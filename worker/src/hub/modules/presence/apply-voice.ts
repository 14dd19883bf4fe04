/**
 * How voice reports change presence, and which public events that yields. Pure over the small
 * VoicePresence interface, so it is unit-tested without storage.
 *
 * State decides, not the sender: a join for someone already in that channel yields nothing, a
 * join for someone in another channel yields the missing leave first, and a snapshot yields
 * exactly the joins and leaves that bring clients from the hub's view to the snapshot's. That
 * keeps clients consistent even when the sidecar re-sends, reorders across a reconnect, or lost
 * events during an outage.
 */
import type { VoiceMember } from "@spell-coven/common";
import type { PublicEvent } from "../../hub-module.ts";

/** The presence operations the rules need. */
export interface VoicePresence {
  channelOf(userId: string): string | undefined;
  setVoice(userId: string, channelId: string): void;
  clearVoice(userId: string): void;
  voiceMembers(): VoiceMember[];
}

export function applyJoin(presence: VoicePresence, guildId: string, userId: string, channelId: string): PublicEvent[] {
  const current = presence.channelOf(userId);
  if (current === channelId) return [];
  const out = current === undefined ? [] : applyLeave(presence, guildId, userId);
  presence.setVoice(userId, channelId);
  out.push({ event: "voice.joined", payload: { guildId, channelId, userId } });
  return out;
}

export function applyLeave(presence: VoicePresence, guildId: string, userId: string): PublicEvent[] {
  const current = presence.channelOf(userId);
  if (current === undefined) return [];
  presence.clearVoice(userId);
  return [{ event: "voice.left", payload: { guildId, channelId: current, userId } }];
}

export function applySnapshot(presence: VoicePresence, guildId: string, voiceStates: readonly VoiceMember[]): PublicEvent[] {
  const target = new Map(voiceStates.map((v) => [v.userId, v.channelId]));
  const out: PublicEvent[] = [];
  for (const { userId } of presence.voiceMembers()) {
    if (!target.has(userId)) out.push(...applyLeave(presence, guildId, userId));
  }
  for (const [userId, channelId] of target) out.push(...applyJoin(presence, guildId, userId, channelId));
  return out;
}
