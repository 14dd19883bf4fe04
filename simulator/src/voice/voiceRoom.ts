/**
 * The members of one voice channel on the voice server: Clients Connect / Disconnect (ops 11 and
 * 13), Speaking fan-out (op 5), the relay's listener set, and the channel's DAVE group.
 */
import { VoiceOpcodes } from "discord-api-types/voice/v8";
import type { DaveGroup } from "./daveGroup.ts";
import type { VoiceSession } from "./voiceSession.ts";

export class VoiceRoom {
  private readonly members = new Map<string, VoiceSession>();

  constructor(
    readonly guildId: string,
    readonly channelId: string,
    /** Null in the DAVE version 0 test mode. */
    readonly dave: DaveGroup | null,
  ) {}

  get size(): number {
    return this.members.size;
  }

  sessions(): VoiceSession[] {
    return [...this.members.values()];
  }

  /**
   * The session finished Select Protocol. Order matters to the client: op 11 must precede any
   * DAVE proposal naming the user (davey throws UnexpectedUser otherwise), and the receiver maps
   * SSRCs to users only from op 5, so every member's SSRC is announced before media flows.
   */
  activate(session: VoiceSession): void {
    const others = this.sessions().filter((s) => s.userId !== session.userId);
    for (const other of others) {
      other.send(VoiceOpcodes.ClientsConnect, { user_ids: [session.userId] });
      other.send(VoiceOpcodes.Speaking, { user_id: session.userId, ssrc: session.ssrc, speaking: session.speaking });
    }
    if (others.length > 0) session.send(VoiceOpcodes.ClientsConnect, { user_ids: others.map((o) => o.userId) });
    for (const other of others) session.send(VoiceOpcodes.Speaking, { user_id: other.userId, ssrc: other.ssrc, speaking: other.speaking });
    this.members.set(session.userId, session);
    if (session.daveVersion === 1) this.dave?.join(session);
  }

  /** The session ended (left, replaced, expired): op 13 to the others and a DAVE Remove. */
  remove(session: VoiceSession): void {
    if (this.members.get(session.userId) !== session) return;
    this.members.delete(session.userId);
    for (const other of this.members.values()) other.send(VoiceOpcodes.ClientDisconnect, { user_id: session.userId });
    this.dave?.leave(session);
  }

  speaking(session: VoiceSession, flags: number): void {
    session.speaking = flags;
    for (const other of this.members.values()) {
      if (other !== session) other.send(VoiceOpcodes.Speaking, { user_id: session.userId, ssrc: session.ssrc, speaking: flags });
    }
  }

  *listenersOf(sender: VoiceSession): Iterable<VoiceSession> {
    for (const s of this.members.values()) if (s !== sender) yield s;
  }

  close(): void {
    this.dave?.close();
  }
}
