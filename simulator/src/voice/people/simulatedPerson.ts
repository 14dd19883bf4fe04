/**
 * A simulated user in a voice channel: a real @discordjs/voice connection (so every test has a
 * second, independent endpoint running the library's encrypt and decrypt paths) whose adapter
 * talks to the simulator in process instead of through a gateway. It can speak a tone and
 * reports what it hears per speaker.
 */
import {
  AudioPlayerStatus,
  createAudioPlayer,
  createAudioResource,
  joinVoiceChannel,
  StreamType,
  VoiceConnectionStatus,
  type DiscordGatewayAdapterCreator,
  type DiscordGatewayAdapterLibraryMethods,
  type VoiceConnection,
} from "@discordjs/voice";
import type { GatewayVoiceStateUpdateDispatchData, GatewayVoiceServerUpdateDispatchData } from "discord-api-types/v10";
import type { World } from "../../world.ts";
import type { VoiceServer, VoiceServerUpdate } from "../voiceServer.ts";
import { ToneSource } from "./toneSource.ts";
import { WavSource } from "./wavSource.ts";
import { VoiceListener, type Heard } from "./voiceListener.ts";

export interface PersonStatus {
  userId: string;
  guildId: string;
  channelId: string;
  /** The @discordjs/voice connection status (signalling, connecting, ready, disconnected, destroyed). */
  status: VoiceConnectionStatus;
  speakingHz: number | null;
  selfDeaf: boolean;
  /** The DAVE privacy code (equal for everyone in an E2EE call), or null before DAVE is up. */
  voicePrivacyCode: string | null;
  heard: Heard;
}

export class SimulatedPerson {
  readonly connection: VoiceConnection;
  private readonly listener: VoiceListener;
  private readonly player = createAudioPlayer();
  private tone: ToneSource | WavSource | null = null;
  private methods: DiscordGatewayAdapterLibraryMethods | null = null;
  /** A grant re-issued by the server (endpoint move, or a move by someone else): state first, then server, as a gateway sends them. */
  private readonly onServerUpdate = (userId: string, update: VoiceServerUpdate): void => {
    if (userId !== this.userId || update.guild_id !== this.guildId || !this.methods) return;
    const state = this.world.voiceState(this.guildId, this.userId);
    if (!state?.channel_id) return;
    this.channelIdValue = state.channel_id;
    this.methods.onVoiceStateUpdate(state as GatewayVoiceStateUpdateDispatchData);
    this.methods.onVoiceServerUpdate(update as GatewayVoiceServerUpdateDispatchData);
  };

  constructor(
    private readonly world: World,
    private readonly voice: VoiceServer,
    readonly guildId: string,
    readonly userId: string,
    private channelIdValue: string,
    private readonly selfDeaf: boolean,
  ) {
    voice.serverUpdateListeners.add(this.onServerUpdate);
    this.connection = joinVoiceChannel({
      guildId,
      channelId: channelIdValue,
      selfDeaf,
      selfMute: false,
      group: `sim-person-${userId}`, // one connection per (group, guild): each person is its own group
      adapterCreator: this.adapterCreator,
      debug: true,
    });
    this.listener = new VoiceListener(this.connection);
    this.connection.subscribe(this.player);
    this.player.on("error", () => {}); // a stopped tone is not an error worth crashing for
  }

  get channelId(): string {
    return this.channelIdValue;
  }

  /** Resolves when the connection is Ready (transport up; DAVE may still be transitioning). */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.connection.state.status === VoiceConnectionStatus.Ready) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.userId} did not reach Ready in ${timeoutMs} ms`)), timeoutMs);
      this.connection.on(VoiceConnectionStatus.Ready, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Starts (or changes) a tone. */
  speak(frequencyHz: number, durationMs?: number, amplitude?: number): void {
    this.silence();
    this.tone = new ToneSource({ frequencyHz, durationMs, amplitude });
    this.player.play(createAudioResource(this.tone, { inputType: StreamType.Opus }));
  }

  /** Plays a short 16-bit PCM WAV clip once (RangeError if it is not one). */
  speakWav(wav: Buffer): void {
    const source = new WavSource(wav); // validates before the current sound stops
    this.silence();
    this.tone = source;
    this.player.play(createAudioResource(source, { inputType: StreamType.Opus }));
  }

  silence(): void {
    if (this.tone instanceof ToneSource) this.tone.stop();
    else this.tone?.destroy();
    this.tone = null;
    if (this.player.state.status !== AudioPlayerStatus.Idle) this.player.stop();
  }

  heard(): Heard {
    return this.listener.heard();
  }

  resetHeard(): void {
    this.listener.reset();
  }

  status(): PersonStatus {
    return {
      userId: this.userId,
      guildId: this.guildId,
      channelId: this.channelIdValue,
      status: this.connection.state.status,
      speakingHz: this.tone instanceof ToneSource ? this.tone.options.frequencyHz : null,
      selfDeaf: this.selfDeaf,
      voicePrivacyCode: this.connection.voicePrivacyCode ?? null,
      heard: this.heard(),
    };
  }

  /** Leaves the channel (op 4 with channel null through the adapter) and frees the connection. */
  leave(): void {
    this.silence();
    this.player.stop(true);
    this.listener.close();
    if (this.connection.state.status !== VoiceConnectionStatus.Destroyed) this.connection.destroy();
    this.voice.serverUpdateListeners.delete(this.onServerUpdate);
  }

  /** The adapter: op 4 goes straight to the world and the voice server, answered like the gateway would. */
  private readonly adapterCreator: DiscordGatewayAdapterCreator = (methods) => {
    this.methods = methods;
    return {
      sendPayload: (payload) => {
        const d = (payload as { d: { channel_id: string | null; self_deaf: boolean; self_mute: boolean } }).d;
        setImmediate(() => this.onUpdateVoiceState(d));
        return true;
      },
      destroy: () => {
        this.methods = null;
      },
    };
  };

  private onUpdateVoiceState(d: { channel_id: string | null; self_deaf: boolean; self_mute: boolean }): void {
    const methods = this.methods;
    if (d.channel_id === null) {
      this.world.leaveVoice(this.guildId, this.userId);
      return;
    }
    try {
      const channelId = d.channel_id;
      this.voice.answeringOp4(this.guildId, this.userId, () =>
        this.world.joinVoice(this.guildId, this.userId, channelId, { selfDeaf: d.self_deaf, selfMute: d.self_mute }),
      );
    } catch {
      return; // channel gone or full: Discord would not answer either
    }
    this.channelIdValue = d.channel_id;
    const state = this.world.voiceState(this.guildId, this.userId);
    if (!state || !methods) return;
    methods.onVoiceStateUpdate(state as GatewayVoiceStateUpdateDispatchData);
    const update = this.voice.authorize({ guildId: this.guildId, channelId: d.channel_id, userId: this.userId, sessionId: state.session_id });
    methods.onVoiceServerUpdate(update as GatewayVoiceServerUpdateDispatchData);
  }
}
