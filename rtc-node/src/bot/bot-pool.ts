/**
 * The table bots this process can field. A bot token can be in one voice channel per guild, so
 * each token is a seat; today there is one (the token gateway-node holds), and a pool of tokens
 * (each with its own link) would add seats here. `join` picks a free seat in that guild or
 * answers BOT_BUSY naming the tables that have them.
 */
import type { BotCueName, Logger } from "@spell-coven/common";
import { NotConnectedError, RtcError } from "../errors.ts";
import type { VoiceSignalling } from "../voice-signalling.ts";
import { BotBusyError } from "./bot-busy-error.ts";
import type { SpeakingReporter } from "./speaking-reporter.ts";
import { TableBot } from "./table-bot.ts";

export interface BotSeat {
  /** For logs and the connection group. */
  name: string;
  signalling: VoiceSignalling;
}

export interface BotPoolOptions {
  seats: BotSeat[];
  reporter: SpeakingReporter;
  log: Logger;
  /** How long a table may be empty (no one else in voice) before the bot leaves. Default 10 s. */
  emptyGraceMs?: number;
  onPacket?: () => void;
  /** A bot left a table (metrics). */
  onDeparture?: (reason: string) => void;
}

export interface BotAtTable {
  seat: string;
  guildId: string;
  channelId: string | null;
  status: string;
  dave: { protocolVersion: number | null; privacyCode: string | null; recoveries: number };
}

export class BotPool {
  /** seat name -> guild -> bot. */
  private readonly bots = new Map<string, Map<string, TableBot>>();
  /** Why bots left, for health and tests. */
  readonly departures: { guildId: string; channelId: string | null; reason: string }[] = [];

  constructor(private readonly opts: BotPoolOptions) {
    for (const s of opts.seats) this.bots.set(s.name, new Map());
  }

  /** Brings a bot to the table; idempotent for the table that already has it. */
  async join(guildId: string, channelId: string): Promise<BotAtTable> {
    const here = this.find(guildId, channelId);
    if (here) return this.describe(here.seat, here.bot);
    const free = this.opts.seats.find((s) => !this.bots.get(s.name)!.get(guildId));
    if (!free)
      throw new BotBusyError(
        guildId,
        this.list()
          .filter((b) => b.guildId === guildId && b.channelId)
          .map((b) => b.channelId!),
      );
    const byGuild = this.bots.get(free.name)!;
    const bot = new TableBot({
      guildId,
      signalling: free.signalling,
      reporter: this.opts.reporter,
      log: this.opts.log.child({ seat: free.name, guildId }),
      group: `bot-${free.name}`,
      emptyGraceMs: this.opts.emptyGraceMs ?? 10_000,
      ...(this.opts.onPacket ? { onPacket: this.opts.onPacket } : {}),
      onLeft: (b, reason) => {
        if (byGuild.get(guildId) === b) byGuild.delete(guildId);
        this.departures.push({ guildId, channelId, reason });
        this.opts.onDeparture?.(reason);
      },
    });
    byGuild.set(guildId, bot);
    try {
      await bot.join(channelId);
    } catch (err) {
      if (byGuild.get(guildId) === bot) byGuild.delete(guildId);
      bot.leave();
      throw err;
    }
    return this.describe(free.name, bot);
  }

  /** Sends the bot at this table away. Throws BOT_NOT_AT_TABLE when none is there. */
  leave(guildId: string, channelId: string): void {
    const found = this.find(guildId, channelId);
    if (!found) throw new RtcError("BOT_NOT_AT_TABLE", `no table bot is at voice channel ${channelId}`);
    found.bot.leave();
  }

  async cue(guildId: string, channelId: string, name: BotCueName): Promise<void> {
    const found = this.find(guildId, channelId);
    if (!found) throw new RtcError("BOT_NOT_AT_TABLE", `no table bot is at voice channel ${channelId}`);
    try {
      await found.bot.cue(name);
    } catch (err) {
      if (err instanceof NotConnectedError) throw new RtcError("BOT_NOT_AT_TABLE", err.message);
      throw err;
    }
  }

  list(): BotAtTable[] {
    const out: BotAtTable[] = [];
    for (const [seat, byGuild] of this.bots) for (const bot of byGuild.values()) out.push(this.describe(seat, bot));
    return out;
  }

  stopAll(): void {
    for (const byGuild of this.bots.values()) for (const bot of byGuild.values()) bot.leave();
  }

  private find(guildId: string, channelId: string): { seat: string; bot: TableBot } | null {
    for (const [seat, byGuild] of this.bots) {
      const bot = byGuild.get(guildId);
      if (bot && bot.channelId === channelId) return { seat, bot };
    }
    return null;
  }

  private describe(seat: string, bot: TableBot): BotAtTable {
    return { seat, guildId: bot.client.guildId, channelId: bot.channelId, status: bot.client.status, dave: bot.client.dave() };
  }
}
