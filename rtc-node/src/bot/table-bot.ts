/**
 * One bot token's presence at one table (a voice channel) of one guild: a DiscordRtcClient whose
 * received audio is used only to detect who speaks and how loud (reported as `voice.speaking`
 * signals), never stored or forwarded. It plays the named cues, and leaves by itself when no one
 * else is left in the channel for `emptyGraceMs`.
 */
import type { BotCueName, Logger } from "@spell-coven/common";
import { cuePackets } from "../cues.ts";
import { DiscordRtcClient, type LeaveReason } from "../discord-rtc-client.ts";
import { pcmLevel } from "../opus-codec.ts";
import type { VoiceSignalling } from "../voice-signalling.ts";
import type { SpeakingReporter } from "./speaking-reporter.ts";

export interface TableBotOptions {
  guildId: string;
  signalling: VoiceSignalling;
  reporter: SpeakingReporter;
  log: Logger;
  /** Connection group (distinct per bot token in one process). */
  group: string;
  emptyGraceMs: number;
  onLeft: (bot: TableBot, reason: LeaveReason | "empty") => void;
  /** Counts received Opus packets (metrics). */
  onPacket?: () => void;
}

export class TableBot {
  readonly client: DiscordRtcClient;
  private emptySince: number | null = null;
  private watch: NodeJS.Timeout | null = null;
  private leaving: "empty" | null = null;

  constructor(private readonly opts: TableBotOptions) {
    this.client = new DiscordRtcClient({ guildId: opts.guildId, signalling: opts.signalling, log: opts.log, group: opts.group, selfDeaf: false });
    this.client.on("speaking", (userId, speaking) => {
      const ch = this.client.currentChannelId;
      if (ch) opts.reporter.speaking(opts.guildId, ch, userId, speaking);
    });
    this.client.onAudio(
      (p) => {
        opts.onPacket?.();
        const ch = this.client.currentChannelId;
        if (ch && p.pcm?.length) opts.reporter.level(opts.guildId, ch, p.userId, pcmLevel(p.pcm));
      },
      // Levels at a few Hz: one packet in 3 decoded (every 60 ms) is plenty and costs a third.
      { decode: true, decodeEvery: 3 },
    );
    this.client.on("left", (reason) => {
      this.stopWatch();
      opts.onLeft(this, this.leaving ?? reason);
    });
  }

  get channelId(): string | null {
    return this.client.currentChannelId;
  }

  async join(channelId: string): Promise<void> {
    await this.client.connect(channelId);
    this.emptySince = null;
    if (!this.watch) this.watch = setInterval(() => this.checkEmpty(), Math.min(1000, Math.max(50, this.opts.emptyGraceMs / 4)));
  }

  leave(): void {
    this.client.disconnect();
  }

  /** Plays a named cue; resolves when it has played. */
  async cue(name: BotCueName): Promise<void> {
    await this.client.sendAudio(cuePackets(name));
  }

  private checkEmpty(): void {
    const peers = this.client.peers();
    if (peers === null) return; // not connected right now (reconnecting): no decision
    if (peers.length > 0) {
      this.emptySince = null;
      return;
    }
    const now = Date.now();
    this.emptySince ??= now;
    if (now - this.emptySince >= this.opts.emptyGraceMs) {
      this.opts.log.info("no one left at the table; the bot leaves", { guildId: this.opts.guildId, channelId: this.channelId });
      this.leaving = "empty";
      this.client.disconnect();
    }
  }

  private stopWatch(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
  }
}
