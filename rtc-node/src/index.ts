/**
 * @spell-coven/rtc-node: the voice sidecar. `DiscordRtcClient` (one guild's voice connection on
 * @discordjs/voice with DAVE) is usable on its own with any VoiceSignalling; `VoiceLinkClient` is
 * the signalling over gateway-node's voice link.
 */
export {
  DiscordRtcClient,
  type AudioPacket,
  type DaveInfo,
  type DiscordRtcClientEvents,
  type DiscordRtcClientOptions,
  type LeaveReason,
} from "./discord-rtc-client.ts";
export { AudioFormatError, NotConnectedError, RtcError, VideoNotSupportedError, VoiceConnectError } from "./errors.ts";
export { OpusCodec, pcmLevel, CHANNELS, FRAME_SAMPLES, PCM_FRAME_BYTES, SAMPLE_RATE } from "./opus-codec.ts";
export { CUES, cuePackets, cuePcm, type CueSpec } from "./cues.ts";
export { signallingAdapter, type AdapterHooks, type GuildVoiceHandlers, type VoiceSignalling } from "./voice-signalling.ts";
export { VoiceLinkClient, type LinkState, type VoiceLinkClientOptions } from "./link/voice-link-client.ts";
export { BotPool, type BotAtTable, type BotPoolOptions, type BotSeat } from "./bot/bot-pool.ts";
export { BotBusyError } from "./bot/bot-busy-error.ts";
export { TableBot, type TableBotOptions } from "./bot/table-bot.ts";
export { SpeakingReporter, type SpeakingReporterOptions } from "./bot/speaking-reporter.ts";
export { ControlServer, type ControlServerOptions } from "./bot/control-server.ts";
export { loadConfig, type RtcNodeConfig } from "./config.ts";
export { RtcMetrics } from "./metrics.ts";
export { startRtcNode, type RtcHealth, type RtcNodeDeps, type RtcNodeHandle } from "./service.ts";
