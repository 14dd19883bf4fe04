/// <reference lib="dom" />
/**
 * A table's board-video call, in the browser: one WebRTC connection per other player (a mesh of
 * at most 4 players, plus receive-only spectators), the hub relaying the signalling over the
 * client's `/api/ws` (ARCHITECTURE.md, "Table signalling"; the seed's video API in browser form).
 *
 *   const call = new TableCall(client, channelId, { camera: stream });
 *   call.on("video", (peerId, stream) => tile(peerId).srcObject = stream);  // null: gone
 *   await call.join();
 *   call.sendVideo(otherStream);  // switch or stop (null) the camera without renegotiating
 *
 * Recovery follows the hub's roles: only the offerer of a pair rebuilds it (failed, not
 * connected 10 s after it was set up, or disconnected for 7 s), as a new generation, with backoff.
 * A dropped hub socket does not touch media already flowing; when the client is back, the call
 * joins again and the hub sets the pairs up anew.
 */
import type { SignalEnvelope, SignalPayload, TablePeer as TablePeerSchema } from "@spell-coven/common";
import type { z } from "zod";
import { ClientError, TypedEmitter } from "./events.ts";
import type { SpellCovenClient } from "./index.ts";
import { PeerLink } from "./peer-link.ts";

export type TablePeer = z.infer<typeof TablePeerSchema>;

export interface TableCallOptions {
  /** The local camera; null or absent: join without sending (start later with sendVideo). */
  camera?: MediaStream | null;
  /** Codec preference. Default VP8, then H.264, then VP9 (rtx/red/ulpfec always kept). */
  codecs?: readonly string[];
  /** Per-stream bitrate cap in bit/s. Default 1,200,000 (a board is detail, not motion). */
  maxBitrate?: number;
  /** Default 15. */
  maxFramerate?: number;
  /** Halve the sent resolution and cap the bitrate at a third. */
  dataSaver?: boolean;
  /** ICE servers; default: asked of the Worker (`GET /api/rtc/ice-servers`) and refreshed before they expire. */
  iceServers?: RTCIceServer[];
  /** For tests and other runtimes. */
  RTCPeerConnection?: typeof RTCPeerConnection;
}

export interface PeerQuality {
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  /** Received video bitrate since the last call, kbit/s. */
  kbps: number | null;
  packetsLost: number;
  rttMs: number | null;
  framesDecoded: number;
  /** What limits what this side sends to that peer (`none`, `bandwidth`, `cpu`). */
  limitedBy: string | null;
  /** The encoder's target for what this side sends to that peer, bit/s (under the cap). */
  targetBitrate: number | null;
}

export type TableCallEvents = {
  /** A peer's board video started (a stream) or ended (null). */
  video: [peerId: string, stream: MediaStream | null];
  /** Who is at the table changed (you included). */
  participants: [peers: TablePeer[]];
  /** A pair's connection state. */
  peerState: [peerId: string, state: RTCPeerConnectionState];
  /** Getting into the table's voice channel (moved by the bot, waiting for you to join, failed). */
  voice: [status: SignalPayload<"table.voice">];
  /** Someone at the table is speaking (from the table bot). */
  speaking: [payload: SignalPayload<"voice.speaking">];
  /** You are out of the call: left, replaced by another tab, seat given up, or the table ended. */
  left: [];
  error: [error: ClientError];
};

const DEFAULT_CODECS = ["video/VP8", "video/H264", "video/VP9"] as const;
const CONNECT_TIMEOUT_MS = 10_000;
const DISCONNECTED_GRACE_MS = 7_000;
const MIN_BITRATE = 300_000;

export class TableCall extends TypedEmitter<TableCallEvents> {
  readonly channelId: string;
  readonly #client: SpellCovenClient;
  readonly #opts: TableCallOptions;
  #you: string | null = null;
  #peers: TablePeer[] = [];
  readonly #links = new Map<string, PeerLink>();
  readonly #watch = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #resets = new Map<string, number>();
  readonly #lastBytes = new Map<string, { bytes: number; at: number }>();
  #track: MediaStreamTrack | null;
  #iceServers: RTCIceServer[] = [];
  #iceTimer: ReturnType<typeof setTimeout> | null = null;
  #qualityTimer: ReturnType<typeof setInterval> | null = null;
  #bitrate: number;
  #joined = false;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(client: SpellCovenClient, channelId: string, opts: TableCallOptions = {}) {
    super();
    this.#client = client;
    this.#opts = opts;
    this.channelId = channelId;
    this.#track = firstVideo(opts.camera);
    this.#bitrate = opts.dataSaver ? Math.round((opts.maxBitrate ?? 1_200_000) / 3) : (opts.maxBitrate ?? 1_200_000);
  }

  /** Your own peer id at this table (after joining). */
  get you(): string | null {
    return this.#you;
  }

  /** Who is at the table, you included. */
  get participants(): readonly TablePeer[] {
    return this.#peers;
  }

  /** The connection state of each pair. */
  peerStates(): Record<string, RTCPeerConnectionState> {
    return Object.fromEntries([...this.#links].map(([id, link]) => [id, link.pc.connectionState]));
  }

  /** Joins the call (again after every reconnect of the client, until `leave()`). */
  async join(): Promise<void> {
    if (this.#joined) return;
    this.#joined = true;
    if (this.#opts.iceServers) this.#iceServers = this.#opts.iceServers;
    else await this.#refreshIceServers();
    this.#unsubscribe.push(this.#client.on("signal", (s) => this.#onSignal(s)));
    // A new socket after a reconnect: the hub forgot this one's place, so join again.
    this.#unsubscribe.push(this.#client.on("auth", () => this.#sendJoin()));
    this.#sendJoin();
    this.#qualityTimer = setInterval(() => void this.#adaptQuality(), 4_000);
  }

  /** Leaves the call and closes every connection. */
  leave(): void {
    if (!this.#joined) return;
    this.#client.send({ type: "table.leave", channelId: this.channelId });
    this.#stop();
  }

  /** Starts, switches or stops (null) your board video, on every connection, without renegotiating. */
  sendVideo(stream: MediaStream | null): void {
    this.#track = firstVideo(stream);
    if (this.#track) this.#track.contentHint = "detail";
    for (const link of this.#links.values()) link.setTrack(this.#track);
  }

  /** Calls `callback` with each peer's board video (a stream, or null when it ends). */
  onVideo(callback: (peerId: string, stream: MediaStream | null) => void): () => void {
    return this.on("video", callback);
  }

  /** Codec, resolution, frame rate, bitrate, loss and round-trip time of one peer's video. */
  async quality(peerId: string): Promise<PeerQuality | null> {
    const link = this.#links.get(peerId);
    if (!link) return null;
    const stats = await link.pc.getStats();
    const q: PeerQuality = {
      codec: null,
      width: null,
      height: null,
      fps: null,
      kbps: null,
      packetsLost: 0,
      rttMs: null,
      framesDecoded: 0,
      limitedBy: null,
      targetBitrate: null,
    };
    stats.forEach((r: any) => {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        q.codec = (stats as unknown as Map<string, { mimeType?: string }>).get(r.codecId)?.mimeType ?? null;
        q.width = r.frameWidth ?? null;
        q.height = r.frameHeight ?? null;
        q.fps = r.framesPerSecond ?? null;
        q.packetsLost = r.packetsLost ?? 0;
        q.framesDecoded = r.framesDecoded ?? 0;
        const last = this.#lastBytes.get(peerId);
        if (last && r.timestamp > last.at) q.kbps = Math.round(((r.bytesReceived - last.bytes) * 8) / (r.timestamp - last.at));
        this.#lastBytes.set(peerId, { bytes: r.bytesReceived ?? 0, at: r.timestamp });
      } else if (r.type === "outbound-rtp" && r.kind === "video") {
        q.limitedBy = r.qualityLimitationReason ?? null;
        q.targetBitrate = r.targetBitrate ?? null;
      } else if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") {
        q.rttMs = r.currentRoundTripTime === undefined ? null : Math.round(r.currentRoundTripTime * 1000);
      }
    });
    return q;
  }

  // ---- signalling -----------------------------------------------------------------------------

  #sendJoin(): void {
    if (this.#joined) this.#client.send({ type: "table.join", channelId: this.channelId, camera: this.#track !== null });
  }

  #onSignal(s: SignalEnvelope): void {
    if (!("channelId" in s.payload) || s.payload.channelId !== this.channelId) return;
    switch (s.signal) {
      case "table.state":
        return this.#onState(s.payload);
      case "rtc.connect":
        return this.#connect(s.payload.peer, s.payload.role, s.payload.gen);
      case "rtc.signal": {
        const link = this.#links.get(s.payload.from);
        // Signals of an older generation belong to a connection already replaced.
        if (!link || link.gen !== s.payload.gen) return;
        return link.receive({
          ...(s.payload.description ? { description: s.payload.description } : {}),
          ...(s.payload.candidate !== undefined ? { candidate: s.payload.candidate } : {}),
        });
      }
      case "rtc.reset": {
        const link = this.#links.get(s.payload.from);
        if (link && s.payload.gen > link.gen) this.#connect(s.payload.from, "answerer", s.payload.gen);
        return;
      }
      case "table.left":
        if (s.payload.peerId === this.#you) {
          this.#stop();
          this.emit("left");
        } else this.#drop(s.payload.peerId);
        return;
      case "table.voice":
        return void this.emit("voice", s.payload);
      case "voice.speaking":
        return void this.emit("speaking", s.payload);
    }
  }

  #onState(state: SignalPayload<"table.state">): void {
    if (this.#you !== null && state.you !== this.#you) {
      // A new place at the table (after a reconnect): the old pairs are the hub's no longer.
      for (const id of [...this.#links.keys()]) this.#drop(id);
    }
    this.#you = state.you;
    this.#peers = state.peers;
    this.emit("participants", state.peers);
  }

  #connect(peerId: string, role: "offerer" | "answerer", gen: number): void {
    this.#links.get(peerId)?.close();
    const me = this.#peers.find((p) => p.peerId === this.#you);
    const link = new PeerLink({
      peerId,
      role,
      gen,
      receiveOnly: me?.role === "spectator",
      track: this.#track,
      iceServers: this.#iceServers,
      codecs: this.#opts.codecs ?? DEFAULT_CODECS,
      maxBitrate: this.#bitrate,
      maxFramerate: this.#opts.maxFramerate ?? 15,
      scaleDown: this.#opts.dataSaver ? 2 : 1,
      send: (m) => this.#client.send({ type: "rtc.signal", to: peerId, gen, ...m }),
      onTrack: (stream) => this.emit("video", peerId, stream),
      onState: (state) => this.#onPeerState(peerId, state),
      onError: (message) => this.emit("error", new ClientError("table_call", message)),
      RTCPeerConnection: this.#opts.RTCPeerConnection ?? globalThis.RTCPeerConnection,
    });
    this.#links.set(peerId, link);
    this.#arm(peerId, CONNECT_TIMEOUT_MS);
  }

  #onPeerState(peerId: string, state: RTCPeerConnectionState): void {
    this.emit("peerState", peerId, state);
    if (state === "connected") {
      this.#disarm(peerId);
      this.#resets.delete(peerId);
    } else if (state === "failed") this.#rebuild(peerId);
    else if (state === "disconnected") this.#arm(peerId, DISCONNECTED_GRACE_MS);
  }

  /** Only the offerer rebuilds a pair, after `ms` without a connection. */
  #arm(peerId: string, ms: number): void {
    this.#disarm(peerId);
    this.#watch.set(
      peerId,
      setTimeout(() => this.#rebuild(peerId), ms),
    );
  }

  #disarm(peerId: string): void {
    const t = this.#watch.get(peerId);
    if (t !== undefined) clearTimeout(t);
    this.#watch.delete(peerId);
  }

  #rebuild(peerId: string): void {
    const link = this.#links.get(peerId);
    if (link?.role !== "offerer" || link.pc.connectionState === "connected") return;
    const attempt = (this.#resets.get(peerId) ?? 0) + 1;
    this.#resets.set(peerId, attempt);
    const delay = Math.min(30_000, 1000 * 2 ** (attempt - 1));
    this.#disarm(peerId);
    this.#watch.set(
      peerId,
      setTimeout(() => {
        const current = this.#links.get(peerId);
        if (!current || current.pc.connectionState === "connected") return;
        const gen = current.gen + 1;
        if (this.#client.send({ type: "rtc.reset", to: peerId, gen })) this.#connect(peerId, "offerer", gen);
        else this.#arm(peerId, CONNECT_TIMEOUT_MS);
      }, delay),
    );
  }

  #drop(peerId: string): void {
    this.#disarm(peerId);
    this.#links.get(peerId)?.close();
    this.#links.delete(peerId);
    this.#resets.delete(peerId);
  }

  #stop(): void {
    this.#joined = false;
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const id of [...this.#links.keys()]) this.#drop(id);
    if (this.#iceTimer) clearTimeout(this.#iceTimer);
    if (this.#qualityTimer) clearInterval(this.#qualityTimer);
    this.#you = null;
  }

  // ---- ICE servers and quality ------------------------------------------------------------------

  async #refreshIceServers(): Promise<void> {
    try {
      const result = await this.#client.api.iceServers(this.channelId);
      this.#iceServers = result.iceServers;
      for (const link of this.#links.values()) link.setIceServers(result.iceServers);
      if (result.expiresAt !== null) {
        // Renew well before they expire; calls already connected keep working either way.
        const inMs = Math.max(60_000, result.expiresAt - Date.now() - 10 * 60_000);
        this.#iceTimer = setTimeout(() => void this.#refreshIceServers(), inMs);
      }
    } catch (err) {
      this.emit(
        "error",
        new ClientError("table_call", `Could not get ICE servers; trying without: ${err instanceof Error ? err.message : String(err)}`, { cause: err }),
      );
    }
  }

  /** Lowers the cap when the browser says bandwidth or CPU is short; raises it back when not. */
  async #adaptQuality(): Promise<void> {
    let limited = false;
    for (const link of this.#links.values()) {
      const stats = await link.pc.getStats().catch(() => null);
      stats?.forEach((r: any) => {
        if (r.type === "outbound-rtp" && r.kind === "video" && (r.qualityLimitationReason === "bandwidth" || r.qualityLimitationReason === "cpu"))
          limited = true;
      });
    }
    const cap = this.#opts.dataSaver ? Math.round((this.#opts.maxBitrate ?? 1_200_000) / 3) : (this.#opts.maxBitrate ?? 1_200_000);
    const next = limited ? Math.max(MIN_BITRATE, Math.round(this.#bitrate * 0.75)) : Math.min(cap, Math.round(this.#bitrate * 1.1));
    if (next === this.#bitrate) return;
    this.#bitrate = next;
    for (const link of this.#links.values()) link.setMaxBitrate(next);
  }
}

function firstVideo(stream: MediaStream | null | undefined): MediaStreamTrack | null {
  const track = stream?.getVideoTracks()[0] ?? null;
  if (track) track.contentHint = "detail";
  return track;
}
