/**
 * One user's voice connection to one channel, as the voice server sees it: the identity granted
 * by the main gateway, the SSRC and secret key, the negotiated modes, the UDP address, and the
 * v8 sequence with its replay buffer. It outlives a WebSocket: a dropped socket detaches and a
 * Resume on a new socket attaches again, re-delivering what was missed.
 */
import { randomBytes, randomInt } from "node:crypto";
import type { VoiceOpcodes } from "discord-api-types/voice/v8";
import { TransportCipher, type TransportMode } from "./transportCipher.ts";
import type { VoiceSocket } from "./voiceSocket.ts";

/** What the main gateway granted: VOICE_SERVER_UPDATE's token for this user in this channel. */
export interface VoiceGrant {
  token: string;
  guildId: string;
  channelId: string;
  userId: string;
  /** The main gateway session id (VOICE_STATE_UPDATE's session_id). */
  sessionId: string;
}

interface Buffered {
  seq: number;
  frame: string | Buffer;
}

/** Frames kept for Resume; older ones are dropped (a client that far behind must re-identify). */
const REPLAY_LIMIT = 500;

export class VoiceSession {
  readonly ssrc = randomInt(1, 2 ** 31);
  readonly secretKey = randomBytes(32);
  cipher: TransportCipher | null = null;
  /** Where the client's UDP packets come from (learned at IP discovery, confirmed by Select Protocol). */
  remote: { address: string; port: number } | null = null;
  /** Counter for the nonces of packets the relay sends to this client. */
  outCounter = 0;
  selfDeaf = false;
  speaking = 0;
  /** Negotiated DAVE protocol version (0 = transport encryption only). */
  daveVersion: 0 | 1 = 0;
  socket: VoiceSocket | null = null;
  /** Counters for tests and the control page. */
  readonly stats = { packetsIn: 0, packetsOut: 0, decryptFailures: 0, resumes: 0 };
  ended = false;
  private seq = 0;
  private readonly replay: Buffered[] = [];
  /** The newest seq pushed out of the replay buffer unacknowledged (0: none lost). */
  private lostUpTo = 0;
  private expiry: NodeJS.Timeout | undefined;

  constructor(readonly grant: VoiceGrant) {}

  get userId(): string {
    return this.grant.userId;
  }

  get roomKey(): string {
    return `${this.grant.guildId}:${this.grant.channelId}`;
  }

  selectMode(mode: TransportMode): void {
    this.cipher = new TransportCipher(mode, this.secretKey);
  }

  /** A sequenced JSON message (buffered for Resume). */
  send(op: VoiceOpcodes, d: unknown): void {
    const seq = this.nextSeq();
    this.push(seq, JSON.stringify({ op, d, seq }));
  }

  /** A sequenced binary message: `[seq u16 BE][opcode u8][payload]`. */
  sendBinary(op: VoiceOpcodes, payload: Uint8Array): void {
    const seq = this.nextSeq();
    const frame = Buffer.alloc(3 + payload.length);
    frame.writeUInt16BE(seq & 0xffff, 0);
    frame.writeUInt8(op, 2);
    frame.set(payload, 3);
    this.push(seq, frame);
  }

  /** The client acknowledged everything up to `seqAck` (heartbeat or Resume). */
  acknowledge(seqAck: unknown): void {
    if (typeof seqAck !== "number") return;
    while (this.replay.length > 0 && seqMatches(this.replay[0]!.seq, seqAck)) this.replay.shift();
  }

  attach(socket: VoiceSocket): void {
    clearTimeout(this.expiry);
    this.socket = socket;
  }

  /** The socket went away; the session ends unless resumed within `windowMs`. */
  detach(socket: VoiceSocket, windowMs: number, onExpired: () => void): void {
    if (this.socket !== socket) return;
    this.socket = null;
    clearTimeout(this.expiry);
    this.expiry = setTimeout(onExpired, windowMs);
  }

  /** Whether a client that saw up to `seqAck` can still get everything after it. */
  canReplayAfter(seqAck: number | undefined): boolean {
    return this.lostUpTo === 0 || (seqAck !== undefined && !seqMatches(seqAck, this.lostUpTo - 1));
  }

  /** Sends (in order) what the client has not acknowledged. */
  replayUnacknowledged(): void {
    for (const { frame } of this.replay) this.socket?.sendRaw(frame);
  }

  end(): void {
    this.ended = true;
    clearTimeout(this.expiry);
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0xffff) + 1; // binary frames carry 16 bits; 0 means "none" to the client
    return this.seq;
  }

  private push(seq: number, frame: string | Buffer): void {
    this.replay.push({ seq, frame });
    if (this.replay.length > REPLAY_LIMIT) this.lostUpTo = this.replay.shift()!.seq;
    this.socket?.sendRaw(frame);
  }
}

/** True while the buffered `seq` is at or before `ack` (with 16-bit wrap-around). */
function seqMatches(seq: number, ack: number): boolean {
  const distance = (ack - seq + 0x10000) % 0x10000;
  return distance < 0x8000;
}
