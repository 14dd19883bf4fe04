/**
 * The subscriber registry: every socket of the guild with its state, indexed by user and by
 * table so that addressed signals do not scan every socket.
 *
 * State is the WebSocket's serialized attachment, so it survives hibernation, and is mirrored
 * in memory so a broadcast does not deserialize a thousand attachments. Hibernation tags are
 * fixed when a socket is accepted, before the client has authenticated or joined a table, so the
 * socket id is its only tag (as in partyserver); the user and table indexes are rebuilt from the
 * attachments when the object wakes.
 */
export interface Subscriber {
  /** Short id for logs; also the socket's hibernation tag. */
  id: string;
  connectedAt: number;
  /** Close with 4001 if still unauthenticated at this time. */
  authDeadline: number;
  /** Set once the auth message was verified. */
  userId: string | null;
  /** Unix ms the token expires (close 4004 then). */
  expiresAt: number | null;
  /** Highest seq the client acknowledged (or the seq it was in sync with when it authenticated). */
  ackedSeq: number;
  /** Last message from the client (pings answered by the runtime are tracked separately). */
  lastMessageAt: number;
  /** The client asked for batch frames at auth. */
  batch?: boolean;
  /** The table (voice channel id) whose call this socket is in, if any. */
  table?: string | null;
  /** This socket's place in that call (modules/tables); kept here so it survives hibernation. */
  peer?: TablePeer | null;
}

/** A socket's place in a table's call. */
export interface TablePeer {
  /** Opaque, given by the hub per socket and table. */
  peerId: string;
  role: "player" | "spectator";
  camera: boolean;
  joinedAt: number;
  /** Peers this one has a connection with: the pair's generation and whether this side offers. */
  pairs: Record<string, { gen: number; offerer: boolean }>;
}

export class SubscriberRegistry {
  private readonly states = new Map<WebSocket, Subscriber>();
  private readonly byUser = new Map<string, Set<WebSocket>>();
  private readonly byTable = new Map<string, Set<WebSocket>>();

  /**
   * Rebuilds the registry after the object woke from hibernation. Acks are kept in memory only (a
   * storage write per ack would cost more than the broadcasts), so after a wake every client is
   * taken to have processed everything up to `seq`: the object only hibernates once idle, and
   * nothing was sent while it slept.
   */
  constructor(sockets: WebSocket[], seq: number) {
    for (const ws of sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const state = ws.deserializeAttachment() as Subscriber | null;
      if (state) this.set(ws, state.userId ? { ...state, ackedSeq: Math.max(state.ackedSeq, seq) } : state);
    }
  }

  get size(): number {
    return this.states.size;
  }

  get(ws: WebSocket): Subscriber | undefined {
    return this.states.get(ws);
  }

  entries(): IterableIterator<[WebSocket, Subscriber]> {
    return this.states.entries();
  }

  /** Sockets of one user (their tabs and devices). */
  ofUser(userId: string): ReadonlySet<WebSocket> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  /** Sockets in one table's call. */
  atTable(channelId: string): ReadonlySet<WebSocket> {
    return this.byTable.get(channelId) ?? EMPTY;
  }

  /** Stores `state` for the socket, in memory and in its attachment. */
  save(ws: WebSocket, state: Subscriber): void {
    this.set(ws, state);
    ws.serializeAttachment(state);
  }

  /** Records an ack in memory only (see the constructor for why that is enough). */
  ack(ws: WebSocket, seq: number, now: number): void {
    const state = this.states.get(ws);
    if (state && seq > state.ackedSeq) {
      state.ackedSeq = seq;
      state.lastMessageAt = now;
    }
  }

  /** Forgets the socket; returns what it was. */
  delete(ws: WebSocket): Subscriber | undefined {
    const state = this.states.get(ws);
    if (!state) return undefined;
    this.states.delete(ws);
    this.unindex(ws, state);
    return state;
  }

  private set(ws: WebSocket, state: Subscriber): void {
    const previous = this.states.get(ws);
    if (previous) this.unindex(ws, previous);
    this.states.set(ws, state);
    if (state.userId) addTo(this.byUser, state.userId, ws);
    if (state.table) addTo(this.byTable, state.table, ws);
  }

  private unindex(ws: WebSocket, state: Subscriber): void {
    if (state.userId) removeFrom(this.byUser, state.userId, ws);
    if (state.table) removeFrom(this.byTable, state.table, ws);
  }
}

const EMPTY: ReadonlySet<WebSocket> = new Set();

function addTo(index: Map<string, Set<WebSocket>>, key: string, ws: WebSocket): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(ws);
}

function removeFrom(index: Map<string, Set<WebSocket>>, key: string, ws: WebSocket): void {
  const set = index.get(key);
  set?.delete(ws);
  if (set?.size === 0) index.delete(key);
}
