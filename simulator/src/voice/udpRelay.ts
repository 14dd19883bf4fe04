/**
 * The UDP side of the voice server (a tiny SFU): answers IP discovery, decrypts each RTP packet
 * with the sender's key and re-encrypts it for every listener with the listener's own key, mode
 * and nonce counter, keeping the sender's sequence, timestamp and SSRC. Like Discord's SFU it adds
 * a one-word RTP header extension to forwarded packets, which exercises the receiver's
 * extension path. Deafened listeners get nothing. Loss and jitter can be switched on as faults.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { VoiceSession } from "./voiceSession.ts";

/** Who hears a session's packets (the other members of its channel). */
export interface RelayRouting {
  sessionBySsrc(ssrc: number): VoiceSession | undefined;
  listenersOf(sender: VoiceSession): Iterable<VoiceSession>;
}

export interface RelayFaults {
  /** Fraction of forwarded packets dropped, 0..1. */
  lossRate: number;
  /** Each forwarded packet is delayed by a uniform 0..jitterMs. */
  jitterMs: number;
}

const DISCOVERY_LENGTH = 74;
const RTP_HEADER = 12;
const TAG_AND_NONCE = 16 + 4;
/** One-word extension: 0xBEDE profile, length 1, then one one-byte element (id 1, one zero byte) padded. */
const EXTENSION_PREAMBLE = Buffer.from([0xbe, 0xde, 0x00, 0x01]);
const EXTENSION_BODY = Buffer.from([0x10, 0x00, 0x00, 0x00]);

export class UdpRelay {
  private readonly socket: Socket = createSocket("udp4");
  faults: RelayFaults = { lossRate: 0, jitterMs: 0 };
  readonly stats = { received: 0, forwarded: 0, dropped: 0, decryptFailures: 0, discoveries: 0 };
  private boundPort = 0;

  constructor(
    private readonly routing: RelayRouting,
    private readonly host: string,
  ) {
    this.socket.on("message", (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket.on("error", () => {}); // ICMP unreachable from a vanished client is normal
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once("error", reject);
      this.socket.bind(0, this.host, () => resolve());
    });
    this.boundPort = this.socket.address().port;
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length === DISCOVERY_LENGTH && msg.readUInt16BE(0) === 1) return this.discover(msg, rinfo);
    if (msg.length < RTP_HEADER + TAG_AND_NONCE || msg[0]! >> 6 !== 2) return; // keep-alives and junk
    const sender = this.routing.sessionBySsrc(msg.readUInt32BE(8));
    if (!sender?.cipher || !sender.remote) return;
    // Only the address that did IP discovery may send as this SSRC.
    if (sender.remote.address !== rinfo.address || sender.remote.port !== rinfo.port) return;
    this.stats.received++;
    sender.stats.packetsIn++;
    const headerLength = RTP_HEADER + (msg[0]! & 0x10 ? 4 : 0);
    const counter = msg.readUInt32BE(msg.length - 4);
    const plain = sender.cipher.open(msg.subarray(headerLength, msg.length - 4), msg.subarray(0, headerLength), counter);
    if (!plain) {
      this.stats.decryptFailures++;
      sender.stats.decryptFailures++;
      return;
    }
    // Strip the sender's own extension body (if any), then add ours.
    const payload = headerLength > RTP_HEADER ? plain.subarray(4 * msg.readUInt16BE(14)) : plain;
    const header = Buffer.concat([msg.subarray(0, RTP_HEADER), EXTENSION_PREAMBLE]);
    header[0] = (header[0]! & 0xe0) | 0x10; // version 2, keep padding bit, extension on, no CSRCs
    const body = Buffer.concat([EXTENSION_BODY, payload]);
    for (const listener of this.routing.listenersOf(sender)) {
      if (listener.selfDeaf || !listener.cipher || !listener.remote) continue;
      this.forward(listener, header, body);
    }
  }

  /**
   * Fault: sends `payload` to every listener of `sender` as if `sender` had sent it, bypassing
   * the sender's own (DAVE) encryption: e.g. plain Opus where listeners expect DAVE frames.
   */
  injectFrom(sender: VoiceSession, payload: Buffer, seq: number): void {
    const header = Buffer.alloc(RTP_HEADER);
    header[0] = 0x90; // version 2, extension
    header[1] = 0x78;
    header.writeUInt16BE(seq & 0xffff, 2);
    header.writeUInt32BE((seq * 960) >>> 0, 4);
    header.writeUInt32BE(sender.ssrc, 8);
    const full = Buffer.concat([header, EXTENSION_PREAMBLE]);
    for (const listener of this.routing.listenersOf(sender)) {
      if (!listener.selfDeaf && listener.cipher && listener.remote) this.forward(listener, full, Buffer.concat([EXTENSION_BODY, payload]));
    }
  }

  private forward(listener: VoiceSession, header: Buffer, body: Buffer): void {
    if (this.faults.lossRate > 0 && Math.random() < this.faults.lossRate) {
      this.stats.dropped++;
      return;
    }
    listener.outCounter = (listener.outCounter + 1) >>> 0;
    const nonce = Buffer.alloc(4);
    nonce.writeUInt32BE(listener.outCounter, 0);
    const packet = Buffer.concat([header, listener.cipher!.seal(body, header, listener.outCounter), nonce]);
    const { address, port } = listener.remote!;
    const send = (): void => {
      this.stats.forwarded++;
      listener.stats.packetsOut++;
      this.socket.send(packet, port, address);
    };
    if (this.faults.jitterMs > 0) setTimeout(send, Math.random() * this.faults.jitterMs);
    else send();
  }

  /** IP discovery: type 2, length 70, SSRC, the client's address (NUL-terminated) and port in the last two bytes. */
  private discover(msg: Buffer, rinfo: RemoteInfo): void {
    const session = this.routing.sessionBySsrc(msg.readUInt32BE(4));
    if (!session) return;
    this.stats.discoveries++;
    session.remote = { address: rinfo.address, port: rinfo.port };
    const reply = Buffer.alloc(DISCOVERY_LENGTH);
    reply.writeUInt16BE(2, 0);
    reply.writeUInt16BE(70, 2);
    reply.writeUInt32BE(session.ssrc, 4);
    reply.write(rinfo.address, 8, "utf8");
    reply.writeUInt16BE(rinfo.port, DISCOVERY_LENGTH - 2);
    this.socket.send(reply, rinfo.port, rinfo.address);
  }
}
