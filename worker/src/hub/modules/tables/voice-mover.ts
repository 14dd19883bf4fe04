/**
 * Brings a player who opens their table into its voice channel, without manual steps (seed 001
 * US2): the bot moves them (Modify Guild Member `channel_id`, which needs Move Members) when they
 * are in another voice channel of the guild; when they are in none, the move waits until they
 * join any (for PENDING_MOVE_MS). Each step is told to the player's sockets as `table.voice`.
 */
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { Logger, SignalPayload } from "@spell-coven/common";
import { DiscordApiError, type DiscordRestClient } from "@spell-coven/common/rest";
import type { Fanout } from "../../fanout/fanout.ts";
import { migrate } from "../../storage/migrations.ts";

/** How long a move waits for a player who is not in voice yet. */
export const PENDING_MOVE_MS = 5 * 60_000;

const MIGRATIONS = [`CREATE TABLE pending_voice_moves (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, until INTEGER NOT NULL)`];

export interface VoiceMoverDeps {
  sql: SqlStorage;
  fanout: Fanout;
  channelOf: (userId: string) => string | undefined;
  discord: () => DiscordRestClient;
  guildId: () => string;
  log: Logger;
}

export class VoiceMover {
  /** Users with a waiting move, mirrored in memory: every voice join asks, almost always "no". */
  private readonly pending = new Set<string>();

  constructor(private readonly deps: VoiceMoverDeps) {
    migrate(deps.sql, "voice-moves", MIGRATIONS);
    for (const row of deps.sql.exec<{ user_id: string }>("SELECT user_id FROM pending_voice_moves")) this.pending.add(row.user_id);
  }

  /** A player opened the table `channelId`: get them into its voice channel. */
  bring(userId: string, channelId: string, now: number): void {
    const current = this.deps.channelOf(userId);
    if (current === channelId) {
      this.forget(userId);
      return this.tell(userId, { channelId, status: "in-voice" });
    }
    if (current === undefined) {
      this.deps.sql.exec("INSERT OR REPLACE INTO pending_voice_moves (user_id, channel_id, until) VALUES (?, ?, ?)", userId, channelId, now + PENDING_MOVE_MS);
      this.pending.add(userId);
      return this.tell(userId, {
        channelId,
        status: "join-voice",
        message: "Join any voice channel of the server in Discord and you will be brought to this table.",
      });
    }
    this.move(userId, channelId);
  }

  /** A voice join reached the hub: a waiting move happens now. */
  joined(userId: string, joinedChannelId: string, now: number): void {
    if (!this.pending.has(userId)) return;
    const pending = this.deps.sql
      .exec<{ channel_id: string; until: number }>("SELECT channel_id, until FROM pending_voice_moves WHERE user_id = ?", userId)
      .toArray()[0];
    if (!pending) return;
    if (pending.until < now || pending.channel_id === joinedChannelId) {
      this.forget(userId);
      if (pending.channel_id === joinedChannelId) this.tell(userId, { channelId: joinedChannelId, status: "in-voice" });
      return;
    }
    this.move(userId, pending.channel_id);
  }

  /** The player left the call: a move they no longer need is dropped. */
  cancel(userId: string): void {
    this.forget(userId);
  }

  private move(userId: string, channelId: string): void {
    this.forget(userId);
    this.tell(userId, { channelId, status: "moving" });
    const started = Date.now();
    // Not awaited: the caller is a message or event handler that must not wait for Discord. The
    // object stays alive while the request is out; the REST client retries 429 and 5xx itself.
    void Promise.resolve()
      .then(() => this.deps.discord().moveMember(this.deps.guildId(), userId, channelId, { reason: "Spell Coven: the player opened their table" }))
      .then(() => {
        this.deps.log.info("moved player into table voice", { userId, channelId, ms: Date.now() - started });
        this.tell(userId, { channelId, status: "moved" });
      })
      .catch((err: unknown) => {
        this.deps.log.warn("could not move player into table voice", { userId, channelId, err });
        this.tell(userId, { channelId, status: "failed", message: explain(err) });
      });
  }

  private forget(userId: string): void {
    if (!this.pending.delete(userId)) return;
    this.deps.sql.exec("DELETE FROM pending_voice_moves WHERE user_id = ?", userId);
  }

  private tell(userId: string, payload: SignalPayload<"table.voice">): void {
    this.deps.fanout.signal({ userId }, "table.voice", payload);
  }
}

function explain(err: unknown): string {
  if (err instanceof DiscordApiError) {
    if (err.code === RESTJSONErrorCodes.MissingPermissions || err.status === 403) {
      return "The bot may not move members in this server (it needs the Move Members permission). Join the table's voice channel yourself.";
    }
    if (err.code === RESTJSONErrorCodes.TargetUserIsNotConnectedToVoice)
      return "You left voice before the bot could move you. Join the table's voice channel in Discord.";
    if (err.status === 404) return "The table's voice channel or your membership was not found in Discord. Join the server and the channel yourself.";
  }
  return "Discord did not answer in time, so the bot could not move you. Join the table's voice channel yourself.";
}
