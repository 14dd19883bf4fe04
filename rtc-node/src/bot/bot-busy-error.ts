import { BotErrorCode } from "@spell-coven/common";
import { RtcError } from "../errors.ts";

/**
 * The bot is at another table of this guild (one voice channel per guild per bot token). Names
 * the table that has it so the player can ask there or wait.
 */
export class BotBusyError extends RtcError {
  constructor(
    readonly guildId: string,
    readonly busyChannelIds: string[],
  ) {
    super(
      BotErrorCode.Busy,
      `the table bot is at another table (voice channel ${busyChannelIds.join(", ")}); it can be in one voice channel per server at a time`,
    );
  }
}
