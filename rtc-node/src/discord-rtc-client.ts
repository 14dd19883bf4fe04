/**
 * DiscordRtcClient: the bot in one voice channel of one guild, on unmodified @discordjs/voice
 * 0.19 with DAVE (@snazzah/davey), signalled through a VoiceSignalling (the link to
 * gateway-node: no second Gateway session). Handles the library's known traps:
 * - the unbounded rejoin loop: close 4017 (DAVE required) stops at once, other codes after
 *   `maxRejoins` rejoins (the op 4 is refused, so the library disconnects instead of looping);
 * - 4014 (removed from the channel, or the channel deleted) ends the connection unless a move
 *   follows within `moveGraceMs`;
 * - `selfDeaf` defaults to false here (a deafened bot receives nothing);
 * - the transition-id-0 bug (0.19.2 throws on repeated DAVE decrypt failures instead of
 *   recovering, and the receive stream dies): the client asks for recovery itself and subscribes
 *   again.
 * Audio is received only for what the caller does with `onAudio`; nothing is stored here.
 */
import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import {
  AudioPlayerStatus,
  createAudioPlayer,
  createAudioResource,
  EndBehaviorType,
  joinVoiceChannel,
  StreamType,
  VoiceConnectionDisconnectReason,
  VoiceConnectionStatus,
  type AudioPlayer,
  type VoiceConnection,
  type VoiceConnectionState,
} from "@discordjs/voice";
import { VoiceCloseCodes } from "discord-api-types/voice";
import type { Logger } from "@spell-coven/common";
import { AudioFormatError, NotConnectedError, VideoNotSupportedError, VoiceConnectError } from "./errors.ts";
import { OpusCodec, PCM_FRAME_BYTES } from "./opus-codec.ts";
import { signallingAdapter, type VoiceSignalling } from "./voice-signalling.ts";

export interface DiscordRtcClientOptions {
  guildId: string;
  signalling: VoiceSignalling;
  log: Logger;
  /** @discordjs/voice connection group: distinct per client in one process (a token pool). Default "rtc". */
  group?: string;
  /**
   * Library rejoins allowed within `rejoinWindowMs` (successful or not) before giving up: a
   * server that closes every fresh connection cannot make the client loop. Default 3.
   */
  maxRejoins?: number;
  /** Default 60 s. */
  rejoinWindowMs?: number;
  /** connect() gives up after this long. Default 15 s. */
  connectTimeoutMs?: number;
  /** After a 4014 close, how long to wait for a move before treating it as a removal. Default 3 s. */
  moveGraceMs?: number;
  /** Default false: a deafened bot receives no audio. */
  selfDeaf?: boolean;
  selfMute?: boolean;
}

/** Why the client left its channel by itself. */
export type LeaveReason = "requested" | "removed" | "channel_left" | "rejoin_limit" | "dave_required" | "destroyed";

export interface AudioPacket {
  userId: string;
  /** One Opus packet (20 ms), DAVE- and transport-decrypted. */
  opus: Buffer;
  /** s16le 48 kHz stereo PCM, when `decode: true` was asked for (and this packet was decoded, see `decodeEvery`). */
  pcm?: Buffer;
}

export interface DiscordRtcClientEvents {
  state: [status: VoiceConnectionStatus, previous: VoiceConnectionStatus];
  speaking: [userId: string, speaking: boolean];
  moved: [channelId: string];
  left: [reason: LeaveReason, err?: VoiceConnectError];
  /** DAVE transition done: E2EE audio flows from here. */
  transitioned: [transitionId: number];
}

export interface DaveInfo {
  protocolVersion: number | null;
  privacyCode: string | null;
  /** Times the client worked around the transition-0 decrypt bug. */
  recoveries: number;
}

type AudioCallback = (packet: AudioPacket) => void;

export class DiscordRtcClient extends EventEmitter<DiscordRtcClientEvents> {
  private connection: VoiceConnection | null = null;
  private player: AudioPlayer | null = null;
  private channelId: string | null = null;
  /** Close code of the current networking, set just before the library reacts to it. */
  private pendingCloseCode: number | null = null;
  private refusal: VoiceConnectError | null = null;
  private moveTimer: NodeJS.Timeout | null = null;
  private readonly audioCallbacks = new Set<{ cb: AudioCallback; decode: boolean; every: number }>();
  private readonly packetCount = new Map<string, number>();
  private readonly decoders = new Map<string, OpusCodec>();
  private recoveries = 0;
  /** When the library's recent rejoins happened (ms). */
  private rejoinTimes: number[] = [];

  constructor(private readonly opts: DiscordRtcClientOptions) {
    super();
  }

  get guildId(): string {
    return this.opts.guildId;
  }
  /** The voice channel the bot is in or joining, or null. */
  get currentChannelId(): string | null {
    return this.channelId;
  }
  get status(): VoiceConnectionStatus | "idle" {
    return this.connection?.state.status ?? "idle";
  }
  /** Library rejoins since the last Ready. */
  get rejoinAttempts(): number {
    return this.connection?.rejoinAttempts ?? 0;
  }

  /**
   * Who else is connected to the channel's voice server (op 11 / op 13), or null while not
   * connected. Used to leave an empty table.
   */
  peers(): string[] | null {
    const st = this.connection?.state as { networking?: { state?: { connectionData?: { connectedClients?: Set<string> } } } } | undefined;
    const set = st?.networking?.state?.connectionData?.connectedClients;
    return set ? [...set] : null;
  }

  dave(): DaveInfo {
    const st = this.connection?.state as { networking?: { state?: { dave?: { protocolVersion?: number } } } } | undefined;
    const dave = st?.networking?.state?.dave;
    return { protocolVersion: dave?.protocolVersion ?? null, privacyCode: this.connection?.voicePrivacyCode ?? null, recoveries: this.recoveries };
  }

  /**
   * Joins `channelId` (or moves there) and resolves when the connection is Ready. Rejects with
   * VoiceConnectError (`reason`: timeout, rejoin_limit, dave_required, disconnected, link_unavailable).
   */
  async connect(channelId: string): Promise<void> {
    if (this.connection && this.connection.state.status !== VoiceConnectionStatus.Destroyed) {
      if (channelId === this.channelId && this.connection.state.status === VoiceConnectionStatus.Ready) return;
      // A move: Discord answers with our new voice state and a new voice server; Ready again after.
      const conn = this.connection;
      const arrived = new Promise<void>((resolve) => {
        const onMoved = (ch: string) => {
          if (ch !== channelId) return;
          this.off("moved", onMoved);
          const onState = (st: VoiceConnectionStatus) => {
            if (st !== VoiceConnectionStatus.Ready) return;
            this.off("state", onState);
            resolve();
          };
          this.on("state", onState);
        };
        this.on("moved", onMoved);
      });
      conn.rejoin({ channelId, selfDeaf: this.opts.selfDeaf ?? false, selfMute: this.opts.selfMute ?? false });
      const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        arrived,
        new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(new VoiceConnectError("timeout", `not moved to ${channelId} within ${timeoutMs} ms`)), timeoutMs)),
        ),
      ]).finally(() => clearTimeout(timer));
      return;
    } else {
      if (!this.opts.signalling.available)
        throw new VoiceConnectError("link_unavailable", "the voice link to gateway-node is down; rtc-node reconnects by itself, try again shortly");
      this.channelId = channelId;
      this.refusal = null;
      this.pendingCloseCode = null;
      this.rejoinTimes = [];
      this.open(channelId);
    }
    await this.whenReady();
  }

  /** Leaves the channel (op 4 with no channel) and frees the connection. */
  disconnect(): void {
    this.teardown("requested");
  }

  /** Resolves when a DAVE transition has completed (or at once on DAVE v0 / already private). */
  async whenE2ee(timeoutMs = 10_000): Promise<string | null> {
    const conn = this.connection;
    if (!conn) throw new NotConnectedError("whenE2ee");
    if (this.dave().protocolVersion === 0) return null;
    if (conn.voicePrivacyCode) return conn.voicePrivacyCode;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.off("transitioned", done);
        reject(new VoiceConnectError("timeout", `no DAVE transition within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.once("transitioned", done);
    });
    return conn.voicePrivacyCode ?? null;
  }

  /**
   * Plays audio into the channel and resolves when it has been played. `opus`: an iterable of
   * Opus packets (48 kHz stereo, 20 ms each); `pcm`: s16le 48 kHz stereo, encoded here with
   * opusscript. No FFmpeg. A new call replaces what is playing.
   */
  async sendAudio(source: Iterable<Buffer> | AsyncIterable<Buffer>, opts: { format: "opus" | "pcm" } = { format: "opus" }): Promise<void> {
    if (!this.connection || !this.player) throw new NotConnectedError("sendAudio");
    if (opts.format !== "opus" && opts.format !== "pcm") throw new AudioFormatError(`format must be "opus" or "pcm", not ${String(opts.format)}`);
    const stream = Readable.from(opts.format === "opus" ? source : encodePcm(source), { objectMode: true });
    const player = this.player;
    const resource = createAudioResource(stream, { inputType: StreamType.Opus });
    player.play(resource);
    await new Promise<void>((resolve, reject) => {
      const onState = (_old: unknown, next: { status: AudioPlayerStatus }) => {
        if (next.status === AudioPlayerStatus.Idle) {
          player.off("stateChange", onState);
          player.off("error", onError);
          resolve();
        }
      };
      const onError = (err: Error) => {
        player.off("stateChange", onState);
        reject(new AudioFormatError(`playback failed: ${err.message}`));
      };
      player.on("stateChange", onState);
      player.once("error", onError);
    });
  }

  /**
   * Audio of every speaking user, one callback per Opus packet (with PCM when `decode`).
   * Returns the function that stops it.
   */
  onAudio(cb: AudioCallback, opts: { decode?: boolean; decodeEvery?: number } = {}): () => void {
    // decodeEvery N: PCM for one packet in N (levels need no more; Opus conceals the gaps).
    const entry = { cb, decode: opts.decode ?? false, every: Math.max(1, Math.floor(opts.decodeEvery ?? 1)) };
    this.audioCallbacks.add(entry);
    return () => void this.audioCallbacks.delete(entry);
  }

  /** Discord does not allow bots to send camera video: always throws VideoNotSupportedError. */
  sendVideo(_stream?: unknown): never {
    throw new VideoNotSupportedError("sendVideo");
  }

  /** Discord does not let bots receive camera video: always throws VideoNotSupportedError. */
  onVideo(_cb?: unknown): never {
    throw new VideoNotSupportedError("onVideo");
  }

  private open(channelId: string): void {
    const connection = joinVoiceChannel({
      guildId: this.opts.guildId,
      channelId,
      group: this.opts.group ?? "rtc",
      selfDeaf: this.opts.selfDeaf ?? false,
      selfMute: this.opts.selfMute ?? false,
      daveEncryption: true,
      debug: true,
      adapterCreator: signallingAdapter(this.opts.signalling, this.opts.guildId, {
        allowSend: (ch) => this.allowSend(ch),
        voiceState: (d) => this.onOwnVoiceState(d.channel_id ?? null, d.user_id),
        sessionRenewed: () => this.onSessionRenewed(),
      }),
    });
    this.connection = connection;
    const player = createAudioPlayer();
    connection.subscribe(player);
    this.player = player;
    connection.on("stateChange", (old, next) => this.onStateChange(connection, old, next));
    connection.on("transitioned", (id: number) => this.emit("transitioned", id));
    connection.on("error", (err) => this.opts.log.warn("voice connection error", { err: err.message }));
    connection.receiver.speaking.on("start", (userId) => {
      this.emit("speaking", userId, true);
      this.subscribe(connection, userId);
    });
    connection.receiver.speaking.on("end", (userId) => this.emit("speaking", userId, false));
  }

  /** Called for every op 4 @discordjs/voice wants to send: where the rejoin loop is cut. */
  private allowSend(channelId: string | null): boolean {
    if (channelId === null) return true;
    const code = this.pendingCloseCode;
    this.pendingCloseCode = null;
    if (code === null) return true; // our own join/move, or the library's first join
    if (code === VoiceCloseCodes.EndToEndEncryptionDAVEProtocolRequired) {
      this.refusal = new VoiceConnectError(
        "dave_required",
        "the voice server requires DAVE end-to-end encryption (close 4017) and this client did not negotiate it: not rejoining",
        code,
      );
      return false;
    }
    const max = this.opts.maxRejoins ?? 3;
    const now = Date.now();
    this.rejoinTimes = this.rejoinTimes.filter((t) => now - t < (this.opts.rejoinWindowMs ?? 60_000));
    this.rejoinTimes.push(now);
    if (this.rejoinTimes.length > max || (this.connection?.rejoinAttempts ?? 0) > max) {
      this.refusal = new VoiceConnectError(
        "rejoin_limit",
        `the voice connection closed ${this.rejoinTimes.length} times within ${Math.round((this.opts.rejoinWindowMs ?? 60_000) / 1000)} s (last close code ${code}): not rejoining`,
        code,
      );
      return false;
    }
    this.opts.log.info("voice connection closed; rejoining", { closeCode: code, attempt: this.connection?.rejoinAttempts });
    return true;
  }

  private onStateChange(connection: VoiceConnection, old: VoiceConnectionState, next: VoiceConnectionState): void {
    if (this.connection !== connection) return;
    const oldNet = (old as { networking?: EventEmitter }).networking;
    const newNet = (next as { networking?: EventEmitter }).networking;
    if (newNet && newNet !== oldNet) {
      // Prepended, so it runs before the library's own handler decides to rejoin.
      newNet.prependOnceListener("close", (code: number) => {
        if ((connection.state as { networking?: unknown }).networking === newNet) this.pendingCloseCode = code;
      });
    }
    if (old.status !== next.status) {
      this.opts.log.debug("voice connection state", { from: old.status, to: next.status, guildId: this.opts.guildId });
      this.emit("state", next.status, old.status);
    }
    if (next.status === VoiceConnectionStatus.Ready) {
      this.pendingCloseCode = null;
      this.clearMoveTimer();
    } else if (next.status === VoiceConnectionStatus.Signalling || next.status === VoiceConnectionStatus.Connecting) {
      this.clearMoveTimer();
    } else if (next.status === VoiceConnectionStatus.Disconnected) {
      if (this.refusal) return this.teardown(this.refusal.reason === "dave_required" ? "dave_required" : "rejoin_limit", this.refusal);
      if (next.reason === VoiceConnectionDisconnectReason.WebSocketClose && next.closeCode === VoiceCloseCodes.Disconnected) {
        // 4014: kicked, channel deleted, or moved (a new VOICE_SERVER_UPDATE follows a move).
        this.clearMoveTimer();
        this.moveTimer = setTimeout(() => this.teardown("removed"), this.opts.moveGraceMs ?? 3000);
      }
      // AdapterUnavailable: the link is down; onSessionRenewed rejoins when it is back.
    } else if (next.status === VoiceConnectionStatus.Destroyed && this.connection === connection) {
      this.teardown("destroyed");
    }
  }

  private onOwnVoiceState(channelId: string | null, userId: string): void {
    const bot = this.opts.signalling.botUserId;
    if (bot && userId !== bot) return;
    if (!this.connection) return;
    if (channelId === null) {
      if (this.channelId !== null) this.teardown("channel_left");
      return;
    }
    if (channelId !== this.channelId) {
      this.channelId = channelId;
      this.opts.log.info("the bot was moved", { guildId: this.opts.guildId, channelId });
      this.emit("moved", channelId);
    }
  }

  /** Link back or Gateway session renewed: a connection that is waiting asks again. */
  private onSessionRenewed(): void {
    const conn = this.connection;
    if (!conn || !this.channelId) return;
    const st = conn.state;
    if (
      st.status === VoiceConnectionStatus.Signalling ||
      (st.status === VoiceConnectionStatus.Disconnected && st.reason === VoiceConnectionDisconnectReason.AdapterUnavailable)
    ) {
      this.opts.log.info("voice link renewed; asking for the voice server again", { guildId: this.opts.guildId });
      conn.rejoin();
    }
  }

  private subscribe(connection: VoiceConnection, userId: string): void {
    if (connection.receiver.subscriptions.has(userId)) return;
    const stream = connection.receiver.subscribe(userId, { end: { behavior: EndBehaviorType.AfterSilence, duration: 500 } });
    stream.on("data", (opus: Buffer) => this.deliver(userId, opus));
    stream.on("error", (err: Error) => {
      // 0.19.2 with a transition id of 0 throws on repeated decrypt failures instead of
      // recovering: ask for recovery (op 31, re-add) ourselves; the next packet resubscribes.
      if (/decrypt/i.test(err.message)) {
        const dave = (connection.state as { networking?: { state?: { dave?: { lastTransitionId?: number; recoverFromInvalidTransition(id: number): void } } } })
          .networking?.state?.dave;
        if (dave) {
          this.recoveries++;
          this.opts.log.warn("DAVE decrypt failures destroyed a receive stream; recovering", { userId, transitionId: dave.lastTransitionId ?? 0 });
          dave.recoverFromInvalidTransition(dave.lastTransitionId ?? 0);
        }
      } else this.opts.log.warn("receive stream error", { userId, err: err.message });
    });
    stream.on("close", () => {
      const d = this.decoders.get(userId);
      d?.close();
      this.decoders.delete(userId);
      // A stream destroyed while the user still speaks (the decrypt bug above) gets no new
      // "start" from the library: subscribe again, once the closed stream has been removed.
      if (this.connection === connection && connection.receiver.speaking.users.has(userId))
        setImmediate(() => this.connection === connection && this.subscribe(connection, userId));
    });
  }

  private deliver(userId: string, opus: Buffer): void {
    if (this.audioCallbacks.size === 0) return;
    let pcm: Buffer | undefined;
    const n = (this.packetCount.get(userId) ?? 0) + 1;
    this.packetCount.set(userId, n);
    for (const { cb, decode: wants, every } of this.audioCallbacks) {
      const decode = wants && n % every === 0;
      if (decode && pcm === undefined) {
        let dec = this.decoders.get(userId);
        if (!dec) this.decoders.set(userId, (dec = new OpusCodec()));
        try {
          pcm = dec.decode(opus);
        } catch {
          pcm = Buffer.alloc(0);
        }
      }
      cb(decode && pcm ? { userId, opus, pcm } : { userId, opus });
    }
  }

  private whenReady(): Promise<void> {
    const conn = this.connection!;
    if (conn.state.status === VoiceConnectionStatus.Ready) return Promise.resolve();
    const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      const finish = (err?: VoiceConnectError) => {
        clearTimeout(timer);
        this.off("state", onState);
        this.off("left", onLeft);
        if (err) reject(err);
        else resolve();
      };
      const onState = (s: VoiceConnectionStatus) => {
        if (s === VoiceConnectionStatus.Ready) finish();
      };
      const onLeft = (reason: LeaveReason, err?: VoiceConnectError) =>
        finish(err ?? new VoiceConnectError("disconnected", `left the voice channel while connecting (${reason})`));
      const timer = setTimeout(() => {
        finish(new VoiceConnectError("timeout", `not connected within ${timeoutMs} ms (status ${conn.state.status})`));
        if (this.connection === conn && conn.state.status !== VoiceConnectionStatus.Ready) this.teardown("destroyed");
      }, timeoutMs);
      this.on("state", onState);
      this.once("left", onLeft);
    });
  }

  private teardown(reason: LeaveReason, err?: VoiceConnectError): void {
    const conn = this.connection;
    if (!conn) return;
    this.connection = null;
    this.clearMoveTimer();
    this.player?.stop(true);
    this.player = null;
    const wasIn = this.channelId;
    this.channelId = null;
    for (const d of this.decoders.values()) d.close();
    this.decoders.clear();
    if (conn.state.status !== VoiceConnectionStatus.Destroyed) {
      try {
        conn.destroy(); // sends op 4 with channel_id null (allowed always)
      } catch {
        /* already destroyed */
      }
    }
    this.opts.log.info("left the voice channel", { guildId: this.opts.guildId, channelId: wasIn, reason, code: err?.code });
    this.emit("left", reason, err);
  }

  private clearMoveTimer(): void {
    if (this.moveTimer) clearTimeout(this.moveTimer);
    this.moveTimer = null;
  }
}

/** s16le 48 kHz stereo PCM in any chunking -> 20 ms Opus packets (the last frame padded with silence). */
async function* encodePcm(source: Iterable<Buffer> | AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const codec = new OpusCodec();
  try {
    let pending = Buffer.alloc(0);
    for await (const chunk of source) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= PCM_FRAME_BYTES) {
        yield codec.encode(pending.subarray(0, PCM_FRAME_BYTES));
        pending = pending.subarray(PCM_FRAME_BYTES);
      }
    }
    if (pending.length) {
      const last = Buffer.alloc(PCM_FRAME_BYTES);
      pending.copy(last);
      yield codec.encode(last);
    }
  } finally {
    codec.close();
  }
}
