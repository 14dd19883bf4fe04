/**
 * One player's WebSocket to `/api/ws`, kept alive: authenticates with the first message (token
 * from the app's `getToken`), resumes from the last processed `seq`, pings, acknowledges, and
 * reconnects with backoff and jitter until `maxReconnectAttempts` fail in a row. Every server
 * message is validated with common's schemas; a bad one is reported, never thrown.
 *
 * What the events mean (presence, gaps) is not decided here: the handlers are.
 */
import {
  AuthOk,
  CloseCodeAdvice,
  CloseCodes,
  ErrorAck,
  BatchFrame,
  SkipFrame,
  EventEnvelope,
  PING,
  PONG,
  SignalEnvelope,
  type ClientMessage,
  type CloseCode,
} from "@spell-coven/common";
import { ClientError, type ConnectionState, type StateChange } from "./events.ts";
import { ReconnectScheduler, DEFAULT_MAX_RECONNECT_ATTEMPTS, type BackoffOptions } from "./reconnect.ts";

/** Supplies the player's JWT. `refresh: true` after the server said the last one expired. */
export type TokenProvider = (opts: { refresh: boolean }) => Promise<string> | string;

export interface ConnectionOptions {
  /** The Worker's base URL (http(s) or ws(s)); `/api/ws` is appended. */
  url: string;
  /** Guild to follow; default the Worker's primary guild. */
  guildId?: string;
  getToken: TokenProvider;
  /** Automatic attempts after a drop before giving up (state `disconnected`). Default 5. */
  maxReconnectAttempts?: number;
  backoff?: BackoffOptions;
  /** Keep-alive ping period. Default 25 s (the hub drops sockets silent for 90 s). */
  pingIntervalMs?: number;
  /** A ping not answered within this is a dead connection. Default 10 s. */
  pongTimeoutMs?: number;
  /** A ping not answered within this marks the connection not `responsive` (a warning, before the timeout). Default 4 s. */
  slowAfterMs?: number;
  /** Ack after this many events plus a random share of as many again (so at most 2x)... Default 50. */
  ackEvery?: number;
  /** ...or this long after an unacknowledged event. Default 1 s. */
  ackIntervalMs?: number;
  /** From starting an attempt to auth.ok. Default 15 s. */
  connectTimeoutMs?: number;
  /** WebSocket implementation; default the global one (browsers, Node 22+). */
  WebSocket?: typeof WebSocket;
}

export interface ConnectionHandlers {
  /** The resume point to send, if any. */
  resumeFrom(): { seq: number; epoch: string } | undefined;
  onAuthOk(ok: AuthOk): void;
  /** Returns false when the event was not processed (a gap); it is then not acknowledged. */
  onEvent(envelope: EventEnvelope): boolean;
  /**
   * A seq passed over: a skip frame (an event addressed to other players), or an event that
   * failed validation but carried a seq. Counted as processed, not waited for.
   */
  onSkipped(seq: number): void;
  onState(change: StateChange): void;
  onError(error: ClientError): void;
  /** A signal (ephemeral, addressed; no seq): table calls and speaking indicators. */
  onSignal?(signal: SignalEnvelope): void;
}

/** Code the client uses when it abandons a socket itself (dead, timed out, gap). */
const CLIENT_CLOSE = 4000;

export class Connection {
  readonly #opts: Required<Omit<ConnectionOptions, "guildId" | "backoff" | "WebSocket">> & Pick<ConnectionOptions, "guildId">;
  readonly #WS: typeof WebSocket;
  readonly #h: ConnectionHandlers;
  readonly #scheduler: ReconnectScheduler;

  #ws: WebSocket | null = null;
  /** Bumped whenever the current socket is abandoned, so its late callbacks are ignored. */
  #generation = 0;
  #stopped = true;
  #authed = false;
  #refreshToken = false;
  #state: StateChange;

  #pingTimer: ReturnType<typeof setInterval> | null = null;
  #pongTimer: ReturnType<typeof setTimeout> | null = null;
  #slowTimer: ReturnType<typeof setTimeout> | null = null;
  #connectTimer: ReturnType<typeof setTimeout> | null = null;
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  #unacked = 0;
  #ackAfter: number | null = null;
  #lastSeq = 0;

  constructor(opts: ConnectionOptions, handlers: ConnectionHandlers) {
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (!WS) throw new Error("No WebSocket implementation: use Node 22+ or pass options.WebSocket.");
    this.#WS = WS;
    this.#h = handlers;
    const maxAttempts = opts.maxReconnectAttempts ?? DEFAULT_MAX_RECONNECT_ATTEMPTS;
    this.#opts = {
      url: opts.url,
      guildId: opts.guildId,
      getToken: opts.getToken,
      maxReconnectAttempts: maxAttempts,
      pingIntervalMs: opts.pingIntervalMs ?? 25_000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 10_000,
      slowAfterMs: opts.slowAfterMs ?? 4_000,
      ackEvery: opts.ackEvery ?? 50,
      ackIntervalMs: opts.ackIntervalMs ?? 1000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
    };
    this.#scheduler = new ReconnectScheduler(maxAttempts, opts.backoff);
    this.#state = { state: "disconnected", attempt: 0, maxAttempts, nextAttemptAt: null, lastClose: null, error: null, responsive: true };
  }

  get state(): StateChange {
    return this.#state;
  }

  /** The `/api/ws` URL this connection uses. */
  get wsUrl(): string {
    const u = new URL("/api/ws", this.#opts.url);
    u.protocol = u.protocol === "https:" || u.protocol === "wss:" ? "wss:" : "ws:";
    if (this.#opts.guildId) u.searchParams.set("guildId", this.#opts.guildId);
    return u.toString();
  }

  /** Starts connecting (no-op while already running). */
  connect(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#scheduler.reset();
    this.#setState("connecting", { error: null });
    void this.#attempt();
  }

  /** Connects now, whatever the state: after giving up, or to retry a wait early. Resumes when it can. */
  reconnect(): void {
    this.#stopped = false;
    this.#scheduler.reset();
    this.#abandon();
    this.#setState("connecting", { error: null, nextAttemptAt: null });
    void this.#attempt();
  }

  /** Drops the current socket and connects again at once, resuming (used when events were missed). */
  forceReconnect(reason: string): void {
    if (this.#stopped) return;
    this.#abandon();
    this.#down({ code: CLIENT_CLOSE, reason }, { immediate: true });
  }

  /** Pings now (the page came back to the foreground, the network changed): a dead server shows sooner. */
  check(): void {
    if (this.#ws && this.#authed) this.#ping(this.#ws);
  }

  /** Closes for good (until connect()/reconnect()). */
  close(): void {
    this.#stopped = true;
    this.#scheduler.cancel();
    this.#abandon(1000, "client closed");
    this.#setState("disconnected", { nextAttemptAt: null, error: null });
  }

  // ---- internals ------------------------------------------------------------------------------

  async #attempt(): Promise<void> {
    const gen = ++this.#generation;
    this.#clearTimers();
    if (this.#state.state === "reconnecting") this.#setState("reconnecting", { nextAttemptAt: null });
    // The whole attempt (token, open, auth.ok) must finish in time.
    this.#connectTimer = setTimeout(() => {
      if (gen !== this.#generation) return;
      this.#abandon();
      this.#down({ code: CLIENT_CLOSE, reason: "Timed out connecting." });
    }, this.#opts.connectTimeoutMs);

    let token: string;
    try {
      token = await this.#opts.getToken({ refresh: this.#refreshToken });
    } catch (cause) {
      if (gen !== this.#generation) return;
      this.#h.onError(new ClientError("token", `getToken() failed: ${errorText(cause)}`, { cause }));
      this.#abandon();
      this.#down({ code: CLIENT_CLOSE, reason: "Could not get a sign-in token." });
      return;
    }
    if (gen !== this.#generation) return;
    this.#refreshToken = false;

    let ws: WebSocket;
    try {
      ws = new this.#WS(this.wsUrl);
    } catch (cause) {
      this.#h.onError(new ClientError("fatal_close", `Cannot open ${this.wsUrl}: ${errorText(cause)}`, { cause }));
      this.#stopped = true;
      this.#clearTimers();
      this.#setState("disconnected", { error: new ClientError("fatal_close", `Cannot open ${this.wsUrl}.`, { cause }) });
      return;
    }
    this.#ws = ws;
    this.#authed = false;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      if (gen !== this.#generation) return;
      const resume = this.#h.resumeFrom();
      this.#send({ type: "auth", token, batch: true, ...(resume ? { resume } : {}) });
    });
    ws.addEventListener("message", (e) => {
      if (gen === this.#generation) this.#onMessage(ws, e.data);
    });
    ws.addEventListener("close", (e) => {
      if (gen !== this.#generation) return;
      this.#ws = null;
      this.#generation++;
      this.#down({ code: e.code, reason: e.reason });
    });
    ws.addEventListener("error", () => {
      if (gen !== this.#generation) return;
      if (!opened) {
        // A failed handshake: some implementations (Node's undici) never fire close for it.
        this.#abandon();
        this.#down({ code: 1006, reason: "Could not connect." });
        return;
      }
      // Close normally follows an error; if it does not, give up on the socket.
      setTimeout(() => {
        if (gen !== this.#generation) return;
        this.#abandon();
        this.#down({ code: 1006, reason: "Connection error." });
      }, 2000);
    });
  }

  #onMessage(ws: WebSocket, data: unknown): void {
    if (typeof data !== "string") {
      this.#h.onError(new ClientError("invalid_message", "Received a binary message; the protocol is JSON text.", { raw: data }));
      return;
    }
    // Anything from the server shows it is answering.
    this.#answered();
    if (data === PONG) {
      if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
      this.#pongTimer = null;
      return;
    }
    let json: any;
    try {
      json = JSON.parse(data);
    } catch {
      this.#h.onError(new ClientError("invalid_message", "Received a message that is not JSON; skipped.", { raw: data.slice(0, 200) }));
      return;
    }

    if (json?.type === "batch") {
      const parsed = BatchFrame.safeParse(json);
      if (!parsed.success) {
        this.#h.onError(new ClientError("invalid_message", `Skipped an invalid batch frame: ${issueText(parsed.error)}`, { raw: json }));
        return;
      }
      for (const event of parsed.data.events) this.#onEventJson(event);
      return;
    }

    if (json?.type === "event" || json?.type === "skip") return this.#onEventJson(json);

    if (json?.type === "ack" && json.event === "auth.ok") {
      const parsed = AuthOk.safeParse(json);
      if (!parsed.success) {
        this.#h.onError(new ClientError("invalid_message", `Invalid auth.ok: ${issueText(parsed.error)}`, { raw: json }));
        this.#abandon();
        this.#down({ code: CLIENT_CLOSE, reason: "Invalid auth answer." });
        return;
      }
      this.#onAuthOk(ws, parsed.data);
      return;
    }

    if (json?.type === "ack" && json.event === "error") {
      const parsed = ErrorAck.safeParse(json);
      if (parsed.success) {
        const { code, message } = parsed.data.payload;
        this.#h.onError(new ClientError("server_error", `Server: ${message}`, { code, raw: json }));
      } else {
        this.#h.onError(new ClientError("invalid_message", `Invalid error ack: ${issueText(parsed.error)}`, { raw: json }));
      }
      return;
    }

    if (json?.type === "signal") {
      const parsed = SignalEnvelope.safeParse(json);
      if (parsed.success) this.#h.onSignal?.(parsed.data);
      else this.#h.onError(new ClientError("invalid_message", `Skipped an invalid signal (${String(json.signal)}): ${issueText(parsed.error)}`, { raw: json }));
      return;
    }

    this.#h.onError(new ClientError("invalid_message", "Received a message of an unknown kind; skipped.", { raw: json }));
  }

  /**
   * Sends a client message on the open, authenticated socket (table calls use this). False when
   * there is none right now: the caller retries after the next `auth`.
   */
  send(message: ClientMessage): boolean {
    if (!this.#authed || !this.#ws || this.#ws.readyState !== this.#WS.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  /** One event, on its own or out of a batch frame: validated, applied, acknowledged. */
  #onEventJson(json: any): void {
    if (json?.type === "skip") return this.#onSkipJson(json);
    const parsed = EventEnvelope.safeParse(json);
    const seq = json?.seq;
    if (!parsed.success) {
      this.#h.onError(
        new ClientError("invalid_message", `Skipped an invalid event (${String(json?.event)} seq ${String(seq)}): ${issueText(parsed.error)}`, { raw: json }),
      );
      if (this.#authed && Number.isInteger(seq) && seq > 0) {
        this.#h.onSkipped(seq);
        this.#noteProcessed(seq);
      }
      return;
    }
    if (!this.#authed) {
      this.#h.onError(new ClientError("invalid_message", "Received an event before auth.ok; skipped.", { raw: json }));
      return;
    }
    const envelope = parsed.data as EventEnvelope;
    if (this.#h.onEvent(envelope)) this.#noteProcessed(envelope.seq);
  }

  /** A seq that is not for this player: nothing to apply, but it is processed (and acknowledged). */
  #onSkipJson(json: unknown): void {
    const parsed = SkipFrame.safeParse(json);
    if (!parsed.success) return this.#h.onError(new ClientError("invalid_message", `Invalid skip frame: ${issueText(parsed.error)}`, { raw: json }));
    if (!this.#authed) return;
    this.#h.onSkipped(parsed.data.seq);
    this.#noteProcessed(parsed.data.seq);
  }

  #onAuthOk(ws: WebSocket, ok: AuthOk): void {
    this.#authed = true;
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    this.#connectTimer = null;
    this.#scheduler.reset();
    this.#lastSeq = ok.seq;
    this.#unacked = 0;
    this.#pingTimer = setInterval(() => this.#ping(ws), this.#opts.pingIntervalMs);
    this.#h.onAuthOk(ok);
    this.#setState("open", { lastClose: null, error: null, nextAttemptAt: null, responsive: true });
  }

  #ping(ws: WebSocket): void {
    if (ws !== this.#ws || ws.readyState !== this.#WS.OPEN) return;
    ws.send(PING);
    if (this.#pongTimer !== null) return;
    const gen = this.#generation;
    this.#slowTimer = setTimeout(() => {
      this.#slowTimer = null;
      if (gen === this.#generation && this.#state.state === "open") this.#setState("open", { responsive: false });
    }, this.#opts.slowAfterMs);
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = null;
      if (gen !== this.#generation) return;
      this.#abandon();
      this.#down({ code: CLIENT_CLOSE, reason: "No answer to ping: connection lost." });
    }, this.#opts.pongTimeoutMs);
  }

  #answered(): void {
    if (this.#slowTimer !== null) clearTimeout(this.#slowTimer);
    this.#slowTimer = null;
    if (!this.#state.responsive && this.#state.state === "open") this.#setState("open", { responsive: true });
  }

  #noteProcessed(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, seq);
    // A random share of one more interval: a thousand clients then do not all ack the same event.
    this.#ackAfter ??= this.#opts.ackEvery + Math.floor(Math.random() * this.#opts.ackEvery);
    if (++this.#unacked >= this.#ackAfter) return this.#sendAck();
    if (this.#ackTimer === null) this.#ackTimer = setTimeout(() => this.#sendAck(), this.#opts.ackIntervalMs);
  }

  #sendAck(): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    if (this.#unacked === 0) return;
    this.#unacked = 0;
    this.#ackAfter = null;
    this.#send({ type: "ack", seq: this.#lastSeq });
  }

  #send(msg: ClientMessage): void {
    const ws = this.#ws;
    if (ws && ws.readyState === this.#WS.OPEN) ws.send(JSON.stringify(msg));
  }

  /** The socket is gone (or given up on): decide whether and when to try again. */
  #down(close: { code: number; reason: string }, opts: { immediate?: boolean } = {}): void {
    this.#clearTimers();
    this.#authed = false;
    if (this.#stopped) {
      this.#setState("disconnected", { lastClose: close, nextAttemptAt: null });
      return;
    }
    // Codes after which retrying as is cannot help: the app must act (sign in, fix config).
    const advice = CloseCodeAdvice[close.code as CloseCode];
    if (advice?.fatal) {
      const fatal = advice.message;
      this.#stopped = true;
      const error = new ClientError("fatal_close", `${fatal}${close.reason ? ` (${close.reason})` : ""}`, { code: close.code });
      this.#setState("disconnected", { lastClose: close, nextAttemptAt: null, error });
      this.#h.onError(error);
      return;
    }
    let immediate = opts.immediate ?? false;
    if (close.code === CloseCodes.TokenExpired) {
      this.#refreshToken = true;
      immediate = true;
    }
    const next = this.#scheduler.schedule(() => void this.#attempt(), { immediate });
    if (!next) {
      this.#stopped = true;
      const n = this.#scheduler.maxAttempts;
      const error = new ClientError("gave_up", `Could not reconnect after ${n} attempt${n === 1 ? "" : "s"}; call reconnect() to try again.`, {
        code: close.code,
      });
      this.#setState("disconnected", { lastClose: close, nextAttemptAt: null, error });
      this.#h.onError(error);
      return;
    }
    this.#setState("reconnecting", { lastClose: close, nextAttemptAt: next.at, attempt: next.attempt });
  }

  /** Detaches from the current socket (its callbacks become no-ops) and closes it. */
  #abandon(code = CLIENT_CLOSE, reason = "abandoned by client"): void {
    this.#generation++;
    this.#clearTimers();
    this.#authed = false;
    const ws = this.#ws;
    this.#ws = null;
    if (!ws) return;
    try {
      if (ws.readyState === this.#WS.CONNECTING || ws.readyState === this.#WS.OPEN) ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  #clearTimers(): void {
    if (this.#pingTimer !== null) clearInterval(this.#pingTimer);
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    if (this.#slowTimer !== null) clearTimeout(this.#slowTimer);
    if (this.#connectTimer !== null) clearTimeout(this.#connectTimer);
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#pingTimer = this.#pongTimer = this.#slowTimer = this.#connectTimer = this.#ackTimer = null;
    this.#unacked = 0;
  }

  #setState(state: ConnectionState, patch: Partial<Omit<StateChange, "state">> = {}): void {
    const attempt = state === "open" || state === "connecting" ? 0 : (patch.attempt ?? this.#scheduler.attempts);
    // Only an open connection can be unresponsive; any other state says enough by itself.
    const responsive = state === "open" ? (patch.responsive ?? this.#state.responsive) : true;
    this.#state = { ...this.#state, ...patch, state, attempt, responsive };
    this.#h.onState(this.#state);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function issueText(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  return i ? `${i.path.map(String).join(".") || "message"}: ${i.message}` : "invalid";
}
