/**
 * The player's chat commands (sends and reactions) and what became of each, for TableChat: one
 * immutable state per command, a timer per command waiting for an answer (a socket that dropped
 * right after the send leaves it failed with NO_ANSWER instead of pending for ever: retrying it is
 * safe, its command id is Discord's nonce), and the list of sends shown as local echoes.
 */
/** A command id (Discord's nonce: at most 25 characters of [A-Za-z0-9_-]). */
export function newCommandId(): string {
  const b = crypto.getRandomValues(new Uint8Array(10));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export type ChatCommandStatus = "pending" | "accepted" | "sent" | "refused" | "failed";

export interface ChatCommandState {
  commandId: string;
  command: "sendMessage" | "addReaction";
  status: ChatCommandStatus;
  /** The text of a send. */
  text: string | null;
  /** The reacted message; for a send, the message Discord made (once sent). */
  messageId: string | null;
  /** The emoji of a reaction. */
  emoji: string | null;
  /** Why it was refused or failed: the hub's CommandErrorCode, the HTTP route's code, or NETWORK_ERROR, NO_ANSWER, VALIDATION_FAILED. */
  code: string | null;
  message: string | null;
  /** Unix ms after which trying again makes sense (Retry-After, retryAfterMs); null when waiting does not help. */
  retryAt: number | null;
  /** Unix ms of the first attempt. */
  createdAt: number;
  attempts: number;
}

interface ChatCommandTrackerOptions {
  answerTimeoutMs: number;
  /** A command changed (null: several, or one removed). */
  onChange: (cmd: ChatCommandState | null) => void;
}

export class ChatCommandTracker {
  readonly #opts: ChatCommandTrackerOptions;
  readonly #all = new Map<string, ChatCommandState>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #json: Readonly<Record<string, ChatCommandState>> | null = null;

  constructor(opts: ChatCommandTrackerOptions) {
    this.#opts = opts;
  }

  get(commandId: string): ChatCommandState | undefined {
    return this.#all.get(commandId);
  }

  /** The send that made `messageId`, when its answer came before the message. */
  byMessage(messageId: string): ChatCommandState | undefined {
    return this.find((c) => c.command === "sendMessage" && c.messageId === messageId);
  }

  find(match: (c: ChatCommandState) => boolean): ChatCommandState | undefined {
    for (const c of this.#all.values()) if (match(c)) return c;
    return undefined;
  }

  /** Sends to show as echoes: every one not refused (a refused one's text goes back to the composer), oldest first. */
  echoes(): ChatCommandState[] {
    return [...this.#all.values()].filter((c) => c.command === "sendMessage" && c.status !== "refused");
  }

  /** A new pending command, waiting for its answer. */
  create(command: ChatCommandState["command"], what: { text?: string; messageId?: string; emoji?: string }): ChatCommandState {
    const cmd: ChatCommandState = Object.freeze({
      commandId: newCommandId(),
      command,
      status: "pending",
      text: what.text ?? null,
      messageId: what.messageId ?? null,
      emoji: what.emoji ?? null,
      code: null,
      message: null,
      retryAt: null,
      createdAt: Date.now(),
      attempts: 1,
    });
    this.#set(cmd);
    this.#arm(cmd.commandId);
    return cmd;
  }

  /** Pending again, for a retry with the same command id. */
  restart(commandId: string): void {
    const cmd = this.#all.get(commandId);
    if (!cmd) return;
    this.#set({ ...cmd, status: "pending", code: null, message: null, retryAt: null, attempts: cmd.attempts + 1 });
    this.#arm(commandId);
  }

  /** Accepted by the hub, or sent by Discord (with the message it made): still waiting for its event, with more patience. */
  advance(commandId: string, status: "accepted" | "sent", messageId?: string): void {
    const cmd = this.#all.get(commandId);
    if (!cmd || cmd.status === "refused" || cmd.status === "failed" || (cmd.status === "sent" && status === "accepted")) return;
    this.#set({ ...cmd, status, ...(messageId ? { messageId } : {}) });
    // Sent is an outcome: no more waiting. Accepted waits for Discord, which may retry a 429 first.
    if (status === "sent") this.#disarm(commandId);
    else this.#arm(commandId, this.#opts.answerTimeoutMs * 3);
  }

  /** Refused or failed: the outcome, with why and when to try again. */
  settle(commandId: string, outcome: { status: "refused" | "failed"; code: string; message: string | null; retryAt?: number | null }): void {
    const cmd = this.#all.get(commandId);
    if (!cmd) return;
    this.#disarm(commandId);
    this.#set({ ...cmd, status: outcome.status, code: outcome.code, message: outcome.message, retryAt: outcome.retryAt ?? null });
  }

  remove(commandId: string): void {
    this.#disarm(commandId);
    if (!this.#all.delete(commandId)) return;
    this.#json = null;
    this.#opts.onChange(null);
  }

  toJSON(): Readonly<Record<string, ChatCommandState>> {
    this.#json ??= Object.freeze(Object.fromEntries(this.#all));
    return this.#json;
  }

  close(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #set(cmd: ChatCommandState): void {
    const frozen = Object.freeze(cmd);
    this.#all.set(cmd.commandId, frozen);
    this.#json = null;
    this.#opts.onChange(frozen);
  }

  #arm(commandId: string, ms = this.#opts.answerTimeoutMs): void {
    this.#disarm(commandId);
    this.#timers.set(
      commandId,
      setTimeout(() => {
        this.#timers.delete(commandId);
        this.settle(commandId, {
          status: "failed",
          code: "NO_ANSWER",
          message: "No answer came from Spell Coven; it may not have been sent. Retrying is safe.",
        });
      }, ms),
    );
  }

  #disarm(commandId: string): void {
    const t = this.#timers.get(commandId);
    if (t !== undefined) clearTimeout(t);
    this.#timers.delete(commandId);
  }
}
