/**
 * The voice gateway v8 protocol over VoiceSockets: Identify (validated against the grant the
 * main gateway issued), Ready, Select Protocol, Session Description, heartbeats with seq_ack,
 * Resume with re-delivery, Speaking and the DAVE client opcodes (23, 26, 28, 31). Close codes are
 * Discord's (discord-api-types VoiceCloseCodes).
 */
import { VoiceCloseCodes, VoiceOpcodes } from "discord-api-types/voice/v8";
import { z } from "zod";
import { isTransportMode, type TransportMode } from "./transportCipher.ts";
import type { VoiceGrant, VoiceSession } from "./voiceSession.ts";
import type { VoiceSocket, VoiceSocketHandler } from "./voiceSocket.ts";
import type { VoiceRoom } from "./voiceRoom.ts";

/** What the gateway needs from the voice server. */
export interface VoiceDirectory {
  readonly modes: readonly TransportMode[];
  readonly daveVersion: 0 | 1;
  readonly udpPort: number;
  readonly host: string;
  readonly resumeWindowMs: number;
  grant(token: string): VoiceGrant | undefined;
  /** Creates the session for a grant (ending any other session of that user in that guild). */
  openSession(grant: VoiceGrant, daveVersion: 0 | 1): VoiceSession;
  sessionByToken(token: string): VoiceSession | undefined;
  room(session: VoiceSession): VoiceRoom;
  endSession(session: VoiceSession, closeCode?: number): void;
  countResume(): void;
  countClose(code: number): void;
}

const snowflake = z.string().regex(/^\d{1,20}$/);
const identifySchema = z.object({
  server_id: snowflake,
  user_id: snowflake,
  session_id: z.string().min(1),
  token: z.string().min(1),
  max_dave_protocol_version: z.number().int().min(0).optional(),
});
const resumeSchema = z.object({ server_id: snowflake, session_id: z.string().min(1), token: z.string().min(1), seq_ack: z.number().int().optional() });
const selectSchema = z.object({
  protocol: z.string(),
  data: z.object({ address: z.string(), port: z.number().int(), mode: z.string() }),
});

export class VoiceGateway implements VoiceSocketHandler {
  constructor(private readonly dir: VoiceDirectory) {}

  onJson(socket: VoiceSocket, op: number, d: unknown): void {
    const session = socket.session;
    switch (op) {
      case VoiceOpcodes.Identify:
        return this.identify(socket, d);
      case VoiceOpcodes.Resume:
        return this.resume(socket, d);
      case VoiceOpcodes.Heartbeat: {
        socket.heartbeatReceived();
        const hb = d as { t?: unknown; seq_ack?: unknown } | null;
        session?.acknowledge(hb?.seq_ack);
        return socket.sendUnsequenced(VoiceOpcodes.HeartbeatAck, { t: hb?.t ?? null });
      }
    }
    if (!session) return socket.close(VoiceCloseCodes.NotAuthenticated);
    switch (op) {
      case VoiceOpcodes.SelectProtocol:
        return this.selectProtocol(socket, session, d);
      case VoiceOpcodes.Speaking: {
        const speaking = (d as { speaking?: unknown } | null)?.speaking;
        if (typeof speaking !== "number") return socket.close(VoiceCloseCodes.FailedToDecode);
        return this.dir.room(session).speaking(session, speaking);
      }
      case VoiceOpcodes.DaveTransitionReady:
        return this.dir.room(session).dave?.onReadyForTransition(session, (d as { transition_id?: unknown } | null)?.transition_id);
      case VoiceOpcodes.DaveMlsInvalidCommitWelcome:
        return this.dir.room(session).dave?.onInvalidCommitWelcome(session);
      case 12: // video (sent by some clients; nothing to do without video)
      case 15: // media sink wants
        return;
      default:
        return socket.close(VoiceCloseCodes.UnknownOpcode);
    }
  }

  onBinary(socket: VoiceSocket, op: number, payload: Buffer): void {
    const session = socket.session;
    if (!session) return socket.close(VoiceCloseCodes.NotAuthenticated);
    const dave = this.dir.room(session).dave;
    if (!dave || session.daveVersion === 0) return; // DAVE frames from a non-DAVE session mean nothing
    if (op === VoiceOpcodes.DaveMlsKeyPackage) dave.onKeyPackage(session, payload);
    else if (op === VoiceOpcodes.DaveMlsCommitWelcome) dave.onCommitWelcome(session, payload);
    else socket.close(VoiceCloseCodes.UnknownOpcode);
  }

  onClosed(socket: VoiceSocket, code: number): void {
    this.dir.countClose(code);
    const session = socket.session;
    socket.session = null;
    if (!session || session.ended) return;
    // A dropped socket is resumable for a while; after that the user has left the voice server.
    session.detach(socket, this.dir.resumeWindowMs, () => this.dir.endSession(session));
  }

  private identify(socket: VoiceSocket, d: unknown): void {
    if (socket.session) return socket.close(VoiceCloseCodes.AlreadyAuthenticated);
    const parsed = identifySchema.safeParse(d);
    if (!parsed.success) return socket.close(VoiceCloseCodes.FailedToDecode);
    const identify = parsed.data;
    const grant = this.dir.grant(identify.token);
    if (!grant || grant.guildId !== identify.server_id || grant.userId !== identify.user_id || grant.sessionId !== identify.session_id) {
      return socket.close(VoiceCloseCodes.AuthenticationFailed);
    }
    const clientMax = identify.max_dave_protocol_version ?? 0;
    // Discord requires DAVE since 2026-03-02: a client that cannot speak it is refused.
    if (this.dir.daveVersion === 1 && clientMax < 1) return socket.close(VoiceCloseCodes.EndToEndEncryptionDAVEProtocolRequired);
    const session = this.dir.openSession(grant, this.dir.daveVersion === 1 ? 1 : 0);
    session.attach(socket);
    socket.session = session;
    session.send(VoiceOpcodes.Ready, {
      ssrc: session.ssrc,
      ip: this.dir.host,
      port: this.dir.udpPort,
      modes: [...this.dir.modes],
      experiments: [],
      streams: [],
    });
  }

  private selectProtocol(socket: VoiceSocket, session: VoiceSession, d: unknown): void {
    if (session.cipher) return; // already selected; Discord ignores a second one
    const parsed = selectSchema.safeParse(d);
    if (!parsed.success) return socket.close(VoiceCloseCodes.FailedToDecode);
    const { protocol, data } = parsed.data;
    if (protocol !== "udp") return socket.close(VoiceCloseCodes.UnknownProtocol);
    if (!isTransportMode(data.mode) || !this.dir.modes.includes(data.mode)) return socket.close(VoiceCloseCodes.UnknownEncryptionMode);
    session.remote ??= { address: data.address, port: data.port };
    session.selectMode(data.mode);
    session.send(VoiceOpcodes.SessionDescription, {
      mode: data.mode,
      secret_key: [...session.secretKey],
      dave_protocol_version: session.daveVersion,
      audio_codec: "opus",
      video_codec: null,
      media_session_id: session.grant.token.slice(0, 16),
    });
    this.dir.room(session).activate(session);
  }

  private resume(socket: VoiceSocket, d: unknown): void {
    if (socket.session) return socket.close(VoiceCloseCodes.AlreadyAuthenticated);
    const parsed = resumeSchema.safeParse(d);
    if (!parsed.success) return socket.close(VoiceCloseCodes.FailedToDecode);
    const resume = parsed.data;
    const session = this.dir.sessionByToken(resume.token);
    if (!session || session.ended || session.grant.guildId !== resume.server_id || session.grant.sessionId !== resume.session_id) {
      return socket.close(VoiceCloseCodes.SessionNoLongerValid);
    }
    // Too far behind: what it missed is no longer buffered, so it must identify again.
    if (!session.canReplayAfter(resume.seq_ack)) return socket.close(VoiceCloseCodes.SessionNoLongerValid);
    // A resume takes the session over; a half-open old socket is cut.
    const previous = session.socket;
    if (previous && previous !== socket) {
      previous.session = null;
      previous.drop();
    }
    session.attach(socket);
    socket.session = session;
    session.stats.resumes++;
    this.dir.countResume();
    session.acknowledge(resume.seq_ack);
    // Resumed first: the client drops binary DAVE frames while it is still Resuming.
    socket.sendUnsequenced(VoiceOpcodes.Resumed, null);
    session.replayUnacknowledged();
  }
}
