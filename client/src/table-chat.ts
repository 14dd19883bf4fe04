/**
 * A table's chat (the text chat of its Discord voice channel), for a page: the messages, merged
 * from the history and the live `message.*` events without duplicates and ordered by id; the
 * player's own sends shown at once as local echoes until Discord's message replaces them; the
 * reactions per message; who is typing; and what became of each of the player's commands.
 *
 *   const chat = new TableChat(client, channelId);
 *   const off = chat.subscribe(() => render(chat.getSnapshot()));
 *   chat.send("gg!");                 // over /api/ws when connected, else POST /api/tables/:id/messages
 *   chat.react(messageId, "👍");
 *   chat.typing();                    // call on every keystroke: sent at most once per 8 s
 *   chat.retry(commandId);            // the same command id: Discord's nonce never makes a second message
 *   await chat.loadOlder();
 *   chat.close();
 *
 * Commands: `pending` (asked), `accepted` (the hub sends it to Discord), `sent` (Discord took it;
 * a send's echo stays until its message.created arrives, matched by the nonce), `refused` (a
 * local limit or rule: `code`, and `retryAt` when waiting helps; nothing reached Discord) or
 * `failed` (Discord refused or could not be reached, or no answer came). After a reconnect that
 * could not resume, events were missed: the latest page of the history is loaded again.
 */
import {
  ChatContent,
  ChatEmoji,
  newTraceId,
  type AuthOk,
  type ChatHistoryMessage,
  type ChatMessagePayload,
  type ClientMessage,
  type EventPayload,
  type SignalEnvelope,
  type SignalPayload,
} from "@spell-coven/common";
import { ReactionTally, emojiKey } from "./chat-reactions.ts";
import type { SpellCovenClient } from "./index.ts";
import { RoomsApiError } from "./rooms-api.ts";
import { ChatCommandTracker, newCommandId, type ChatCommandState } from "./chat-command-tracker.ts";
import { ChatTyping } from "./chat-typing.ts";
import { ChatLog, echoLine, type ChatLine } from "./chat-log.ts";
import { StoreListeners } from "./store-listeners.ts";

export type { ReactionView } from "./chat-reactions.ts";
export { compareSnowflakes, type ChatLine } from "./chat-log.ts";
export type { ChatCommandState, ChatCommandStatus } from "./chat-command-tracker.ts";

/** What a TableChat needs of the client (tests give it a stand-in). */
export type TableChatClient = Pick<SpellCovenClient, "on" | "send" | "api" | "userId" | "state">;

export interface ChatHistoryState {
  status: "idle" | "loading" | "loaded" | "error";
  /** Older messages exist (loadOlder fetches them). */
  hasMore: boolean;
  error: { code: string; message: string; retryAt: number | null } | null;
}

export interface TableChatSnapshot {
  channelId: string;
  lines: readonly ChatLine[];
  /** Who is typing now (never the player), oldest first. */
  typing: readonly string[];
  /** The player's sends and reactions still worth showing, by command id. */
  commands: Readonly<Record<string, ChatCommandState>>;
  history: ChatHistoryState;
}

export interface TableChatOptions {
  /** Messages per history page (1-100). Default 50. */
  pageSize?: number;
  /** How long a typing indicator lasts. Default 10 s, as Discord shows it. */
  typingMs?: number;
  /** At most one typing command per this long. Default 8 s. */
  typingThrottleMs?: number;
  /** A command with no answer this long is failed (NO_ANSWER; retrying is safe). Default 20 s. */
  answerTimeoutMs?: number;
  /** Most messages kept; older ones are dropped (loadOlder brings them back). Default 500. */
  maxMessages?: number;
}

export class TableChat {
  readonly channelId: string;
  readonly #client: TableChatClient;
  readonly #opts: Required<TableChatOptions>;
  readonly #log = new ChatLog();
  readonly #reactions = new ReactionTally();
  readonly #commands: ChatCommandTracker;
  readonly #typing: ChatTyping;
  /** The bot's user ids, learned from site messages and reactions (its removal takes every site player's reaction). */
  readonly #botIds = new Set<string>();
  #history: ChatHistoryState = { status: "idle", hasMore: false, error: null };
  #loadGen = 0;
  #sawConnection: boolean;
  readonly #subscribers = new StoreListeners("a table chat subscriber");
  readonly #off: (() => void)[] = [];
  #snapshot: TableChatSnapshot | null = null;
  #closed = false;

  constructor(client: TableChatClient, channelId: string, opts: TableChatOptions = {}) {
    this.#client = client;
    this.channelId = channelId;
    this.#opts = { pageSize: 50, typingMs: 10_000, typingThrottleMs: 8_000, answerTimeoutMs: 20_000, maxMessages: 500, ...opts };
    this.#commands = new ChatCommandTracker({ answerTimeoutMs: this.#opts.answerTimeoutMs, onChange: (c) => this.#onCommandChange(c) });
    this.#typing = new ChatTyping({ showMs: this.#opts.typingMs, throttleMs: this.#opts.typingThrottleMs, onChange: () => this.#changed() });
    this.#sawConnection = client.state === "open";
    const mine = (p: { channelId: string }) => p.channelId === channelId && !this.#closed;
    this.#off.push(
      client.on("message.created", (p) => mine(p) && this.#onMessage(p, true)),
      client.on("message.updated", (p) => mine(p) && this.#onMessage(p, false)),
      client.on("message.deleted", (p) => mine(p) && this.#onDeleted(p.messageIds)),
      client.on("message.reaction.added", (p) => mine(p) && this.#onReaction(p, true)),
      client.on("message.reaction.removed", (p) => mine(p) && this.#onReaction(p, false)),
      client.on("typing.started", (p) => mine(p) && this.#onTyping(p.userId)),
      client.on("signal", (s) => this.#onSignal(s)),
      client.on("auth", (ok) => this.#onAuth(ok)),
    );
    void this.#load("latest");
  }

  // ---- commands --------------------------------------------------------------------------------

  /**
   * Writes `text` in the table's chat; returns the command id. Text Discord would refuse (empty,
   * over 1975 characters) is refused at once (VALIDATION_FAILED), never sent.
   */
  send(text: string): string {
    const parsed = ChatContent.safeParse(text);
    const cmd = this.#commands.create("sendMessage", { text: parsed.success ? parsed.data : text });
    if (!parsed.success) {
      this.#commands.settle(cmd.commandId, {
        status: "refused",
        code: "VALIDATION_FAILED",
        message: parsed.error.issues[0]?.message ?? "The message is invalid.",
      });
      return cmd.commandId;
    }
    this.#dispatch(cmd.commandId);
    return cmd.commandId;
  }

  /** Adds the player's reaction to a message (shown at once, pending); nothing when they already have it. */
  react(messageId: string, emoji: string): string | null {
    const me = this.#client.userId;
    if (!ChatEmoji.safeParse(emoji).success) throw new RangeError(`Not an emoji the chat accepts: ${JSON.stringify(emoji)}`);
    if (me === null || !this.#reactions.add(messageId, emoji, me, { viaBot: true, pending: true })) return null;
    const cmd = this.#commands.create("addReaction", { messageId, emoji });
    this.#changed();
    this.#dispatch(cmd.commandId);
    return cmd.commandId;
  }

  /** Says the player is typing: call it on every keystroke, it goes out at most once per 8 s. */
  typing(): void {
    if (this.#closed || !this.#typing.claimAnnounce()) return;
    const commandId = newCommandId();
    const traceId = newTraceId();
    if (this.#client.send({ type: "chat.typing", channelId: this.channelId, commandId, traceId })) return;
    this.#client.api.chatTyping(this.channelId, { commandId, traceId }).catch((err: unknown) => {
      // A refused typing call is not worth a word to the player; only its wait is honoured.
      if (err instanceof RoomsApiError && err.retryAt !== null) this.#typing.holdUntil(err.retryAt);
    });
  }

  /** Sends a refused or failed command again with the same command id (Discord's nonce: never a second message). */
  retry(commandId: string): void {
    const cmd = this.#commands.get(commandId);
    if (!cmd || (cmd.status !== "refused" && cmd.status !== "failed")) return;
    // The hub runs a command that failed at Discord again; one it already did (the answer was lost
    // on the way) is answered with its result, as a command.result signal.
    if (cmd.command === "addReaction" && cmd.messageId && cmd.emoji && this.#client.userId)
      this.#reactions.add(cmd.messageId, cmd.emoji, this.#client.userId, { viaBot: true, pending: true });
    this.#commands.restart(commandId);
    this.#dispatch(commandId);
  }

  /** Forgets a refused or failed command (the player gave up on it). */
  dismiss(commandId: string): void {
    this.#commands.remove(commandId);
  }

  // ---- history ---------------------------------------------------------------------------------

  /** Loads the page of messages before the oldest one shown (nothing while loading, or before Retry-After). */
  loadOlder(): Promise<void> {
    return this.#load(this.#log.size === 0 ? "latest" : "older");
  }

  // ---- external store --------------------------------------------------------------------------

  readonly subscribe = (listener: () => void): (() => void) => this.#subscribers.subscribe(listener);

  readonly getSnapshot = (): TableChatSnapshot => {
    this.#snapshot ??= Object.freeze({
      channelId: this.channelId,
      lines: Object.freeze(this.#lines()),
      typing: this.#typing.list,
      commands: this.#commands.toJSON(),
      history: this.#history,
    });
    return this.#snapshot;
  };

  /** Stops listening; timers end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#off.splice(0)) off();
    this.#commands.close();
    this.#typing.close();
    this.#subscribers.clear();
  }

  // ---- internals: commands ---------------------------------------------------------------------

  #dispatch(commandId: string): void {
    const cmd = this.#commands.get(commandId);
    if (!cmd || this.#closed) return;
    const traceId = newTraceId();
    const message: ClientMessage =
      cmd.command === "sendMessage"
        ? { type: "chat.send", channelId: this.channelId, content: cmd.text!, commandId, traceId }
        : { type: "chat.react", channelId: this.channelId, messageId: cmd.messageId!, emoji: cmd.emoji!, commandId, traceId };
    if (this.#client.send(message)) return;
    const api = this.#client.api;
    const call =
      cmd.command === "sendMessage"
        ? api.sendChatMessage(this.channelId, cmd.text!, { commandId, traceId })
        : api.addChatReaction(this.channelId, cmd.messageId!, cmd.emoji!, { commandId, traceId });
    call.then(
      () => this.#onAccepted(commandId),
      (err: unknown) => this.#onHttpError(commandId, err),
    );
  }

  /** The HTTP route took it. A duplicate is settled too, by the command.result the hub sends with it. */
  #onAccepted(commandId: string): void {
    this.#commands.advance(commandId, "accepted");
  }

  #onHttpError(commandId: string, err: unknown): void {
    if (!(err instanceof RoomsApiError)) return this.#commands.settle(commandId, { status: "failed", code: "NETWORK_ERROR", message: String(err) });
    const refused = err.status === 429 || (err.status >= 400 && err.status < 500);
    this.#commands.settle(commandId, {
      status: refused ? "refused" : "failed",
      code: err.code,
      message: err.message,
      retryAt: err.retryAt,
    });
  }

  #onSignal(s: SignalEnvelope): void {
    if (s.signal !== "command.result" || this.#closed) return;
    const r = s.payload as SignalPayload<"command.result">;
    if (r.channelId !== this.channelId) return;
    if (r.command === "typingStart") {
      if (r.status === "refused" && r.retryAfterMs !== undefined) this.#typing.holdUntil(Date.now() + r.retryAfterMs);
      return;
    }
    const cmd = this.#commands.get(r.commandId);
    if (!cmd) return;
    if (r.status === "accepted") return this.#commands.advance(r.commandId, "accepted");
    if (r.status === "sent") {
      if (cmd.command === "addReaction") {
        // Confirmed: the chip stops looking pending (the reaction event may never come: Discord keeps one bot reaction per emoji).
        if (this.#client.userId) this.#reactions.add(cmd.messageId!, cmd.emoji!, this.#client.userId, { viaBot: true });
        return this.#commands.remove(r.commandId);
      }
      if (r.messageId && this.#log.has(r.messageId)) return this.#commands.remove(r.commandId);
      return this.#commands.advance(r.commandId, "sent", r.messageId);
    }
    this.#commands.settle(r.commandId, {
      status: r.status,
      code: r.code ?? (r.status === "refused" ? "REFUSED" : "FAILED"),
      message: r.message ?? null,
      retryAt: r.retryAfterMs === undefined ? null : Date.now() + r.retryAfterMs,
    });
  }

  #onCommandChange(cmd: ChatCommandState | null): void {
    if (cmd?.command === "addReaction" && (cmd.status === "refused" || cmd.status === "failed") && this.#client.userId)
      this.#reactions.retract(cmd.messageId!, cmd.emoji!, this.#client.userId);
    this.#changed();
  }

  // ---- internals: events -----------------------------------------------------------------------

  #onMessage(p: ChatMessagePayload, created: boolean): void {
    if (!created && !this.#log.has(p.messageId)) return; // an edit of a message older than what is shown
    this.#put(p);
    if (created) {
      // Discord ends someone's typing indicator when their message arrives.
      const author = p.sentBy ?? p.author.id;
      this.#typing.stopped(author);
    }
    this.#trim();
    this.#changed();
  }

  #put(p: ChatMessagePayload): void {
    if (p.sentBy) this.#botIds.add(p.author.id);
    this.#log.put(p);
    // The player's own send is in Discord now: its echo goes.
    const echo = (p.nonce ? this.#commands.get(p.nonce) : null) ?? this.#commands.byMessage(p.messageId);
    if (echo?.command === "sendMessage") this.#commands.remove(echo.commandId);
  }

  #onDeleted(ids: readonly string[]): void {
    const gone = this.#log.delete(ids);
    for (const id of gone) this.#reactions.forget(id);
    if (gone.length > 0) this.#changed();
  }

  #onReaction(p: EventPayload<"message.reaction.added">, added: boolean): void {
    const emoji = emojiKey(p.emoji);
    if (!emoji) return;
    const me = this.#client.userId;
    const asked = this.#commands.find((c) => c.command === "addReaction" && c.messageId === p.messageId && c.emoji === emoji);
    if (p.sentBy || (added && asked)) this.#botIds.add(p.userId);
    let who: string | null = p.sentBy ?? p.userId;
    if (!p.sentBy && this.#botIds.has(p.userId)) {
      // The bot's reaction without a name: Discord keeps one per emoji, so when the player has
      // this one through the bot, it is theirs; a removal takes every site player's.
      who = added ? (me !== null && this.#reactions.hasViaBot(p.messageId, emoji, me) ? me : p.userId) : null;
    }
    const changed = added
      ? this.#reactions.add(p.messageId, emoji, who!, { viaBot: p.sentBy !== undefined || this.#botIds.has(p.userId) })
      : this.#reactions.remove(p.messageId, emoji, who);
    if (added && who === me && asked) this.#commands.remove(asked.commandId);
    if (changed) this.#changed();
  }

  #onTyping(userId: string): void {
    if (userId !== this.#client.userId) this.#typing.started(userId);
  }

  #onAuth(ok: AuthOk): void {
    // A fresh session after one this chat saw: events in between were missed, so reload.
    if (!ok.resumed && this.#sawConnection) void this.#load("latest", true);
    this.#sawConnection = true;
  }

  // ---- internals: history ----------------------------------------------------------------------

  async #load(mode: "latest" | "older", force = false): Promise<void> {
    if (this.#closed) return;
    const h = this.#history;
    if (h.status === "loading" && !force) return;
    if (h.error?.retryAt && h.error.retryAt > Date.now()) return;
    if (mode === "older" && h.status === "loaded" && !h.hasMore) return;
    const gen = ++this.#loadGen;
    const known = mode === "latest" ? new Set(this.#log.ids()) : null;
    const before = mode === "older" ? this.#log.oldest() : undefined;
    this.#setHistory({ status: "loading", hasMore: h.hasMore, error: null });
    try {
      const page = await this.#client.api.chatHistory(this.channelId, { limit: this.#opts.pageSize, ...(before ? { before } : {}) });
      if (gen !== this.#loadGen || this.#closed) return;
      if (known) this.#onDeleted([...known].filter((id) => !page.messages.some((m) => m.messageId === id)));
      for (const m of page.messages) this.#putHistory(m);
      this.#setHistory({ status: "loaded", hasMore: page.hasMore, error: null });
    } catch (err) {
      if (gen !== this.#loadGen || this.#closed) return;
      const e = err instanceof RoomsApiError ? err : null;
      this.#setHistory({
        status: "error",
        hasMore: this.#history.hasMore,
        error: { code: e?.code ?? "NETWORK_ERROR", message: e?.message ?? String(err), retryAt: e?.retryAt ?? null },
      });
    }
  }

  #putHistory(m: ChatHistoryMessage): void {
    const { reactions, ...message } = m;
    this.#put(message);
    this.#reactions.setCounts(m.messageId, reactions);
  }

  #setHistory(h: ChatHistoryState): void {
    this.#history = Object.freeze(h);
    this.#changed();
  }

  /** Keeps the newest `maxMessages`; the history can bring the older ones back. */
  #trim(): void {
    const dropped = this.#log.trimTo(this.#opts.maxMessages);
    for (const id of dropped) this.#reactions.forget(id);
    if (dropped.length > 0) this.#history = Object.freeze({ ...this.#history, hasMore: true });
  }

  #lines(): ChatLine[] {
    const me = this.#client.userId;
    const out = this.#log.lines(me, (id) => this.#reactions.view(id, me));
    for (const cmd of this.#commands.echoes()) out.push(echoLine(cmd, me));
    return out;
  }

  #changed(): void {
    this.#snapshot = null;
    this.#subscribers.notify();
  }
}
