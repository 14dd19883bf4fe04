/**
 * The DAVE delivery service (DaveGroup on ts-mls) against davey sessions driven directly, without
 * sockets, so message interleavings can be chosen: a proposal revoked when the joiner leaves
 * before anyone committed, a tampered key package, and a losing commit.
 */
import { describe, expect, it } from "vitest";
import davey from "@snazzah/davey";
import { VoiceOpcodes } from "discord-api-types/voice/v8";
import { createLogger } from "@spell-coven/common";
import { DaveExternalSender } from "../src/voice/daveExternalSender.ts";
import { DaveGroup } from "../src/voice/daveGroup.ts";
import { VoiceSession } from "../src/voice/voiceSession.ts";
import type { VoiceSocket } from "../src/voice/voiceSocket.ts";
import { waitFor } from "./helpers.ts";

const CHANNEL = "1060000000000000202";

/** A client as @discordjs/voice drives davey, with its inbox pumped by the test. */
class Client {
  readonly session: VoiceSession;
  readonly dave: InstanceType<typeof davey.DAVESession>;
  readonly inbox: Buffer[] = [];
  readonly errors: string[] = [];
  readonly connected = new Set<string>();

  constructor(
    readonly userId: string,
    private readonly group: DaveGroup,
  ) {
    this.session = new VoiceSession({ token: `t-${userId}`, guildId: "1", channelId: CHANNEL, userId, sessionId: `s-${userId}` });
    this.session.attach({ sendRaw: (frame: string | Buffer) => this.inbox.push(Buffer.from(frame)) } as unknown as VoiceSocket);
    this.dave = new davey.DAVESession(1, userId, CHANNEL);
  }

  join(): void {
    this.session.daveVersion = 1;
    this.group.join(this.session);
    this.group.onKeyPackage(this.session, this.dave.getSerializedKeyPackage());
  }

  /** Handles everything received so far, as Networking.ts does. */
  pump(): number {
    const frames = this.inbox.splice(0);
    for (const frame of frames) {
      try {
        this.handle(frame);
      } catch (error) {
        this.errors.push(String(error));
      }
    }
    return frames.length;
  }

  private handle(frame: Buffer): void {
    if (frame[0] === 0x7b) {
      const { op, d } = JSON.parse(frame.toString()) as { op: number; d: { epoch?: number } };
      if (op === VoiceOpcodes.DavePrepareEpoch && d.epoch === 1) {
        this.dave.reinit(1, this.userId, CHANNEL);
        this.group.onKeyPackage(this.session, this.dave.getSerializedKeyPackage());
      }
      return;
    }
    const op = frame[2];
    const payload = frame.subarray(3);
    if (op === VoiceOpcodes.DaveMlsExternalSender) this.dave.setExternalSender(payload);
    else if (op === VoiceOpcodes.DaveMlsProposals) {
      const { commit, welcome } = this.dave.processProposals(payload[0]!, payload.subarray(1), [...this.connected]);
      if (commit) this.group.onCommitWelcome(this.session, welcome ? Buffer.concat([commit, welcome]) : commit);
    } else if (op === VoiceOpcodes.DaveMlsAnnounceCommitTransition) {
      this.dave.processCommit(payload.subarray(2));
      this.group.onReadyForTransition(this.session, payload.readUInt16BE(0));
    } else if (op === VoiceOpcodes.DaveMlsWelcome) {
      this.dave.processWelcome(payload.subarray(2));
      this.group.onReadyForTransition(this.session, payload.readUInt16BE(0));
    }
  }
}

async function setup() {
  await DaveExternalSender.prepare();
  const group = new DaveGroup(CHANNEL, DaveExternalSender.create(), {
    transitionTimeoutMs: 2000,
    transitionDelayMs: () => 0,
    takeWelcomeCorruption: () => false,
    log: createLogger("ERROR"),
  });
  const clients: Client[] = [];
  const add = (userId: string) => {
    const c = new Client(userId, group);
    for (const other of clients) other.connected.add(userId), c.connected.add(other.userId);
    clients.push(c);
    return c;
  };
  /** Pumps every client until nothing moves (DaveGroup steps are asynchronous). */
  const settle = async () => {
    for (let quiet = 0; quiet < 5; ) {
      await new Promise((r) => setTimeout(r, 10));
      quiet = clients.reduce((n, c) => n + c.pump(), 0) === 0 ? quiet + 1 : 0;
    }
  };
  return { group, add, settle, clients };
}

describe("DaveGroup with davey clients", () => {
  it("revokes an Add when the joiner leaves before any commit, then adds the next joiner", async () => {
    const { group, add, settle } = await setup();
    const a = add("111111111111111111");
    const b = add("222222222222222222");
    a.join();
    b.join();
    await settle();
    expect(group.state()).toMatchObject({ established: true, epoch: 1 });
    expect(a.dave.voicePrivacyCode).toBe(b.dave.voicePrivacyCode);

    const c = add("333333333333333333");
    c.join();
    await waitFor(() => a.inbox.length > 0 && b.inbox.length > 0, 3000, "Add(C) proposals");
    group.leave(c.session); // before A or B processed the proposal
    await settle();
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(group.state()).toMatchObject({ established: true, epoch: 1 });

    const d = add("444444444444444444");
    d.join();
    await settle();
    expect(group.state()).toMatchObject({ established: true, epoch: 2, leaves: [expect.any(String), expect.any(String), d.userId] });
    expect(new Set([a, b, d].map((x) => x.dave.voicePrivacyCode)).size).toBe(1);
    expect([a, b, d].every((x) => x.dave.ready)).toBe(true);
    expect(group.stats.ignoredCommits).toBeGreaterThanOrEqual(1); // the loser of each race
  });

  it("a rejoin (new session of a member) removes the old leaf and adds the new key package", async () => {
    const { group, add, settle, clients } = await setup();
    const a = add("111111111111111111");
    const b = add("222222222222222222");
    a.join();
    b.join();
    await settle();
    const again = new Client(b.userId, group); // B's client re-identified: new VoiceSession, new davey session
    again.connected.add(a.userId);
    clients.splice(clients.indexOf(b), 1, again);
    again.join();
    group.leave(b.session); // the old session's end arrives after the new join, as in VoiceServer
    await settle();
    expect(group.state()).toMatchObject({ established: true, epoch: 2, leaves: [expect.any(String), expect.any(String)] });
    expect(group.state().leaves.sort()).toEqual([a.userId, b.userId].sort());
    expect(again.dave.ready && a.dave.voicePrivacyCode === again.dave.voicePrivacyCode).toBe(true);
    expect([a.errors, again.errors]).toEqual([[], []]);
  });

  it("ignores a key package whose signature does not verify, and one for another user", async () => {
    const { group, add, settle } = await setup();
    const a = add("111111111111111111");
    const b = add("222222222222222222");
    a.session.daveVersion = b.session.daveVersion = 1;
    group.join(a.session);
    group.join(b.session);
    const tampered = Buffer.from(a.dave.getSerializedKeyPackage());
    tampered[tampered.length - 5]! ^= 0xff;
    group.onKeyPackage(a.session, tampered);
    group.onKeyPackage(b.session, a.dave.getSerializedKeyPackage()); // a's identity on b's connection
    await settle();
    expect(group.stats.invalidKeyPackages).toBe(2);
    expect(group.state().established).toBe(false);
  });
});
