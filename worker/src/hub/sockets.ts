/**
 * Per-socket state, kept as the WebSocket's serialized attachment so it survives hibernation,
 * and mirrored in a Map so a broadcast does not deserialize a thousand attachments.
 */
export interface SocketState {
  /** Short id for logs. */
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
}

export class SocketRegistry {
  readonly #states = new Map<WebSocket, SocketState>();

  /**
   * Rebuilds the map after the object woke from hibernation. Acks are kept in memory only (a
   * storage write per ack would cost more than the broadcasts), so after a wake every client is
   * taken to have processed everything up to `seq`: the object only hibernates once idle, and
   * nothing was sent while it slept.
   */
  constructor(sockets: WebSocket[], seq: number) {
    for (const ws of sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const state = ws.deserializeAttachment() as SocketState | null;
      if (state) this.#states.set(ws, state.userId ? { ...state, ackedSeq: Math.max(state.ackedSeq, seq) } : state);
    }
  }

  get size(): number {
    return this.#states.size;
  }

  get(ws: WebSocket): SocketState | undefined {
    return this.#states.get(ws);
  }

  entries(): IterableIterator<[WebSocket, SocketState]> {
    return this.#states.entries();
  }

  /** Stores `state` for the socket, in memory and in its attachment. */
  save(ws: WebSocket, state: SocketState): void {
    this.#states.set(ws, state);
    ws.serializeAttachment(state);
  }

  /** Records an ack in memory only (see the constructor for why that is enough). */
  ack(ws: WebSocket, seq: number, now: number): void {
    const state = this.#states.get(ws);
    if (state && seq > state.ackedSeq) {
      state.ackedSeq = seq;
      state.lastMessageAt = now;
    }
  }

  delete(ws: WebSocket): void {
    this.#states.delete(ws);
  }

  /**
   * Closes with an application code. Codes 1005/1006/1015 must never be sent and reasons over
   * 123 bytes throw in workerd, so reasons are trimmed; a socket already gone is just forgotten.
   */
  close(ws: WebSocket, code: number, reason: string): void {
    this.#states.delete(ws);
    try {
      ws.close(code, truncateUtf8(reason, 123));
    } catch {
      // already closed by the peer
    }
  }
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  return new TextDecoder().decode(bytes.slice(0, maxBytes)).replace(/\uFFFD$/, "");
}
