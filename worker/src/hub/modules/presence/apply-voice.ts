/**
 * How voice reports change presence, and which public events that yields. Pure over the small
 * VoicePresence interface, so it is unit-tested without storage.
 *
 * State decides, not the sender: a join for someone already in that channel yields nothing, a
 * join for someone in another channel yields the missing leave first, and a snapshot yields
 * exactly the joins and leaves that bring clients from the hub's view to the snapshot's. That
 * keeps clients consistent even when the sidecar re-sends, reorders across a reconnect, or lost
 * events during an outage.
 *
 * Mute and deafen flags belong to a user's stay in voice: a join starts with none, voice.flags
 * sets them (and says the user is in that channel: the missing join comes first), leaving clears
 * them (clients clear them on voice.left, so no flags event is published for a leave).
 */
import { packVoiceFlags, type VoiceFlags, type VoiceFlagsEntry, type VoiceFlagsPayload, type VoiceMember } from "@spell-coven/common";
import type { PublicEvent } from "../../hub-module.ts";

/** The presence operations the rules need. */
export interface VoicePresence {
  channelOf(userId: string): string | undefined;
  /** Puts the user in `channelId` with no flags set. */
  setVoice(userId: string, channelId: string): void;
  /** Takes the user out of voice, flags and all. */
  clearVoice(userId: string): void;
  voiceMembers(): VoiceMember[];
  /** The user's flags (all false when none is set or they are not in voice). */
  flagsOf(userId: string): VoiceFlags;
  /** Sets the flags of a user in voice. */
  setFlags(userId: string, flags: VoiceFlags): void;
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

/** A user's flags as reported: published when they differ from what the hub holds. */
export function applyFlags(presence: VoicePresence, guildId: string, report: VoiceFlagsPayload): PublicEvent[] {
  const { userId, channelId } = report;
  const out = applyJoin(presence, guildId, userId, channelId);
  out.push(...setFlags(presence, guildId, userId, channelId, flagsIn(report)));
  return out;
}

/**
 * Brings presence to a snapshot's. With `voiceFlags` (gateway-node sends them) every user's flags
 * become the snapshot's (none for those it leaves out); without (an older sender) flags stay.
 */
export function applySnapshot(
  presence: VoicePresence,
  guildId: string,
  voiceStates: readonly VoiceMember[],
  voiceFlags?: readonly VoiceFlagsEntry[],
): PublicEvent[] {
  const target = new Map(voiceStates.map((v) => [v.userId, v.channelId]));
  const out: PublicEvent[] = [];
  for (const { userId } of presence.voiceMembers()) {
    if (!target.has(userId)) out.push(...applyLeave(presence, guildId, userId));
  }
  for (const [userId, channelId] of target) out.push(...applyJoin(presence, guildId, userId, channelId));
  if (voiceFlags) {
    const flags = new Map(voiceFlags.map((f) => [f.userId, flagsIn(f)]));
    for (const [userId, channelId] of target) out.push(...setFlags(presence, guildId, userId, channelId, flags.get(userId) ?? NO_FLAGS));
  }
  return out;
}

const NO_FLAGS: VoiceFlags = { selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false };

function setFlags(presence: VoicePresence, guildId: string, userId: string, channelId: string, next: VoiceFlags): PublicEvent[] {
  if (packVoiceFlags(presence.flagsOf(userId)) === packVoiceFlags(next)) return [];
  presence.setFlags(userId, next);
  return [{ event: "voice.flags", payload: { guildId, channelId, userId, ...next } }];
}

/** Just the four flags of a report (no extra fields reach storage or the published payload). */
function flagsIn(f: VoiceFlags): VoiceFlags {
  return { selfMute: f.selfMute, selfDeaf: f.selfDeaf, serverMute: f.serverMute, serverDeaf: f.serverDeaf };
}
