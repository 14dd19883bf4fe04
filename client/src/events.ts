/**
 * A small typed event emitter, and the map of everything a SpellCovenClient emits: one entry per
 * public event of the wire contract (typed from common's EventPayloads), plus the client's own
 * events (connection state, presence changes, errors, the player's voice dropout).
 */
import type { AuthOk, EventEnvelope, EventName, EventPayload, SignalEnvelope } from "@spell-coven/common";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "disconnected";

export interface StateChange {
  state: ConnectionState;
  /** Reconnect attempts made since the last successful auth (0 while open). */
  attempt: number;
  maxAttempts: number;
  /** When the next automatic attempt starts (Unix ms), while `reconnecting` and waiting. */
  nextAttemptAt: number | null;
  /** Why the last connection ended, when it did. */
  lastClose: { code: number; reason: string } | null;
  /**
   * False while a keep-alive ping has gone unanswered for longer than `slowAfterMs` on an open
   * connection: the socket looks open but the server is not answering (it is then dropped after
   * `pongTimeoutMs`). True otherwise.
   */
  responsive: boolean;
  /** Set when the client stopped for good and waits for the app (bad token, unknown guild, gave up). */
  error: ClientError | null;
}

export type ClientErrorKind =
  /** A server message that is not JSON or fails its schema; it was skipped. */
  | "invalid_message"
  /** The server answered a message with an error ack; the socket stays open. */
  | "server_error"
  /** The server closed with a code after which retrying as is cannot help (4002, 4003, 4010). */
  | "fatal_close"
  /** Every automatic reconnect attempt failed; call reconnect(). */
  | "gave_up"
  /** The app's getToken() callback failed. */
  | "token"
  /** A gap in `seq`: events were missed; the client reconnects and resumes. */
  | "gap"
  /** A table call (board video) could not negotiate, or get its ICE servers. */
  | "table_call"
  /** An app listener threw; the client carried on. */
  | "listener"
  /** Loading the rooms list failed (the connection is unaffected). */
  | "rooms";

export class ClientError extends Error {
  override name = "ClientError";
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    readonly detail: { code?: number | string; raw?: unknown; cause?: unknown } = {},
  ) {
    super(message);
  }
}

export type Presence = Readonly<Record<string, readonly string[]>>;

export interface DropoutInfo {
  /** The room (voice channel) the player is in and just left. */
  channelId: string;
  /** Where the player is now: another voice channel, or null when out of voice. */
  nowIn: string | null;
}

/** Everything a SpellCovenClient emits, name -> listener arguments. */
export type ClientEvents = {
  [E in EventName]: [payload: EventPayload<E>, envelope: EventEnvelope<E>];
} & {
  /** Every public event, after the typed one. */
  event: [envelope: EventEnvelope];
  /** Authenticated (first connection, reconnect or resume). */
  auth: [ok: AuthOk];
  state: [change: StateChange];
  /** The presence store changed (after auth snapshots and voice events). */
  presence: [presence: Presence];
  error: [error: ClientError];
  /** The local player left the voice channel of the room they are in. */
  dropout: [info: DropoutInfo];
  /** The local player is back in their room's voice channel after a dropout. */
  rejoined: [info: { channelId: string }];
  /** A signal from the hub (table calls, speaking indicators); never replayed. */
  signal: [signal: SignalEnvelope];
};

type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<M extends { [K in keyof M]: unknown[] }> {
  #listeners = new Map<keyof M, Set<Listener<any>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => this.off(name, listener);
  }

  once<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void {
    const off = this.on(name, ((...args: M[K]) => {
      off();
      listener(...args);
    }) as Listener<M[K]>);
    return off;
  }

  off<K extends keyof M>(name: K, listener: Listener<M[K]>): void {
    this.#listeners.get(name)?.delete(listener);
  }

  listenerCount(name: keyof M): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  /**
   * Calls every listener of `name`. A listener that throws does not stop the others nor the
   * caller: the error goes to `onListenerError` (the client reports it as an `error` event).
   */
  emit<K extends keyof M>(name: K, ...args: M[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        this.onListenerError(name, err);
      }
    }
  }

  protected onListenerError(name: keyof M, err: unknown): void {
    console.error(`spell-coven: a "${String(name)}" listener threw`, err);
  }
}
