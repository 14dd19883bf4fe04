/// <reference lib="dom" />
/**
 * One WebRTC connection of a table call, to one peer, in one generation. The hub decided who
 * offers (`role`); this side follows it strictly, which is what worked in Chromium 156 where
 * symmetric "perfect negotiation" left dead links (../shared/research/webrtc-sse-facts.md §3.1).
 *
 * Offerer: adds its video transceiver (sendrecv, with the camera track or none yet), prefers
 * the codecs, sets the bitrate cap and sends the offer. Answerer: on the offer, takes the offered
 * transceiver, attaches its camera with replaceTrack, prefers the same codecs (the answerer's list
 * decides), answers. Candidates that arrive before the description wait in a queue. Everything
 * for one link runs in order on one promise chain.
 */
import type { IceCandidate, SessionDescription } from "@spell-coven/common";

export interface PeerLinkOptions {
  peerId: string;
  role: "offerer" | "answerer";
  gen: number;
  /** This side only receives (a spectator). */
  receiveOnly: boolean;
  track: MediaStreamTrack | null;
  iceServers: RTCIceServer[];
  /** Video codec mime types in order of preference; others are dropped, rtx/red/ulpfec kept. */
  codecs: readonly string[];
  maxBitrate: number;
  maxFramerate: number;
  /** Scale the sent resolution down by this factor (data saver: 2). */
  scaleDown: number;
  send(message: { description?: SessionDescription; candidate?: IceCandidate | null }): void;
  onTrack(stream: MediaStream | null): void;
  onState(state: RTCPeerConnectionState): void;
  onError(message: string): void;
  RTCPeerConnection: typeof RTCPeerConnection;
}

/** Codecs that repair or protect others: kept whatever the preference. */
const HELPERS = new Set(["video/rtx", "video/red", "video/ulpfec", "video/flexfec-03"]);

/** The receiver's codecs ordered by `preferred` (unlisted media codecs dropped), helpers kept. */
export function orderCodecs(available: RTCRtpCodec[], preferred: readonly string[]): RTCRtpCodec[] {
  const rank = (c: RTCRtpCodec) => preferred.findIndex((m) => m.toLowerCase() === c.mimeType.toLowerCase());
  const media = available.filter((c) => rank(c) >= 0).sort((a, b) => rank(a) - rank(b));
  return [...media, ...available.filter((c) => HELPERS.has(c.mimeType.toLowerCase()))];
}

export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly peerId: string;
  readonly gen: number;
  readonly role: "offerer" | "answerer";
  #queue: Promise<void> = Promise.resolve();
  #pendingCandidates: (IceCandidate | null)[] = [];
  #transceiver: RTCRtpTransceiver | null = null;
  #closed = false;
  readonly #opts: PeerLinkOptions;

  constructor(opts: PeerLinkOptions) {
    this.#opts = opts;
    this.peerId = opts.peerId;
    this.gen = opts.gen;
    this.role = opts.role;
    this.pc = new opts.RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: opts.iceServers });
    this.pc.onicecandidate = (e) => opts.send({ candidate: e.candidate ? (e.candidate.toJSON() as IceCandidate) : null });
    this.pc.ontrack = (e) => opts.onTrack(e.streams[0] ?? new MediaStream([e.track]));
    this.pc.onconnectionstatechange = () => opts.onState(this.pc.connectionState);
    if (opts.role === "offerer") this.#run(() => this.#offer());
  }

  /** A description or candidate from the peer. */
  receive(message: { description?: SessionDescription; candidate?: IceCandidate | null }): void {
    this.#run(async () => {
      if (message.description) {
        if (message.description.type === "offer") await this.#answer(message.description);
        else await this.pc.setRemoteDescription(message.description);
        for (const c of this.#pendingCandidates.splice(0)) await this.#addCandidate(c);
      } else if (message.candidate !== undefined) {
        if (!this.pc.remoteDescription) this.#pendingCandidates.push(message.candidate);
        else await this.#addCandidate(message.candidate);
      }
    });
  }

  /** Starts, switches or stops the camera on this link without renegotiating. */
  setTrack(track: MediaStreamTrack | null): void {
    this.#opts.track = track;
    this.#run(async () => {
      if (this.#transceiver && !this.#opts.receiveOnly) await this.#transceiver.sender.replaceTrack(track);
    });
  }

  /** The bitrate cap (lowered when the browser says bandwidth or CPU is short). */
  setMaxBitrate(bps: number): void {
    this.#opts.maxBitrate = bps;
    this.#run(() => this.#applyEncoding());
  }

  setIceServers(iceServers: RTCIceServer[]): void {
    this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
    this.#opts.onTrack(null);
  }

  get sender(): RTCRtpSender | null {
    return this.#transceiver?.sender ?? null;
  }

  #run(step: () => Promise<void>): void {
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : step()))
      .catch((err: unknown) => {
        if (!this.#closed) this.#opts.onError(`Connection to a player failed to negotiate: ${err instanceof Error ? err.message : String(err)}`);
      });
  }

  async #offer(): Promise<void> {
    const track = this.#opts.receiveOnly ? null : this.#opts.track;
    this.#transceiver = this.pc.addTransceiver(track ?? "video", {
      direction: this.#opts.receiveOnly ? "recvonly" : "sendrecv",
      ...(this.#opts.receiveOnly
        ? {}
        : { sendEncodings: [{ maxBitrate: this.#opts.maxBitrate, maxFramerate: this.#opts.maxFramerate, scaleResolutionDownBy: this.#opts.scaleDown }] }),
    });
    this.#preferCodecs();
    await this.pc.setLocalDescription();
    this.#opts.send({ description: this.pc.localDescription!.toJSON() as SessionDescription });
  }

  async #answer(offer: SessionDescription): Promise<void> {
    await this.pc.setRemoteDescription(offer);
    this.#transceiver = this.pc.getTransceivers().find((t) => t.receiver.track.kind === "video") ?? null;
    if (this.#transceiver) {
      this.#transceiver.direction = this.#opts.receiveOnly ? "recvonly" : "sendrecv";
      if (!this.#opts.receiveOnly) await this.#transceiver.sender.replaceTrack(this.#opts.track);
      this.#preferCodecs();
    }
    await this.pc.setLocalDescription();
    this.#opts.send({ description: this.pc.localDescription!.toJSON() as SessionDescription });
    await this.#applyEncoding();
  }

  async #addCandidate(c: IceCandidate | null): Promise<void> {
    await this.pc.addIceCandidate(c ?? undefined);
  }

  #preferCodecs(): void {
    const caps = (globalThis.RTCRtpReceiver?.getCapabilities?.("video")?.codecs ?? []) as RTCRtpCodec[];
    if (this.#transceiver && caps.length) this.#transceiver.setCodecPreferences(orderCodecs(caps, this.#opts.codecs));
  }

  async #applyEncoding(): Promise<void> {
    const sender = this.#transceiver?.sender;
    if (!sender || this.#opts.receiveOnly) return;
    const params = sender.getParameters();
    if (!params.encodings?.length) return;
    params.encodings[0]!.maxBitrate = this.#opts.maxBitrate;
    params.encodings[0]!.maxFramerate = this.#opts.maxFramerate;
    params.encodings[0]!.scaleResolutionDownBy = this.#opts.scaleDown;
    await sender.setParameters(params);
  }
}
