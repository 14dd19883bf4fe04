/**
 * Commands the hub accepted, for a few minutes (SQLite, so hibernation keeps them): a retried
 * command id is answered without a second Discord call (unless the first one failed at Discord:
 * then it runs again, and Discord's nonce still keeps a send single), and a MESSAGE_CREATE carrying a site
 * send's nonce (its command id) is tied back to the player who wrote it and the trace id their
 * command started.
 */
import type { ChatCommandName } from "@spell-coven/common";
import { migrate } from "../../storage/migrations.ts";

/** Discord checks nonces "in the past few minutes"; we remember commands this long. */
export const COMMAND_MEMORY_MS = 10 * 60_000;

const MIGRATIONS = [
  `CREATE TABLE chat_commands (command_id TEXT PRIMARY KEY, command TEXT NOT NULL, user_id TEXT NOT NULL, channel_id TEXT NOT NULL, trace_id TEXT NOT NULL, at INTEGER NOT NULL, message_id TEXT)`,
  `CREATE INDEX chat_commands_at ON chat_commands (at)`,
  `CREATE INDEX chat_commands_message ON chat_commands (message_id)`,
  // What became of it: a command that failed at Discord may be run again with its id.
  `ALTER TABLE chat_commands ADD COLUMN outcome TEXT NOT NULL DEFAULT 'accepted'`,
];

/** accepted: the Discord call is running (or was collapsed); sent: Discord did it; failed: Discord did not. */
export type StoredOutcome = "accepted" | "sent" | "failed";

export interface StoredCommand {
  commandId: string;
  command: ChatCommandName;
  userId: string;
  channelId: string;
  traceId: string;
  at: number;
  messageId: string | null;
  outcome: StoredOutcome;
}

type Row = {
  command_id: string;
  command: string;
  user_id: string;
  channel_id: string;
  trace_id: string;
  at: number;
  message_id: string | null;
  outcome: string;
};

export class CommandStore {
  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "chat-commands", MIGRATIONS);
  }

  get(commandId: string, now: number): StoredCommand | null {
    const row = this.sql.exec<Row>("SELECT * FROM chat_commands WHERE command_id = ? AND at > ?", commandId, now - COMMAND_MEMORY_MS).toArray()[0];
    return row
      ? {
          commandId: row.command_id,
          command: row.command as ChatCommandName,
          userId: row.user_id,
          channelId: row.channel_id,
          traceId: row.trace_id,
          at: row.at,
          messageId: row.message_id,
          outcome: row.outcome as StoredOutcome,
        }
      : null;
  }

  add(c: Omit<StoredCommand, "messageId" | "outcome">): void {
    this.sql.exec("DELETE FROM chat_commands WHERE at <= ?", c.at - COMMAND_MEMORY_MS);
    this.sql.exec(
      "INSERT OR REPLACE INTO chat_commands (command_id, command, user_id, channel_id, trace_id, at, outcome) VALUES (?, ?, ?, ?, ?, ?, 'accepted')",
      c.commandId,
      c.command,
      c.userId,
      c.channelId,
      c.traceId,
      c.at,
    );
  }

  /** The site send that made `messageId`, if it is still remembered. */
  byMessage(messageId: string): StoredCommand | null {
    const row = this.sql.exec<{ command_id: string }>("SELECT command_id FROM chat_commands WHERE message_id = ?", messageId).toArray()[0];
    return row ? this.get(row.command_id, Date.now()) : null;
  }

  /** Discord did it; `messageId` is the message it made or reacted to. */
  sent(commandId: string, messageId: string | undefined): void {
    this.sql.exec("UPDATE chat_commands SET outcome = 'sent', message_id = COALESCE(?, message_id) WHERE command_id = ?", messageId ?? null, commandId);
  }

  /** Discord did not: the player may retry with the same command id. */
  failed(commandId: string): void {
    this.sql.exec("UPDATE chat_commands SET outcome = 'failed' WHERE command_id = ?", commandId);
  }
}
