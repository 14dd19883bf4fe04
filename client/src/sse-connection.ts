/// <reference lib="dom" />
/**
 * The same events as `/api/ws`, over Server-Sent Events (`GET /api/stream`), for pages or
 * networks where WebSockets are not available. It offers what SpellCovenClient needs of a
 * connection (connect, reconnect, state, the handlers), so the client's events, presence and
 * resume work the same on either transport; client messages (table calls) need the WebSocket.
 *
 * EventSource reconnects by itself after a dropped stream, sending Last-Event-ID, and the
 * Worker resumes from it. What EventSource gives up on (a 204 for an expired ticket, any other
 * status, a network that stays down) this class covers: a fresh ticket, a new EventSource that
 * resumes from the last event processed, with backoff and at most `maxReconnectAttempts` tries.
 */
import { AuthOk, EventEnvelope, SkipFrame, STREAM_SKIP, StreamTicket, streamCursor, type ClientMessage } from "@spell-coven/common";
import type { ConnectionHandlers, ConnectionOptions } from "./connection.ts";
import { ClientError, type ConnectionState, type StateChange } from "./events.ts";
import { ReconnectScheduler, DEFAULT_MAX_RECONNECT_ATTEMPTS } from "./reconnect.ts";

export interface SseConnectionOptions extends Pick<ConnectionOptions, "url" | "guildId" | "getToken" | "maxReconnectAttempts" | "backoff"> {
  /** EventSource implementation; default the global one. */
  EventSource?: typeof EventSource;
  fetch?: typeof fetch;
}

/** Names of the stream's first message (ARCHITECTURE.md, "SSE stream"). */
const FIRST = ["ready", "resync"] as const;

export class SseConnection {
  readonly #opts: SseConnectionOptions;
  readonly #h: ConnectionHandlers;
  readonly #ES: typeof EventSource;
  readonly #fetch: typeof fetch;
  readonly #scheduler: ReconnectScheduler;
  #source: EventSource | null = null;
  #generation = 0;
  #stopped = true;
  #state: StateChange;
  /** Event names this source listens to (every public event, plus the first message). */
  readonly #names: readonly string[];

  constructor(opts: SseConnectionOptions, handlers: ConnectionHandlers, eventNames: readonly string[]) {
    const ES = opts.EventSource ?? (globalThis as { EventSource?: typeof EventSource }).EventSource;
    if (!ES) throw new Error("No EventSource implementation: pass options.EventSource.");
    this.#ES = ES;
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#opts = opts;
    this.#h = handlers;
    this.#names = eventNames;
    const maxAttempts = opts.maxReconnectAttempts ?? DEFAULT_MAX_RECONNECT_ATTEMPTS;
    this.#scheduler = new ReconnectScheduler(maxAttempts, opts.backoff);
    this.#state = { state: "disconnected", attempt: 0, maxAttempts, nextAttemptAt: null, lastClose: null, error: null, responsive: true };
  }

  get state(): StateChange {
    return this.#state;
  }

  connect(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#scheduler.reset();
    this.#set("connecting", { error: null });
    void this.#attempt();
  }

  reconnect(): void {
    this.#stopped = false;
    this.#scheduler.reset();
    this.#abandon();
    this.#set("connecting", { error: null, nextAttemptAt: null });
    void this.#attempt();
  }

  forceReconnect(reason: string): void {
    if (this.#stopped) return;
    this.#abandon();
    this.#retry({ code: 0, reason }, true);
  }

  /** Nothing to ping: EventSource and the Worker's heartbeats watch the stream. */
  check(): void {}

  close(): void {
    this.#stopped = true;
    this.#scheduler.cancel();
    this.#abandon();
    this.#set("disconnected", { nextAttemptAt: null, error: null });
  }

  /** Client messages need the WebSocket transport. */
  send(_message: ClientMessage): boolean {
    return false;
  }

  async #attempt(): Promise<void> {
    const gen = ++this.#generation;
    let url: string;
    try {
      url = await this.#ticketUrl();
    } catch (err) {
      if (gen !== this.#generation || this.#stopped) return;
      this.#h.onError(new ClientError("token", `Could not open the event stream: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      return this.#retry({ code: 0, reason: "no stream ticket" });
    }
    if (gen !== this.#generation || this.#stopped) return;
    const source = new this.#ES(url);
    this.#source = source;
    for (const name of FIRST) source.addEventListener(name, (e) => gen === this.#generation && this.#onFirst(e as MessageEvent));
    for (const name of this.#names) source.addEventListener(name, (e) => gen === this.#generation && this.#onEvent(e as MessageEvent));
    source.addEventListener(STREAM_SKIP, (e) => gen === this.#generation && this.#onSkip(e as MessageEvent));
    source.onerror = () => {
      if (gen !== this.#generation) return;
      if (source.readyState === this.#ES.CLOSED) {
        // EventSource gave up (a 204 for an expired ticket, another status): a new ticket.
        this.#abandon();
        this.#retry({ code: 0, reason: "event stream ended" });
      } else if (this.#state.state === "open") {
        this.#set("reconnecting", { lastClose: { code: 0, reason: "event stream dropped" } });
      }
    };
  }

  async #ticketUrl(): Promise<string> {
    const token = await this.#opts.getToken({ refresh: false });
    const res = await this.#fetch(new URL(`/api/stream/ticket${this.#opts.guildId ? `?guildId=${this.#opts.guildId}` : ""}`, this.#opts.url), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`the Worker answered ${res.status} for a stream ticket`);
    const ticket = StreamTicket.parse(await res.json());
    const url = new URL(ticket.url, this.#opts.url);
    const resume = this.#h.resumeFrom();
    if (resume) url.searchParams.set("lastEventId", streamCursor(resume.epoch, resume.seq));
    return url.toString();
  }

  #onFirst(e: MessageEvent): void {
    const parsed = AuthOk.safeParse(safeJson(e.data));
    if (!parsed.success) return this.#h.onError(new ClientError("invalid_message", "Invalid first message on the event stream; skipped.", { raw: e.data }));
    this.#scheduler.reset();
    this.#h.onAuthOk(parsed.data);
    this.#set("open", { lastClose: null, error: null, nextAttemptAt: null });
  }

  #onEvent(e: MessageEvent): void {
    const json = safeJson(e.data) as { seq?: unknown } | null;
    const parsed = EventEnvelope.safeParse(json);
    if (!parsed.success) {
      this.#h.onError(new ClientError("invalid_message", "Skipped an invalid event on the stream.", { raw: e.data }));
      if (typeof json?.seq === "number") this.#h.onSkipped(json.seq);
      return;
    }
    this.#h.onEvent(parsed.data);
  }

  /** A seq that is not for this player (an event addressed to others): passed over, not a gap. */
  #onSkip(e: MessageEvent): void {
    const parsed = SkipFrame.safeParse(safeJson(e.data));
    if (!parsed.success) return this.#h.onError(new ClientError("invalid_message", "Skipped an invalid skip frame on the stream.", { raw: e.data }));
    this.#h.onSkipped(parsed.data.seq);
  }

  #retry(lastClose: { code: number; reason: string }, immediate = false): void {
    if (this.#stopped) return;
    const next = this.#scheduler.schedule(() => void this.#attempt(), { immediate });
    if (!next) {
      this.#stopped = true;
      const n = this.#scheduler.maxAttempts;
      const error = new ClientError("gave_up", `Could not reopen the event stream after ${n} attempt${n === 1 ? "" : "s"}; call reconnect() to try again.`);
      this.#set("disconnected", { lastClose, nextAttemptAt: null, error });
      this.#h.onError(error);
      return;
    }
    this.#set("reconnecting", { lastClose, nextAttemptAt: next.at, attempt: next.attempt });
  }

  #abandon(): void {
    this.#generation++;
    this.#source?.close();
    this.#source = null;
  }

  #set(state: ConnectionState, patch: Partial<Omit<StateChange, "state">> = {}): void {
    const attempt = state === "open" || state === "connecting" ? 0 : (patch.attempt ?? this.#scheduler.attempts);
    this.#state = { ...this.#state, ...patch, state, attempt, responsive: true };
    this.#h.onState(this.#state);
  }
}

function safeJson(text: unknown): unknown {
  try {
    return typeof text === "string" ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
