/**
 * What a DiscordRtcClient needs from the main Gateway: a way to send op 4 for a guild and the
 * bot's own VOICE_STATE_UPDATE / VOICE_SERVER_UPDATE back. In production that is the voice link
 * to gateway-node (`VoiceLinkClient`); tests and other hosts may supply their own.
 */
import type { DiscordGatewayAdapterCreator } from "@discordjs/voice";
import type { GatewayVoiceServerUpdateDispatchData, GatewayVoiceStateUpdateDispatchData } from "discord-api-types/v10";
import type { LinkVoiceStateCommand } from "@spell-coven/common";

export interface GuildVoiceHandlers {
  voiceState(d: GatewayVoiceStateUpdateDispatchData): void;
  voiceServer(d: GatewayVoiceServerUpdateDispatchData): void;
  /** The Gateway session was re-established (READY / RESUMED) or the link came back. */
  sessionRenewed(): void;
}

export interface VoiceSignalling {
  /** The bot's user id once known. */
  readonly botUserId: string | null;
  /** True while op 4 can be sent. */
  readonly available: boolean;
  /** Sends op 4; false when it cannot be sent now. */
  sendVoiceState(cmd: LinkVoiceStateCommand): boolean;
  /** The bot's voice dispatches for one guild; returns the unsubscribe function. */
  onGuild(guildId: string, handlers: GuildVoiceHandlers): () => void;
}

/** Hooks a DiscordRtcClient puts between @discordjs/voice and the signalling. */
export interface AdapterHooks {
  /** May refuse an op 4 (rejoin cap, DAVE required): @discordjs/voice then disconnects. */
  allowSend(channelId: string | null): boolean;
  voiceState(d: GatewayVoiceStateUpdateDispatchData): void;
  sessionRenewed(): void;
}

/** @discordjs/voice's adapter over a VoiceSignalling. */
export function signallingAdapter(signalling: VoiceSignalling, guildId: string, hooks: AdapterHooks): DiscordGatewayAdapterCreator {
  return (methods) => {
    const off = signalling.onGuild(guildId, {
      voiceState: (d) => {
        methods.onVoiceStateUpdate(d);
        hooks.voiceState(d);
      },
      voiceServer: (d) => methods.onVoiceServerUpdate(d),
      sessionRenewed: () => hooks.sessionRenewed(),
    });
    return {
      sendPayload: (payload) => {
        const d = (payload as { d?: { channel_id?: string | null; self_mute?: boolean; self_deaf?: boolean } }).d ?? {};
        const channelId = d.channel_id ?? null;
        if (!hooks.allowSend(channelId)) return false;
        return signalling.sendVoiceState({ type: "voice_state", guildId, channelId, selfMute: d.self_mute ?? false, selfDeaf: d.self_deaf ?? false });
      },
      destroy: off,
    };
  };
}
