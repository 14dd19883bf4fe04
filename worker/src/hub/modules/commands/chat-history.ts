/**
 * The table chat's history: a page of the messages already in a table's chat, read from Discord
 * (Get Channel Messages) when a player opens or reloads the table page, so they see more than
 * what arrives live.
 *
 * - The table must exist, and the player must be one who may read its chat (ChatAudience: anyone
 *   for a public table, seat holders and people in its voice channel for a private one).
 * - Messages are shown exactly as live events show them: the same translation (`chatMessage`
 *   from common), and a site message (the bot's `<@player>: text`) names its player (`sentBy`)
 *   and shows the text alone, as the commands module does for message.created.
 * - Several players opening the page at once share one Discord call: identical requests (same
 *   channel, `before` and `limit`) in flight are answered from the first one's call. The access
 *   check runs for each player; only Discord's answer is shared.
 * - Discord's failures become stable codes: DISCORD_UNAVAILABLE (502, with Retry-After, as every route answers it),
 *   DISCORD_RATE_LIMITED (429 with Retry-After, when Discord rate limits beyond the REST
 *   client's own waits), DISCORD_FORBIDDEN (403, the bot may not see the channel).
 */
import {
  chatMessage,
  chatReactionCounts,
  parseSiteMessage,
  type ChatHistory,
  type ChatHistoryMessage,
  type Logger,
  type MessageData,
} from "@spell-coven/common";
import {
  DiscordApiError,
  DiscordInputError,
  DiscordInvalidRequestLimitError,
  DiscordRateLimitError,
  DiscordRestError,
  type DiscordRestClient,
  type GetMessagesOptions,
} from "@spell-coven/common/rest";
import { ApiError } from "../../../errors.ts";
import type { RoomOutcome, RoomsService } from "../rooms/rooms-service.ts";
import type { ChatAudience } from "./chat-audience.ts";

export interface ChatHistoryRequest {
  /** Messages older than this message id; absent: the newest. */
  before?: string | undefined;
  /** 1-100 (the route has validated it). */
  limit: number;
}

export interface ChatHistoryDeps {
  rooms: Pick<RoomsService, "get">;
  audience: Pick<ChatAudience, "canRead">;
  guildId(): string;
  discord(): Pick<DiscordRestClient, "getMessages">;
  /** The bot's user id: its messages of the form `<@player>: text` are the site's. Null: none are recognised. */
  botUserId: string | null;
  log: Logger;
  /** Counts outcomes (hub metrics): read, shared, refused, failed. */
  count?(outcome: HistoryOutcomeLabel, code?: string): void;
}

export type HistoryOutcomeLabel = "read" | "shared" | "refused" | "failed";

/** When Discord is down, how long the page should wait before asking again. */
const UNAVAILABLE_RETRY_MS = 5_000;

type Refusal = Extract<RoomOutcome<never>, { ok: false }>;

const refuse = (code: string, status: number, message: string, retryAfterMs?: number): Refusal => ({
  ok: false,
  code,
  status,
  message,
  ...(retryAfterMs !== undefined ? { retryAfterMs: Math.max(0, Math.ceil(retryAfterMs)) } : {}),
});

export class ChatHistoryReader {
  /** `channel:before:limit` -> the Discord call answering every identical request in flight. */
  private readonly inFlight = new Map<string, Promise<RoomOutcome<ChatHistory>>>();

  constructor(private readonly deps: ChatHistoryDeps) {}

  /** A page of `channelId`'s chat for `userId`, oldest first. */
  async read(userId: string, channelId: string, req: ChatHistoryRequest): Promise<RoomOutcome<ChatHistory>> {
    const refused = (r: Refusal): Refusal => {
      this.deps.count?.("refused", r.code);
      return r;
    };
    if (!this.deps.rooms.get(channelId)) return refused(refuse("ROOM_NOT_FOUND", 404, "This table does not exist any more."));
    if (!this.deps.audience.canRead(channelId, userId)) {
      return refused(refuse("NOT_ROOM_MEMBER", 403, "This table is private: take a seat to read its chat."));
    }
    const key = `${channelId}:${req.before ?? ""}:${req.limit}`;
    let call = this.inFlight.get(key);
    if (call) {
      this.deps.log.debug("chat history: joining the Discord call in flight", { channelId, userId, before: req.before, limit: req.limit });
      this.deps.count?.("shared");
    } else {
      call = this.fetch(channelId, req).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, call);
    }
    return call;
  }

  /** How many distinct Discord calls are in flight (tests, metrics). */
  get pending(): number {
    return this.inFlight.size;
  }

  private async fetch(channelId: string, req: ChatHistoryRequest): Promise<RoomOutcome<ChatHistory>> {
    const { log } = this.deps;
    const started = Date.now();
    const opts: GetMessagesOptions = { limit: req.limit, ...(req.before !== undefined ? { before: req.before } : {}) };
    try {
      const page = await this.deps.discord().getMessages(channelId, opts);
      const guildId = this.deps.guildId();
      // Discord answers newest first; the page shows them oldest first.
      const messages: ChatHistoryMessage[] = [];
      for (let i = page.length - 1; i >= 0; i--) {
        const shown = this.show(page[i] as MessageData, guildId);
        if (shown) messages.push(shown);
      }
      log.info("chat history read from discord", { channelId, before: req.before, limit: req.limit, messages: messages.length, ms: Date.now() - started });
      this.deps.count?.("read");
      return { ok: true, value: { channelId, messages, hasMore: page.length >= req.limit } };
    } catch (err) {
      const outcome = explain(err);
      log.warn("chat history: discord failed", { channelId, before: req.before, code: outcome.code, err, ms: Date.now() - started });
      this.deps.count?.("failed", outcome.code);
      return outcome;
    }
  }

  private show(m: MessageData, guildId: string): ChatHistoryMessage | null {
    const payload = chatMessage(m, guildId, contentIntentShown(m));
    if (!payload) return null;
    const reactions = chatReactionCounts(m.reactions);
    // As the commands module attributes message.created: the bot's own `<@player>: text`.
    const site =
      this.deps.botUserId !== null && payload.author.id === this.deps.botUserId && payload.contentAvailable ? parseSiteMessage(payload.content) : null;
    return site ? { ...payload, content: site.text, sentBy: site.sentBy, reactions } : { ...payload, reactions };
  }
}

/**
 * Whether a REST message proves the bot holds MESSAGE_CONTENT. The Worker does not know the
 * intent (gateway-node does); without it Discord empties content, embeds and attachments alike,
 * so a message with an attachment or embed shows its empty content is real. An empty message
 * without either is taken as withheld: the page says so rather than show a blank bubble.
 */
function contentIntentShown(m: MessageData): boolean {
  return (m.attachments?.length ?? 0) > 0 || (m.embeds?.length ?? 0) > 0;
}

function explain(err: unknown): Refusal {
  if (err instanceof ApiError) return refuse(err.code, err.status, err.message, err.retryAfterSeconds === undefined ? undefined : err.retryAfterSeconds * 1000);
  if (err instanceof DiscordRateLimitError) {
    return refuse("DISCORD_RATE_LIMITED", 429, "Discord is rate limiting the site; the chat's history will load in a moment.", err.retryAfterMs);
  }
  if (err instanceof DiscordInvalidRequestLimitError) {
    return refuse("DISCORD_UNAVAILABLE", 502, "The site has paused its calls to Discord for a while; try again later.", err.retryAfterMs);
  }
  if (err instanceof DiscordInputError) return refuse("VALIDATION_FAILED", 400, err.message);
  if (err instanceof DiscordApiError) {
    if (err.status === 403) {
      return refuse("DISCORD_FORBIDDEN", 403, "The bot may not read this table's chat in Discord (View Channel or Connect is missing); ask a server admin.");
    }
    if (err.status === 404) return refuse("ROOM_NOT_FOUND", 404, "This table's channel no longer exists in Discord.");
    if (err.status >= 500)
      return refuse("DISCORD_UNAVAILABLE", 502, "Discord is having trouble; the chat's history could not be loaded. Try again shortly.", UNAVAILABLE_RETRY_MS);
    return refuse("DISCORD_ERROR", 502, `Discord refused to give the chat's history (HTTP ${err.status}).`);
  }
  if (err instanceof DiscordRestError) {
    return refuse("DISCORD_UNAVAILABLE", 502, "Discord could not be reached; the chat's history could not be loaded. Try again shortly.", UNAVAILABLE_RETRY_MS);
  }
  throw err;
}
