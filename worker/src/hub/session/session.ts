/**
 * Sessions, independent of the transport (the WebSocket today, an SSE bridge next): verify a
 * player's token, decide whether their resume point can be replayed, and build the auth.ok that
 * puts them in sync. The socket side (deadlines, closing) is session-module.ts.
 */
import { CloseCodes, type AuthOk, type Presence, type PresenceFlags } from "@spell-coven/common";
import { TokenError, verifyPlayerToken, type JwtSettings, type Player } from "../../auth/jwt.ts";
import type { EventLog } from "../event-log.ts";
import { MAX_CLIENT_LAG } from "../limits.ts";

export type SessionOpening =
  | {
      ok: true;
      player: Player;
      /** The seq the client is in sync with: its resume point, or the hub's seq with a snapshot. */
      syncedSeq: number;
      authOk: AuthOk;
      /** Serialized events to replay after auth.ok (empty without a resume). */
      replay: string[];
    }
  | { ok: false; closeCode: number; reason: string };

export interface ResumePoint {
  seq: number;
  epoch?: string | undefined;
}

/** What auth.ok's snapshot is read from: who is in which voice channel, and who is muted or deafened there. */
export interface PresenceSource {
  presence(): Presence;
  voiceFlags(): PresenceFlags;
}

export class SessionService {
  constructor(
    private readonly jwt: () => JwtSettings,
    private readonly log: EventLog,
    private readonly snapshot: PresenceSource,
    private readonly guildId: () => string,
  ) {}

  /** Verifies the token; a rejected one becomes the close code a client can act on. */
  async verify(token: string): Promise<{ ok: true; player: Player } | { ok: false; closeCode: number; reason: string }> {
    try {
      return { ok: true, player: await verifyPlayerToken(token, this.jwt()) };
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      return { ok: false, closeCode: err.code === "TOKEN_EXPIRED" ? CloseCodes.TokenExpired : CloseCodes.AuthFailed, reason: err.message };
    }
  }

  /**
   * Opens a session for a verified player: with a resume point the hub still holds, every event
   * after it is replayed; otherwise `presence` is a fresh snapshot at the current seq.
   */
  open(player: Player, resume: ResumePoint | undefined, now: number): Extract<SessionOpening, { ok: true }> {
    const seq = this.log.seq;
    const resumed = resume !== undefined && this.log.canResumeFrom(resume.seq, resume.epoch);
    const voiceFlags = this.snapshot.voiceFlags();
    const authOk: AuthOk = {
      v: 1,
      type: "ack",
      event: "auth.ok",
      guildId: this.guildId(),
      userId: player.userId,
      seq,
      epoch: this.log.epoch,
      resumed,
      presence: this.snapshot.presence(),
      // Only when someone is flagged: a client that never heard of flags sees the auth.ok it knows.
      ...(voiceFlags.length > 0 ? { voiceFlags } : {}),
      expiresAt: player.expiresAt,
      maxLag: MAX_CLIENT_LAG,
      ts: now,
    };
    return { ok: true, player, syncedSeq: resumed ? resume.seq : seq, authOk, replay: resumed ? this.log.eventsAfter(resume.seq, player.userId) : [] };
  }
}
