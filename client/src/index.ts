/**
 * SpellCovenClient: what a web app uses. One live connection to `/api/ws` (typed events, presence
 * equal to the server's view through reconnects and resumes), the rooms API, the guild's rooms
 * kept current, and the player's own voice dropout.
 *
 *   const client = new SpellCovenClient({ url: "https://gateway.example", getToken: ({ refresh }) => auth.token(refresh) });
 *   client.on("voice.joined", (p) => console.log(p.userId, "joined", p.channelId));
 *   client.on("state", (s) => banner.show(s.state));
 *   client.connect();
 */
import type { AuthOk, ClientMessage, CreateRoomRequest, EventEnvelope, Invite, JoinRoomResult, LeaveRoomResult, Room } from "@spell-coven/common";
import { EventNames } from "@spell-coven/common";
import { Connection, type ConnectionHandlers, type ConnectionOptions } from "./connection.ts";
import { SseConnection } from "./sse-connection.ts";
import { DropoutDetector, type DropoutStatus } from "./dropout.ts";
import { ClientError, TypedEmitter, type ClientEvents, type ConnectionState, type Presence, type StateChange } from "./events.ts";
import { PresenceStore, type VoiceFlagsView } from "./presence.ts";
import { RoomsApi, RoomsApiError, type EndRoomResult } from "./rooms-api.ts";
import { RoomsState } from "./rooms-state.ts";
import { StoreListeners } from "./store-listeners.ts";

// What an app needs: the client, its errors, and the types of what it hands out. The building
// blocks (Connection, ReconnectScheduler, RoomsState...) stay internal.
export type { ConnectionOptions, TokenProvider } from "./connection.ts";
export type { BackoffOptions } from "./reconnect.ts";
export { muteState, type PresenceStore, type VoiceFlagsView } from "./presence.ts";
export type { DropoutStatus } from "./dropout.ts";
export { ClientError, type ClientErrorKind, type ClientEvents, type ConnectionState, type StateChange, type Presence, type DropoutInfo } from "./events.ts";
export { RoomsApiError, type RoomsApi, type EndRoomResult } from "./rooms-api.ts";
export type {
  Room,
  Invite,
  JoinRoomResult,
  LeaveRoomResult,
  CreateRoomRequest,
  AuthOk,
  EventEnvelope,
  EventName,
  EventPayload,
  VoiceFlags,
} from "@spell-coven/common";
/** The longest text a player may write in a table's chat (Discord's 2000, less the prefix that names them there). */
export { MAX_SITE_MESSAGE_CONTENT } from "@spell-coven/common";
export {
  TableChat,
  compareSnowflakes,
  type TableChatClient,
  type TableChatOptions,
  type TableChatSnapshot,
  type ChatLine,
  type ChatHistoryState,
  type ChatCommandState,
  type ChatCommandStatus,
  type ReactionView,
} from "./table-chat.ts";
export { TableCall, type TableCallOptions, type TableCallEvents, type TablePeer, type PeerQuality } from "./table-call.ts";

export interface SpellCovenClientOptions extends Omit<ConnectionOptions, "url"> {
  /** The Worker's base URL; default the page's origin in a browser. */
  url?: string;
  fetch?: typeof fetch;
  /** Load the rooms list after each (re)connect and keep it current. Default true. */
  trackRooms?: boolean;
  /**
   * `websocket`, `sse` (the same events over `/api/stream`, receive only: no table calls), or
   * `auto` (default): the WebSocket where the runtime has one, else SSE.
   */
  transport?: "websocket" | "sse" | "auto";
  /** EventSource implementation for the SSE transport; default the global one. */
  EventSource?: typeof EventSource;
}

/** Everything a UI renders, as one immutable value (the same object until something changes). */
export interface ClientSnapshot {
  state: ConnectionState;
  connection: StateChange;
  userId: string | null;
  guildId: string | null;
  presence: Presence;
  /** Who in voice is muted or deafened in Discord (userId -> flags; users with none are left out). */
  voiceFlags: VoiceFlagsView;
  /** null until the first list has loaded (or with trackRooms: false). */
  rooms: readonly Room[] | null;
  /** False while the server has not answered a keep-alive ping for a few seconds (see StateChange.responsive). */
  responsive: boolean;
  /** The room the player is in (set by createRoom/joinRoom or setCurrentRoom). */
  currentRoom: string | null;
  dropout: DropoutStatus;
}

export class SpellCovenClient extends TypedEmitter<ClientEvents> {
  readonly api: RoomsApi;
  readonly presence = new PresenceStore();
  readonly #connection: Connection | SseConnection;
  readonly #dropout = new DropoutDetector();
  readonly #rooms = new RoomsState();
  /** Rooms deleted during this session: a list fetched before the deletion must not resurrect them. */
  readonly #deleted = new Set<string>();
  readonly #trackRooms: boolean;
  readonly #subscribers = new StoreListeners("a subscriber");
  #snapshot: ClientSnapshot | null = null;
  #auth: AuthOk | null = null;
  #roomsRequest = 0;
  #dropoutCheckQueued = false;
  #roomsReload: ReturnType<typeof setTimeout> | null = null;

  constructor(opts: SpellCovenClientOptions) {
    super();
    const url = opts.url ?? (globalThis as { location?: { origin: string } }).location?.origin;
    if (!url) throw new Error("SpellCovenClient needs options.url outside a browser.");
    this.#trackRooms = opts.trackRooms ?? true;
    this.api = new RoomsApi({ baseUrl: url, getToken: opts.getToken, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
    const handlers: ConnectionHandlers = {
      resumeFrom: () => this.presence.cursor ?? undefined,
      onAuthOk: (ok) => this.#onAuthOk(ok),
      onEvent: (env) => this.#onEvent(env),
      onSkipped: (seq) => {
        if (this.presence.check(seq) === "next") this.presence.skip(seq);
      },
      onState: (change) => {
        this.#changed();
        this.emit("state", change);
      },
      onError: (err) => this.emit("error", err),
      onSignal: (signal) => this.emit("signal", signal),
    };
    const hasWebSocket = Boolean(opts.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket);
    const transport = opts.transport ?? "auto";
    this.#connection =
      transport === "sse" || (transport === "auto" && !hasWebSocket)
        ? new SseConnection({ ...opts, url, ...(opts.fetch ? { fetch: opts.fetch } : {}) }, handlers, EventNames)
        : new Connection({ ...opts, url }, handlers);
  }

  /** Sends a client message (table calls); false while not connected and authenticated. */
  send(message: ClientMessage): boolean {
    return this.#connection.send(message);
  }

  // ---- connection ------------------------------------------------------------------------------

  get state(): ConnectionState {
    return this.#connection.state.state;
  }

  get connectionState(): StateChange {
    return this.#connection.state;
  }

  /** The signed-in player's id, once authenticated. */
  get userId(): string | null {
    return this.#auth?.userId ?? null;
  }

  get guildId(): string | null {
    return this.#auth?.guildId ?? null;
  }

  connect(): void {
    this.#connection.connect();
  }

  /** Try now: after the automatic attempts ran out, or to skip a backoff wait. Resumes when it can. */
  reconnect(): void {
    this.#connection.reconnect();
  }

  /** Pings the server now, so an unanswering server shows (`responsive: false`) without waiting for the next keep-alive. */
  checkConnection(): void {
    this.#connection.check();
  }

  close(): void {
    if (this.#roomsReload !== null) clearTimeout(this.#roomsReload);
    this.#roomsReload = null;
    this.#connection.close();
  }

  // ---- rooms -----------------------------------------------------------------------------------

  /** The guild's rooms with live voice members (null until loaded). */
  get rooms(): readonly Room[] | null {
    return this.#rooms.loaded ? this.#rooms.list(this.presence) : null;
  }

  async refreshRooms(): Promise<readonly Room[]> {
    const id = ++this.#roomsRequest;
    const list = await this.api.listRooms();
    if (id === this.#roomsRequest) {
      this.#rooms.setAll(list.filter((r) => !this.#deleted.has(r.channelId)));
      this.#changed();
    }
    return this.#rooms.list(this.presence);
  }

  async createRoom(req: CreateRoomRequest = {}, opts: { idempotencyKey?: string } = {}): Promise<Room> {
    const room = await this.api.createRoom(req, opts);
    this.#rooms.upsert(room);
    this.setCurrentRoom(room.channelId);
    return room;
  }

  async joinRoom(channelId: string, opts: { invite?: string } = {}): Promise<JoinRoomResult> {
    const result = await this.api.joinRoom(channelId, opts);
    this.#rooms.upsert(result.room);
    this.setCurrentRoom(result.room.channelId);
    return result;
  }

  /** Gives up the player's seat at this table; they are then in no room (no dropout notice). */
  async leaveRoom(channelId: string): Promise<LeaveRoomResult> {
    const result = await this.api.leaveRoom(channelId);
    this.#rooms.upsert(result.room);
    if (this.#dropout.room === channelId) this.setCurrentRoom(null);
    else this.#changed();
    return result;
  }

  createInvite(channelId: string): Promise<Invite> {
    return this.api.createInvite(channelId);
  }

  async endRoom(channelId: string): Promise<EndRoomResult> {
    const result = await this.api.endRoom(channelId);
    // Leaving voice because the room ended is not a dropout.
    if (this.#dropout.room === channelId) this.setCurrentRoom(null);
    this.#deleted.add(channelId);
    this.#rooms.remove(channelId);
    this.#changed();
    return result;
  }

  /** The room the player is in, for the dropout notice (createRoom/joinRoom set it). */
  setCurrentRoom(channelId: string | null): void {
    const userId = this.userId;
    this.#dropout.setRoom(channelId, userId ? this.presence.channelOf(userId) : null);
    this.#changed();
  }

  get currentRoom(): string | null {
    return this.#dropout.room;
  }

  get dropoutStatus(): DropoutStatus {
    return this.#dropout.status;
  }

  // ---- external store (React's useSyncExternalStore and friends) --------------------------------

  readonly subscribe = (listener: () => void): (() => void) => this.#subscribers.subscribe(listener);

  readonly getSnapshot = (): ClientSnapshot => {
    this.#snapshot ??= Object.freeze({
      state: this.#connection.state.state,
      connection: this.#connection.state,
      responsive: this.#connection.state.responsive,
      userId: this.userId,
      guildId: this.guildId,
      presence: this.presence.toJSON(),
      voiceFlags: this.presence.flagsJSON(),
      rooms: this.rooms,
      currentRoom: this.#dropout.room,
      dropout: this.#dropout.status,
    });
    return this.#snapshot;
  };

  // ---- internals -------------------------------------------------------------------------------

  protected override onListenerError(name: keyof ClientEvents, err: unknown): void {
    if (name === "error") return super.onListenerError(name, err);
    this.emit("error", new ClientError("listener", `A "${String(name)}" listener threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
  }

  #onAuthOk(ok: AuthOk): void {
    this.#auth = ok;
    this.#dropout.setUser(ok.userId);
    const changed = this.presence.applyAuth(ok);
    if (changed) this.#rooms.invalidate();
    this.#changed();
    this.emit("auth", ok);
    this.#presenceChanged(changed);
    if (this.#trackRooms) this.#reloadRooms(0);
  }

  #onEvent(env: EventEnvelope): boolean {
    const verdict = this.presence.check(env.seq);
    if (verdict === "duplicate") return true;
    if (verdict === "gap") {
      const at = this.presence.cursor?.seq ?? 0;
      this.emit("error", new ClientError("gap", `Missed events after seq ${at} (got ${env.seq}); reconnecting to resume.`, { code: env.seq }));
      this.#connection.forceReconnect(`gap after seq ${at}`);
      return false;
    }
    const presenceChanged = this.presence.apply(env);
    if (presenceChanged) this.#rooms.invalidate();
    switch (env.event) {
      case "room.created":
        if (this.#trackRooms) this.#reloadRooms(150);
        break;
      case "room.deleted": {
        const { channelId } = (env as EventEnvelope<"room.deleted">).payload;
        this.#deleted.add(channelId);
        this.#rooms.remove(channelId);
        if (this.#dropout.room === channelId) this.#dropout.setRoom(null, null);
        break;
      }
      case "room.closing": {
        const p = (env as EventEnvelope<"room.closing">).payload;
        this.#rooms.setClosing(p.channelId, p.closesAt);
        break;
      }
      case "room.closing.cancelled":
        this.#rooms.setClosing((env as EventEnvelope<"room.closing.cancelled">).payload.channelId, null);
        break;
      case "room.seated": {
        const p = (env as EventEnvelope<"room.seated">).payload;
        this.#rooms.addMember(p.channelId, p.userId);
        break;
      }
      case "room.unseated": {
        const p = (env as EventEnvelope<"room.unseated">).payload;
        this.#rooms.removeMember(p.channelId, p.userId);
        // Unseated elsewhere (another tab, or a seat taken at another table): no dropout for it.
        if (p.userId === this.userId && this.#dropout.room === p.channelId) this.#dropout.setRoom(null, null);
        break;
      }
    }
    this.#changed();
    (this.emit as (name: string, ...args: unknown[]) => void)(env.event, env.payload, env);
    this.emit("event", env);
    if (presenceChanged) this.#presenceChanged(true);
    return true;
  }

  #presenceChanged(emitPresence: boolean): void {
    if (emitPresence) this.emit("presence", this.presence.toJSON());
    if (this.#dropoutCheckQueued) return;
    // Judged once the whole frame is applied: a move arrives as voice.left then voice.joined in
    // one batch frame, and the notice should say where the player went, not "out of voice".
    this.#dropoutCheckQueued = true;
    queueMicrotask(() => {
      this.#dropoutCheckQueued = false;
      const userId = this.userId;
      const before = this.#dropout.status;
      const change = this.#dropout.update(userId ? this.presence.channelOf(userId) : null);
      // "waiting" -> "in-voice" reports nothing but is a change of the snapshot all the same.
      if (this.#dropout.status !== before) this.#changed();
      if (!change) return;
      if (change.kind === "dropout") this.emit("dropout", change.info);
      else this.emit("rejoined", { channelId: change.channelId });
    });
  }

  #reloadRooms(delayMs: number): void {
    if (this.#roomsReload !== null) clearTimeout(this.#roomsReload);
    this.#roomsReload = setTimeout(() => {
      this.#roomsReload = null;
      this.refreshRooms().catch((err: unknown) => {
        const message = err instanceof RoomsApiError ? `${err.code}: ${err.message}` : String(err);
        this.emit("error", new ClientError("rooms", `Could not load the rooms: ${message}`, { cause: err }));
      });
    }, delayMs);
  }

  #changed(): void {
    this.#snapshot = null;
    this.#subscribers.notify();
  }
}
