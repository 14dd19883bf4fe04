/**
 * @spell-coven/rtc-node: the voice sidecar. `DiscordRtcClient` (one guild's voice connection on
 * @discordjs/voice with DAVE) is usable on its own with any VoiceSignalling; `VoiceLinkClient` is
 * the signalling over gateway-node's voice link.
 */
export { DiscordRtcClient, type AudioPacket, type DaveInfo, type DiscordRtcClientEvents, type DiscordRtcClientOptions, type LeaveReason } from "./discord-rtc-client.ts";
export { AudioFormatError, NotConnectedError, RtcError, VideoNotSupportedError, VoiceConnectError } from "./errors.ts";
export { OpusCodec, pcmLevel, CHANNELS, FRAME_SAMPLES, PCM_FRAME_BYTES, SAMPLE_RATE } from "./opus-codec.ts";
export { CUES, cuePackets, cuePcm, type CueSpec } from "./cues.ts";
export { signallingAdapter, type AdapterHooks, type GuildVoiceHandlers, type VoiceSignalling } from "./voice-signalling.ts";
export { VoiceLinkClient, type LinkState, type VoiceLinkClientOptions } from "./link/voice-link-client.ts";
