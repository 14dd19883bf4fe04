/**
 * The bot's side of the voice tests: an unmodified @discordjs/voice connection whose adapter
 * runs over an unmodified @discordjs/ws gateway connection to the simulator, as rtc-node will.
 */
import {
  createAudioPlayer,
  createAudioResource,
  joinVoiceChannel,
  StreamType,
  VoiceConnectionStatus,
  type DiscordGatewayAdapterCreator,
  type VoiceConnection,
} from "@discordjs/voice";
import { WebSocketShardEvents } from "@discordjs/ws";
import { GatewayDispatchEvents, GatewayIntentBits, type GatewayDispatchPayload } from "discord-api-types/v10";
import { BOT_USER_ID, DEMO_GUILD_ID, type LocalDiscord } from "../src/index.ts";
import { ToneSource } from "../src/voice/people/toneSource.ts";
import { VoiceListener, type Heard } from "../src/voice/people/voiceListener.ts";
import { djsGateway, waitFor, type DjsGateway } from "./helpers.ts";

export interface BotVoice {
  gw: DjsGateway;
  connection: VoiceConnection;
  listener: VoiceListener;
  speak(frequencyHz: number): void;
  close(): Promise<void>;
}

/** Connects the bot's gateway, then joins `channelId` with @discordjs/voice. */
export async function botVoice(sim: LocalDiscord, channelId: string, opts: { daveEncryption?: boolean; selfDeaf?: boolean } = {}): Promise<BotVoice> {
  const gw = djsGateway(sim, GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates);
  await gw.manager.connect();
  await waitFor(() => gw.dispatches.some((d) => d.t === GatewayDispatchEvents.GuildCreate), 5000, "GUILD_CREATE");
  const adapterCreator: DiscordGatewayAdapterCreator = (methods) => {
    const onDispatch = (payload: GatewayDispatchPayload): void => {
      if (payload.t === GatewayDispatchEvents.VoiceStateUpdate && payload.d.user_id === BOT_USER_ID && payload.d.guild_id === DEMO_GUILD_ID)
        methods.onVoiceStateUpdate(payload.d);
      else if (payload.t === GatewayDispatchEvents.VoiceServerUpdate && payload.d.guild_id === DEMO_GUILD_ID) methods.onVoiceServerUpdate(payload.d);
    };
    gw.manager.on(WebSocketShardEvents.Dispatch, onDispatch);
    return {
      sendPayload: (payload) => {
        void gw.manager.send(0, payload as never);
        return true;
      },
      destroy: () => void gw.manager.off(WebSocketShardEvents.Dispatch, onDispatch),
    };
  };
  const connection = joinVoiceChannel({
    guildId: DEMO_GUILD_ID,
    channelId,
    adapterCreator,
    group: "bot",
    selfDeaf: opts.selfDeaf ?? false,
    selfMute: false,
    debug: true,
    daveEncryption: opts.daveEncryption ?? true,
  });
  const listener = new VoiceListener(connection);
  const player = createAudioPlayer();
  connection.subscribe(player);
  return {
    gw,
    connection,
    listener,
    speak: (frequencyHz) => player.play(createAudioResource(new ToneSource({ frequencyHz }), { inputType: StreamType.Opus })),
    close: async () => {
      player.stop(true);
      listener.close();
      if (connection.state.status !== VoiceConnectionStatus.Destroyed) connection.destroy();
      await gw.manager.destroy();
    },
  };
}

export function whenReady(connection: VoiceConnection, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => connection.state.status === VoiceConnectionStatus.Ready, timeoutMs, "voice connection Ready").then(() => undefined);
}

/** Waits until every connection shows the same non-null DAVE privacy code and no transition is pending. */
export async function whenE2ee(sim: LocalDiscord, connections: VoiceConnection[], timeoutMs = 10_000): Promise<string> {
  return waitFor(
    () => {
      const codes = connections.map((c) => c.voicePrivacyCode);
      const rooms = sim.voice!.stats().rooms;
      const settled = rooms.every((r) => r.dave?.pendingTransition === null && r.dave.established);
      return settled && codes.every((c) => c && c === codes[0]) ? codes[0]! : null;
    },
    timeoutMs,
    "the same DAVE privacy code everywhere",
  );
}

/** Waits until `heard()` has at least `frames` audible frames from `speakerId` and returns its figures. */
export async function whenHeard(heard: () => Heard, speakerId: string, frames = 15, timeoutMs = 8000) {
  return waitFor(
    () => {
      const s = heard().speakers[speakerId];
      return s && s.audibleFrames >= frames ? s : null;
    },
    timeoutMs,
    `${frames} audible frames from ${speakerId}`,
  );
}

/** Frequency within 3 % (a pure tone through Opus at 48 kHz). */
export function closeTo(hz: number | null, expected: number): boolean {
  return hz !== null && Math.abs(hz - expected) <= expected * 0.03;
}
