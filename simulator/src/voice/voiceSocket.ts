/**
 * One voice gateway WebSocket: decoding (JSON text, or binary `[opcode u8][payload]` from the
 * client), Hello, heartbeat ACKs and the heartbeat timeout (4009). What the messages mean is the
 * VoiceGateway's business; this class only frames them.
 */
import { VoiceCloseCodes, VoiceOpcodes } from "discord-api-types/voice/v8";
import { WebSocket, type RawData } from "ws";
import type { VoiceSession } from "./voiceSession.ts";

export interface VoiceSocketHandler {
  onJson(socket: VoiceSocket, op: number, d: unknown): void;
  onBinary(socket: VoiceSocket, op: number, payload: Buffer): void;
  onClosed(socket: VoiceSocket, code: number): void;
}

/** Discord's wording for the close codes the simulator sends. */
const CLOSE_REASONS: Partial<Record<number, string>> = {
  [VoiceCloseCodes.UnknownOpcode]: "Unknown opcode",
  [VoiceCloseCodes.FailedToDecode]: "Failed to decode payload",
  [VoiceCloseCodes.NotAuthenticated]: "Not authenticated",
  [VoiceCloseCodes.AuthenticationFailed]: "Authentication failed",
  [VoiceCloseCodes.AlreadyAuthenticated]: "Already authenticated",
  [VoiceCloseCodes.SessionNoLongerValid]: "Session no longer valid",
  [VoiceCloseCodes.SessionTimeout]: "Session timeout",
  [VoiceCloseCodes.UnknownProtocol]: "Unknown protocol",
  [VoiceCloseCodes.Disconnected]: "Disconnected",
  [VoiceCloseCodes.UnknownEncryptionMode]: "Unknown encryption mode",
  [VoiceCloseCodes.EndToEndEncryptionDAVEProtocolRequired]: "E2EE/DAVE protocol required",
  [VoiceCloseCodes.BadRequest]: "Bad request",
};

export class VoiceSocket {
  session: VoiceSession | null = null;
  private closing = false;
  private heartbeatTimeout: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly handler: VoiceSocketHandler,
    private readonly heartbeatIntervalMs: number,
  ) {
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("close", (code) => {
      clearTimeout(this.heartbeatTimeout);
      this.handler.onClosed(this, code);
    });
    ws.on("error", () => {}); // 'close' follows
    this.sendRaw(JSON.stringify({ op: VoiceOpcodes.Hello, d: { heartbeat_interval: heartbeatIntervalMs, v: 8 } }));
    this.armHeartbeatTimeout();
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.closing;
  }

  /** An unsequenced message (Hello, heartbeat ACK, Resumed). */
  sendUnsequenced(op: VoiceOpcodes, d: unknown): void {
    this.sendRaw(JSON.stringify({ op, d }));
  }

  sendRaw(frame: string | Buffer): void {
    if (this.open) this.ws.send(frame);
  }

  close(code: number, reason = CLOSE_REASONS[code] ?? ""): void {
    if (!this.open) return;
    this.closing = true;
    clearTimeout(this.heartbeatTimeout);
    this.ws.close(code, reason);
  }

  /** Destroys the TCP connection without a close frame (a network failure). */
  drop(): void {
    this.closing = true;
    this.ws.terminate();
  }

  heartbeatReceived(): void {
    this.armHeartbeatTimeout();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (!this.open) return;
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (raw.length < 1) return this.close(VoiceCloseCodes.FailedToDecode);
      return this.handler.onBinary(this, raw.readUInt8(0), raw.subarray(1));
    }
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(raw.toString("utf8")) as { op?: unknown; d?: unknown };
    } catch {
      return this.close(VoiceCloseCodes.FailedToDecode);
    }
    if (typeof payload !== "object" || payload === null || typeof payload.op !== "number") return this.close(VoiceCloseCodes.FailedToDecode);
    this.handler.onJson(this, payload.op, payload.d);
  }

  /** The client must heartbeat every interval; after about three missed ones the session times out. */
  private armHeartbeatTimeout(): void {
    clearTimeout(this.heartbeatTimeout);
    this.heartbeatTimeout = setTimeout(() => this.close(VoiceCloseCodes.SessionTimeout), this.heartbeatIntervalMs * 3);
  }
}
