/**
 * One voice channel's DAVE group as the delivery service sees it (dave-protocol protocol.md
 * L148-330): which members are in the MLS group at which leaf, the epoch, the proposals in flight
 * and the pending transition. The server never holds group secrets; it proposes Adds and Removes
 * as external sender, lets the first valid commit of an epoch win, fans the commit (op 29) and the
 * Welcome (op 30) out, and executes the transition (op 22) once everyone is ready or a timeout
 * passes. A lone remaining member is reset (op 24 epoch 1 + op 21 id 0); a member that reports an
 * invalid commit/welcome (op 31) is removed and re-added with its new key package.
 */
import type { Logger } from "@spell-coven/common";
import { VoiceOpcodes } from "discord-api-types/voice/v8";
import type { KeyPackage } from "ts-mls";
import type { DaveExternalSender, SignedProposal } from "./daveExternalSender.ts";
import { bytesEqual, hex, snowflakeToU64BE, vector } from "./mlsCodec.ts";
import type { VoiceSession } from "./voiceSession.ts";

interface Member {
  session: VoiceSession;
  /** The latest key package not yet consumed by an Add. */
  keyPackage: KeyPackage | null;
  /** Leaf index in the established group, or null when not a member. */
  leaf: number | null;
}

interface InFlight {
  epoch: bigint;
  initial: boolean;
  /** Per possible committer: the proposal references its commit must name. */
  expected: Map<string, Uint8Array[]>;
  /** What each recipient was sent, for a revoke. */
  sentTo: Map<string, Uint8Array[]>;
  /** Added user per proposal reference (hex). */
  addedByRef: Map<string, string>;
  removedLeaves: number[];
  /** Members being re-added (their old leaf is among removedLeaves). */
  readded: Set<string>;
}

export interface DaveGroupOptions {
  /** Wait this long for every op 23 before executing a transition anyway. */
  transitionTimeoutMs: number;
  /** Fault: extra delay before op 22. */
  transitionDelayMs: () => number;
  /** Fault: true when the next Welcome should be corrupted (the client then sends op 31). */
  takeWelcomeCorruption: () => boolean;
  /**
   * Fault: announce commits with transition id 0 ("execute now", no op 23/22), which makes
   * @discordjs/voice 0.19.2 throw instead of recover after repeated decrypt failures.
   */
  zeroTransitionIds?: () => boolean;
  log: Logger;
}

export interface DaveGroupState {
  established: boolean;
  epoch: number;
  leaves: (string | null)[];
  pendingTransition: number | null;
}

export class DaveGroup {
  readonly stats = { proposals: 0, commits: 0, ignoredCommits: 0, welcomes: 0, transitions: 0, resets: 0, invalidKeyPackages: 0, invalidCommitWelcomes: 0 };
  private readonly members = new Map<string, Member>();
  private readonly groupId: Uint8Array;
  private leaves: (string | null)[] = [];
  private departedLeaves: number[] = [];
  private epoch = 0n;
  private established = false;
  private inFlight: InFlight | null = null;
  private transition: { id: number; waiting: Set<string>; timer: NodeJS.Timeout } | null = null;
  private lastTransitionId = 0;
  private delayedExecute: NodeJS.Timeout | null = null;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    channelId: string,
    private readonly sender: DaveExternalSender,
    private readonly opts: DaveGroupOptions,
  ) {
    this.groupId = snowflakeToU64BE(channelId);
  }

  state(): DaveGroupState {
    return { established: this.established, epoch: Number(this.epoch), leaves: [...this.leaves], pendingTransition: this.transition?.id ?? null };
  }

  /**
   * A DAVE member's session is ready (after op 4): send it the external sender (op 25). A new
   * session of a user already here (a rejoin) replaces the old one, whose leaf is removed when
   * the new key package is added.
   */
  join(session: VoiceSession): void {
    const previous = this.members.get(session.userId);
    if (previous && previous.session !== session) this.drop(previous);
    this.members.set(session.userId, { session, keyPackage: null, leaf: null });
    session.sendBinary(VoiceOpcodes.DaveMlsExternalSender, this.sender.externalSenderBytes);
  }

  leave(session: VoiceSession): void {
    this.run(async () => {
      const member = this.members.get(session.userId);
      if (member?.session !== session) return; // already replaced by a rejoin
      this.drop(member);
      if (this.resetIfAlone()) return;
      await this.propose();
    });
  }

  onKeyPackage(session: VoiceSession, raw: Buffer): void {
    this.run(async () => {
      const member = this.members.get(session.userId);
      if (member?.session !== session) return;
      const checked = await this.sender.checkKeyPackage(raw, session.userId);
      if ("error" in checked) {
        this.stats.invalidKeyPackages++;
        this.opts.log.warn("voice: invalid DAVE key package ignored", { userId: session.userId, error: checked.error });
        return;
      }
      member.keyPackage = checked.keyPackage;
      await this.propose();
    });
  }

  onCommitWelcome(session: VoiceSession, raw: Buffer): void {
    this.run(() => this.commitReceived(session, raw));
  }

  onReadyForTransition(session: VoiceSession, transitionId: unknown): void {
    if (!this.transition || this.transition.id !== transitionId) return;
    this.transition.waiting.delete(session.userId);
    this.maybeExecuteTransition();
  }

  /** Op 31: the client reset itself and will send a new key package; it is then removed and re-added. */
  onInvalidCommitWelcome(session: VoiceSession): void {
    this.stats.invalidCommitWelcomes++;
    this.transition?.waiting.delete(session.userId);
    this.maybeExecuteTransition();
  }

  close(): void {
    this.closed = true;
    if (this.transition) clearTimeout(this.transition.timer);
    if (this.delayedExecute) clearTimeout(this.delayedExecute);
  }

  // ---- internals ----

  /** Forgets a member: its leaf is to be removed, it is no longer awaited, proposals naming it are revoked. */
  private drop(member: Member): void {
    const userId = member.session.userId;
    this.members.delete(userId);
    if (member.leaf !== null) this.departedLeaves.push(member.leaf);
    this.transition?.waiting.delete(userId);
    this.maybeExecuteTransition();
    const flight = this.inFlight;
    if (flight && (flight.sentTo.has(userId) || [...flight.addedByRef.values()].includes(userId))) this.revokeInFlight();
  }

  /** Every change runs in order: proposals are signed asynchronously. */
  private run(step: () => Promise<void> | void): void {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      this.opts.log.error("voice: DAVE group step failed", { error: error instanceof Error ? error.message : String(error) });
    });
  }

  /** Sends the next batch of proposals, if there is anything to change and nothing in flight. */
  private async propose(): Promise<void> {
    if (this.closed || this.inFlight || this.transition || this.delayedExecute) return;
    const withPackage = [...this.members.values()].filter((m) => m.keyPackage !== null);
    if (!this.established) {
      // Initial creation: one Add per pending member; each gets the Adds of every other one and
      // commits from its own one-member group; the first commit wins.
      if (withPackage.length < 2) return;
      const adds = new Map<string, SignedProposal>();
      for (const m of withPackage) adds.set(m.session.userId, await this.sender.add(this.groupId, 0n, m.keyPackage!));
      const flight = this.newFlight(0n, true);
      for (const [userId, proposal] of adds) flight.addedByRef.set(hex(proposal.ref), userId);
      for (const m of withPackage) {
        const others = [...adds].filter(([userId]) => userId !== m.session.userId).map(([, p]) => p);
        flight.expected.set(
          m.session.userId,
          others.map((p) => p.ref),
        );
        this.sendProposals(m, others, flight);
      }
      this.inFlight = flight;
      return;
    }
    const readded = withPackage.filter((m) => m.leaf !== null);
    const removedLeaves = [...this.departedLeaves, ...readded.map((m) => m.leaf!)];
    if (removedLeaves.length === 0 && withPackage.length === 0) return;
    const recipients = [...this.members.values()].filter((m) => m.leaf !== null && m.keyPackage === null);
    if (recipients.length === 0) {
      this.reset();
      return this.propose();
    }
    const proposals: SignedProposal[] = [];
    for (const leaf of removedLeaves) proposals.push(await this.sender.remove(this.groupId, this.epoch, leaf));
    const flight = this.newFlight(this.epoch, false);
    flight.removedLeaves = removedLeaves;
    for (const m of readded) flight.readded.add(m.session.userId);
    for (const m of withPackage) {
      const add = await this.sender.add(this.groupId, this.epoch, m.keyPackage!);
      flight.addedByRef.set(hex(add.ref), m.session.userId);
      proposals.push(add);
    }
    for (const m of recipients) {
      flight.expected.set(
        m.session.userId,
        proposals.map((p) => p.ref),
      );
      this.sendProposals(m, proposals, flight);
    }
    this.inFlight = flight;
  }

  private newFlight(epoch: bigint, initial: boolean): InFlight {
    return { epoch, initial, expected: new Map(), sentTo: new Map(), addedByRef: new Map(), removedLeaves: [], readded: new Set() };
  }

  /** Op 27 append: `[0][MLSMessage proposal_messages<V>]`. */
  private sendProposals(member: Member, proposals: SignedProposal[], flight: InFlight): void {
    this.stats.proposals += proposals.length;
    flight.sentTo.set(
      member.session.userId,
      proposals.map((p) => p.ref),
    );
    member.session.sendBinary(VoiceOpcodes.DaveMlsProposals, Buffer.concat([Buffer.from([0]), vector(...proposals.map((p) => p.message))]));
  }

  /** Op 27 revoke: `[1][ProposalRef refs<V>]`, then forget the flight (a new one follows). */
  private revokeInFlight(): void {
    const flight = this.inFlight;
    if (!flight) return;
    for (const [userId, refs] of flight.sentTo) {
      const member = this.members.get(userId);
      if (!member) continue;
      member.session.sendBinary(VoiceOpcodes.DaveMlsProposals, Buffer.concat([Buffer.from([1]), vector(...refs.map((r) => vector(r)))]));
    }
    this.inFlight = null;
  }

  private async commitReceived(session: VoiceSession, raw: Buffer): Promise<void> {
    const flight = this.inFlight;
    const expected = flight?.expected.get(session.userId);
    const parsed = this.sender.parseCommitWelcome(raw);
    // The first valid commit for the epoch wins; late or mismatching ones are ignored.
    const valid =
      flight &&
      expected &&
      parsed &&
      parsed.epoch === flight.epoch &&
      parsed.refs.length === expected.length &&
      expected.every((ref) => parsed.refs.some((r) => bytesEqual(r, ref))) &&
      (flight.addedByRef.size === 0 || parsed.welcome !== null);
    if (!valid || !flight || !parsed) {
      this.stats.ignoredCommits++;
      return;
    }
    this.stats.commits++;
    this.inFlight = null;
    const added = parsed.refs.map((r) => flight.addedByRef.get(hex(r))).filter((u): u is string => u !== undefined);
    const existing = [...this.members.values()].filter((m) =>
      flight.initial ? m.session === session : m.leaf !== null && !flight.readded.has(m.session.userId),
    );
    this.applyToTree(session.userId, flight, added);
    this.epoch = flight.epoch + 1n;
    this.established = true;
    this.departedLeaves = this.departedLeaves.filter((leaf) => !flight.removedLeaves.includes(leaf));

    const id = this.opts.zeroTransitionIds?.() ? 0 : this.nextTransitionId();
    const idBytes = Buffer.alloc(2);
    idBytes.writeUInt16BE(id, 0);
    const waiting = new Set<string>();
    for (const m of existing) {
      m.session.sendBinary(VoiceOpcodes.DaveMlsAnnounceCommitTransition, Buffer.concat([idBytes, parsed.commit]));
      waiting.add(m.session.userId);
    }
    for (const userId of added) {
      const m = this.members.get(userId);
      if (!m || !parsed.welcome) continue;
      this.stats.welcomes++;
      const welcome = Buffer.from(parsed.welcome);
      if (this.opts.takeWelcomeCorruption()) welcome[welcome.length - 1]! ^= 0xff; // breaks its AEAD tag
      m.session.sendBinary(VoiceOpcodes.DaveMlsWelcome, Buffer.concat([idBytes, welcome]));
      waiting.add(userId);
    }
    if (id === 0) {
      // Clients executed it on receipt; nothing to wait for.
      this.stats.transitions++;
      this.run(() => this.propose());
      return;
    }
    const timer = setTimeout(() => this.executeTransition(), this.opts.transitionTimeoutMs);
    this.transition = { id, waiting, timer };
  }

  /** RFC 9420 tree maintenance: removes blank leaves (then truncate), adds fill the leftmost blank. */
  private applyToTree(committer: string, flight: InFlight, added: string[]): void {
    if (flight.initial) {
      this.leaves = [committer];
    } else {
      for (const leaf of flight.removedLeaves) this.leaves[leaf] = null;
      while (this.leaves.length > 0 && this.leaves[this.leaves.length - 1] === null) this.leaves.pop();
    }
    for (const userId of added) {
      const blank = this.leaves.indexOf(null);
      const index = blank === -1 ? this.leaves.length : blank;
      this.leaves[index] = userId;
    }
    for (const m of this.members.values()) m.leaf = null;
    this.leaves.forEach((userId, index) => {
      const m = userId === null ? undefined : this.members.get(userId);
      if (m) {
        m.leaf = index;
        // Consumed: the added members' key packages, and in the initial flight the committer's own
        // (it founded the group from it, so its Add proposal to the others is void).
        if (added.includes(m.session.userId) || (flight.initial && m.session.userId === committer)) m.keyPackage = null;
      }
    });
    // Members who left while the commit was in flight are still in the tree: remove them next.
    this.leaves.forEach((userId, index) => {
      if (userId !== null && !this.members.has(userId) && !this.departedLeaves.includes(index)) this.departedLeaves.push(index);
    });
  }

  private maybeExecuteTransition(): void {
    if (this.transition && this.transition.waiting.size === 0) this.executeTransition();
  }

  private executeTransition(): void {
    const transition = this.transition;
    if (!transition) return;
    clearTimeout(transition.timer);
    this.transition = null;
    const execute = (): void => {
      if (this.closed) return;
      this.stats.transitions++;
      for (const m of this.members.values()) {
        if (m.leaf !== null) m.session.send(VoiceOpcodes.DaveExecuteTransition, { transition_id: transition.id });
      }
      // Anything that arrived meanwhile (joins, leaves, new key packages) goes out now.
      this.run(() => (this.resetIfAlone() ? undefined : this.propose()));
    };
    const delay = this.opts.transitionDelayMs();
    if (delay <= 0) return execute();
    // A fault delays op 22; no new proposals go out meanwhile.
    this.delayedExecute = setTimeout(() => {
      this.delayedExecute = null;
      execute();
    }, delay);
  }

  /**
   * Sole-member reset (protocol.md L279-287): when one member of an established group remains,
   * it is told to start over (op 24 epoch 1, op 21 transition 0) and the group is forgotten.
   */
  private resetIfAlone(): boolean {
    if (!this.established || this.inFlight || this.transition || this.delayedExecute) return false;
    const inGroup = [...this.members.values()].filter((m) => m.leaf !== null);
    if (inGroup.length !== 1) return false;
    const [last] = inGroup;
    this.stats.resets++;
    last!.session.send(VoiceOpcodes.DavePrepareEpoch, { protocol_version: 1, epoch: 1 });
    last!.session.send(VoiceOpcodes.DavePrepareTransition, { protocol_version: 1, transition_id: 0 });
    this.reset();
    last!.keyPackage = null; // its reinit sends a new one
    return true;
  }

  private reset(): void {
    this.established = false;
    this.epoch = 0n;
    this.leaves = [];
    this.departedLeaves = [];
    for (const m of this.members.values()) m.leaf = null;
  }

  /** Commit transitions use ids 1..65535 (id 0 means "execute now" and breaks 0.19.2's recovery). */
  private nextTransitionId(): number {
    this.lastTransitionId = (this.lastTransitionId % 0xffff) + 1;
    return this.lastTransitionId;
  }
}
