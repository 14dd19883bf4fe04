/**
 * Game rooms, inside the guild's GuildHub: creation (with its Discord channel, and for private
 * rooms a role), seats, ending, and the idle cleanup driven by the hub's alarm.
 *
 * Every decision that must not race (idempotency key, per-user limit, the last seat, who ends a
 * room) is taken synchronously in the object before the first `await`, so two requests can never
 * both pass. Discord calls happen after; when one fails part-way, what was already made on
 * Discord is deleted again (or queued for the alarm to retry), so no channel or role is orphaned.
 */
import { PermissionFlagsBits, OverwriteType } from "discord-api-types/v10";
import { DEFAULT_ROOM_USER_LIMIT, backoffDelay, type CreateRoomRequest, type Logger, type Room } from "@spell-coven/common";
import type { DiscordRestClient } from "@spell-coven/common/rest";
import { ApiError, ErrorCodes, type ErrorCode } from "../../../errors.ts";
import { isNotFound, toApiError } from "../../../discord.ts";
import type { Config } from "../../../env.ts";
import type { PublicEvent } from "../../hub-module.ts";
import type { RoomRecord, RoomsStore } from "./rooms-store.ts";

/** What a rooms call answers over RPC (errors travel as data: RPC does not keep error classes). */
export type RoomOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: ErrorCode | string; status: number; message: string; retryAfterMs?: number; details?: unknown };

/** How the rooms service reaches the rest of the hub. */
export interface HubPort {
  readonly guildId: string;
  /** Sequences and broadcasts an event now. */
  publish(event: PublicEvent): void;
  /** Broadcasts once per `id` (the id shared with gateway-node's reports of the same change). */
  publishOnce(id: string, event: PublicEvent): void;
  voiceIn(channelId: string): string[];
}

const VISIBLE =
  PermissionFlagsBits.ViewChannel | PermissionFlagsBits.Connect | PermissionFlagsBits.Speak | PermissionFlagsBits.Stream | PermissionFlagsBits.UseVAD;
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

const fail = (code: ErrorCode | string, message: string, extra: { status?: number; retryAfterMs?: number; details?: unknown } = {}): RoomOutcome<never> => ({
  ok: false,
  code,
  status: extra.status ?? (ErrorCodes as Record<string, number>)[code] ?? 400,
  message,
  ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
  ...(extra.details !== undefined ? { details: extra.details } : {}),
});

const fromError = (err: unknown, action: string): RoomOutcome<never> => {
  const api = err instanceof ApiError ? err : toApiError(err, action);
  return fail(api.code, api.message, { status: api.status, details: api.details });
};

export class RoomsService {
  constructor(
    private readonly rooms: RoomsStore,
    private readonly hub: HubPort,
    private readonly config: Config,
    private readonly discord: () => DiscordRestClient,
    private readonly botUserId: string | null,
    private readonly log: Logger,
  ) {}

  view(r: RoomRecord): Room {
    return {
      channelId: r.channelId,
      name: r.name,
      guildId: this.hub.guildId,
      private: r.private,
      userLimit: r.userLimit,
      creatorId: r.creatorId,
      createdAt: r.createdAt,
      lastActivityAt: r.lastActivityAt,
      members: this.rooms.members(r.channelId),
      voice: this.hub.voiceIn(r.channelId),
      closingAt: r.closingAt,
    };
  }

  list(): Room[] {
    return this.rooms
      .managed()
      .filter((r) => !r.ending)
      .map((r) => this.view(r));
  }

  get(channelId: string): Room | null {
    const r = this.rooms.get(channelId);
    return r?.managed && !r.ending ? this.view(r) : null;
  }

  // ---- create ----------------------------------------------------------------------------------

  async create(
    userId: string,
    body: CreateRoomRequest,
    idempotencyKey: string | null,
    requestHash: string,
  ): Promise<RoomOutcome<{ room: Room; replayed: boolean }>> {
    const now = Date.now();
    const key = idempotencyKey ? `${userId}:${idempotencyKey}` : null;
    if (key) {
      const seen = this.rooms.idempotency(key);
      if (seen && seen.requestHash !== requestHash) {
        return fail("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used for a different request; use a new key.", { status: 422 });
      }
      if (seen?.response) return { ok: true, value: { room: this.refresh(JSON.parse(seen.response) as Room), replayed: true } };
      if (seen)
        return fail("IDEMPOTENCY_IN_PROGRESS", "The first request with this Idempotency-Key is still running; retry in a moment.", {
          status: 409,
          retryAfterMs: 1000,
        });
    }
    const windowMs = this.config.ROOM_CREATE_WINDOW_SECONDS * 1000;
    const recent = this.rooms.creationsSince(userId, now - windowMs);
    if (recent.length >= this.config.ROOM_CREATE_LIMIT) {
      const retryAfterMs = recent[0]! + windowMs - now;
      return fail(
        "RATE_LIMITED",
        `You can create ${this.config.ROOM_CREATE_LIMIT} rooms per ${this.config.ROOM_CREATE_WINDOW_SECONDS / 60} minutes; try again in ${Math.ceil(retryAfterMs / 1000)} s.`,
        { status: 429, retryAfterMs },
      );
    }
    if (key) this.rooms.beginIdempotent(key, requestHash, now);
    this.rooms.recordCreation(userId, now, windowMs);

    const made = await this.createOnDiscord(userId, body);
    if (!made.ok) {
      if (key) this.rooms.forgetIdempotent(key);
      return made;
    }
    const { channelId, name, roleId } = made.value;
    const createdAt = Date.now();
    this.rooms.saveManaged({
      channelId,
      name,
      creatorId: userId,
      private: Boolean(body.private),
      userLimit: body.userLimit ?? DEFAULT_ROOM_USER_LIMIT,
      roleId,
      createdAt,
      lastActivityAt: createdAt,
    });
    await this.releaseSeats(userId, channelId, createdAt);
    this.rooms.addMember(channelId, userId, createdAt);
    this.hub.publishOnce(`room.created:${channelId}`, { event: "room.created", payload: { channelId, name, guildId: this.hub.guildId } });
    const room = this.view(this.rooms.get(channelId)!);
    if (key) this.rooms.completeIdempotent(key, JSON.stringify(room));
    this.log.info("room created", { channelId, userId, private: room.private });
    return { ok: true, value: { room, replayed: false } };
  }

  /** A replayed answer shows the room as it is now (or as it was, once it is gone). */
  private refresh(room: Room): Room {
    return this.get(room.channelId) ?? room;
  }

  private async createOnDiscord(userId: string, body: CreateRoomRequest): Promise<RoomOutcome<{ channelId: string; name: string; roleId: string | null }>> {
    const discord = this.discord();
    const guildId = this.hub.guildId;
    const name = body.name ?? "Game Room";
    const reason = `Spell Coven room created by player ${userId}`;
    let roleId: string | null = null;
    let channelId: string | null = null;
    try {
      if (body.private) {
        roleId = (await discord.createRole(guildId, { name: `Room: ${name}`.slice(0, 100), permissions: "0", mentionable: false, reason })).id;
      }
      const overwrites = roleId
        ? [
            { id: guildId, type: OverwriteType.Role, deny: String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.Connect) },
            { id: roleId, type: OverwriteType.Role, allow: String(VISIBLE) },
            ...(this.botUserId
              ? [
                  {
                    id: this.botUserId,
                    type: OverwriteType.Member,
                    allow: String(VISIBLE | PermissionFlagsBits.ManageChannels | PermissionFlagsBits.MoveMembers),
                  },
                ]
              : []),
          ]
        : undefined;
      const channel = await discord.createVoiceChannel(guildId, name, {
        parentId: body.parentId,
        userLimit: body.userLimit ?? DEFAULT_ROOM_USER_LIMIT,
        ...(overwrites ? { permissionOverwrites: overwrites } : {}),
        reason,
      });
      channelId = channel.id;
      if (roleId) await this.grantRole(userId, roleId, reason);
      return { ok: true, value: { channelId, name: channel.name ?? name, roleId } };
    } catch (err) {
      this.log.warn("room creation failed part-way; undoing", { userId, channelId, roleId, err });
      await this.deleteFromDiscord(channelId, roleId, "Spell Coven room creation failed; cleaning up");
      return fromError(err, "create the room");
    }
  }

  // ---- join ------------------------------------------------------------------------------------

  async join(channelId: string, userId: string): Promise<RoomOutcome<{ room: Room; alreadyMember: boolean; leftChannelId: string | null }>> {
    const room = this.rooms.get(channelId);
    if (!room?.managed || room.ending) return fail("ROOM_NOT_FOUND", "This room does not exist any more.", { status: 404 });
    const members = this.rooms.members(channelId);
    if (members.includes(userId)) return { ok: true, value: { room: this.view(room), alreadyMember: true, leftChannelId: null } };
    // The bot (table bot, rtc-node) sits in voice too, but takes no seat.
    const seated = new Set([...members, ...this.playersInVoice(channelId)]);
    if (!seated.has(userId) && room.userLimit > 0 && seated.size >= room.userLimit) {
      return fail("ROOM_FULL", `This room is full (${room.userLimit} of ${room.userLimit} seats taken).`, { status: 409 });
    }
    // The seat is taken now, before any await: a racing join sees it.
    const now = Date.now();
    this.rooms.addMember(channelId, userId, now);
    this.rooms.touch(channelId, now);
    if (room.roleId) {
      try {
        await this.grantRole(userId, room.roleId, "Joined a Spell Coven room with an invite");
      } catch (err) {
        this.rooms.removeMember(channelId, userId);
        return fromError(err, "give you access to the room's voice channel");
      }
    }
    // A player sits at one table at a time: the old seat goes once the new one is certain.
    const left = await this.releaseSeats(userId, channelId, now);
    // Unique id: a seat released after a failed role grant may be taken again later.
    this.hub.publishOnce(`room.seated:${channelId}:${userId}:${now}`, { event: "room.seated", payload: { guildId: this.hub.guildId, channelId, userId } });
    return { ok: true, value: { room: this.view(this.rooms.get(channelId) ?? room), alreadyMember: false, leftChannelId: left[0] ?? null } };
  }

  // ---- leave -----------------------------------------------------------------------------------

  /** Gives up a seat. The creator may leave too (and may still end the room). */
  async leave(channelId: string, userId: string): Promise<RoomOutcome<{ room: Room }>> {
    const room = this.rooms.get(channelId);
    if (!room?.managed || room.ending) return fail("ROOM_NOT_FOUND", "This room does not exist any more.", { status: 404 });
    if (!this.rooms.members(channelId).includes(userId)) return fail("NOT_ROOM_MEMBER", "You do not hold a seat at this table.", { status: 403 });
    await this.unseat(room, userId, Date.now());
    return { ok: true, value: { room: this.view(this.rooms.get(channelId) ?? room) } };
  }

  /** Releases the player's seats at every table but `keep`; returns the channels they left. */
  private async releaseSeats(userId: string, keep: string, now: number): Promise<string[]> {
    const left: string[] = [];
    for (const channelId of this.rooms.seatsOf(userId)) {
      const room = channelId === keep ? null : this.rooms.get(channelId);
      if (!room) continue;
      await this.unseat(room, userId, now);
      left.push(channelId);
    }
    return left;
  }

  private async unseat(room: RoomRecord, userId: string, now: number): Promise<void> {
    this.rooms.removeMember(room.channelId, userId);
    this.hub.publishOnce(`room.unseated:${room.channelId}:${userId}:${now}`, {
      event: "room.unseated",
      payload: { guildId: this.hub.guildId, channelId: room.channelId, userId },
    });
    // A private room's role is what lets a player see its channel: it goes with the seat. Best
    // effort: the seat is given up even when Discord does not answer (the role then stays).
    if (room.roleId) await this.revokeRole(userId, room.roleId);
  }

  private async revokeRole(userId: string, roleId: string): Promise<void> {
    try {
      await this.discord().removeMemberRole(this.hub.guildId, userId, roleId, { reason: "Left a Spell Coven table" });
    } catch (err) {
      if (!isNotFound(err)) this.log.warn("could not take back a private room's role", { userId, roleId, err });
    }
  }

  // ---- end -------------------------------------------------------------------------------------

  /** Ends a room for a player: only its creator or an admin may. */
  async end(channelId: string, userId: string, isAdmin: boolean): Promise<RoomOutcome<{ channelId: string; alreadyEnding: boolean }>> {
    const room = this.rooms.get(channelId);
    if (!room?.managed) return fail("ROOM_NOT_FOUND", "This room does not exist (it may already have ended).", { status: 404 });
    if (room.creatorId !== userId && !isAdmin)
      return fail("NOT_ROOM_CREATOR", "Only the player who created this room (or an admin) can end it.", { status: 403 });
    return this.remove(room, `Room ended by player ${userId}`);
  }

  private async remove(room: RoomRecord, reason: string): Promise<RoomOutcome<{ channelId: string; alreadyEnding: boolean }>> {
    const { channelId } = room;
    // Whoever marks it first ends it; the other (player or alarm) gets an answer, not a second delete.
    if (!this.rooms.markEnding(channelId)) return { ok: true, value: { channelId, alreadyEnding: true } };
    try {
      await this.discord().deleteChannel(channelId, { reason });
    } catch (err) {
      if (!isNotFound(err)) {
        this.rooms.clearEnding(channelId);
        return fromError(err, "delete the room's voice channel");
      }
    }
    if (room.roleId) await this.deleteFromDiscord(null, room.roleId, reason);
    this.rooms.remove(channelId);
    this.hub.publishOnce(`room.deleted:${channelId}`, { event: "room.deleted", payload: { channelId, guildId: this.hub.guildId } });
    this.log.info("room removed", { channelId, reason });
    return { ok: true, value: { channelId, alreadyEnding: false } };
  }

  /** The channel was deleted in Discord itself: forget the room and delete its role. */
  channelDeleted(channelId: string): void {
    const room = this.rooms.remove(channelId);
    if (room?.roleId) this.rooms.queueCleanup("role", room.roleId, Date.now());
  }

  // ---- activity and idle cleanup -----------------------------------------------------------------

  /** Voice activity in a channel: keeps its room alive and cancels a closing warning. */
  activity(channelId: string, now: number): PublicEvent[] {
    const room = this.rooms.get(channelId);
    if (!room?.managed) return [];
    this.rooms.touch(channelId, now);
    if (room.closingAt !== null && this.playersInVoice(channelId).length > 0) {
      this.rooms.setClosing(channelId, null);
      return [{ event: "room.closing.cancelled", payload: { guildId: this.hub.guildId, channelId } }];
    }
    return [];
  }

  /** Run by the alarm: warns idle rooms, removes rooms whose warning ran out, retries cleanups. */
  async sweep(now: number): Promise<void> {
    const publish = (e: PublicEvent) => this.hub.publish(e);
    const idleMs = this.config.ROOM_IDLE_SECONDS * 1000;
    for (const room of this.rooms.managed()) {
      if (room.ending) continue;
      const occupied = this.playersInVoice(room.channelId).length > 0;
      if (occupied) {
        if (room.closingAt !== null) for (const e of this.activity(room.channelId, now)) publish(e);
      } else if (room.closingAt === null) {
        if (now >= room.lastActivityAt + idleMs) {
          const closesAt = now + this.config.ROOM_CLOSING_WARNING_SECONDS * 1000;
          this.rooms.setClosing(room.channelId, closesAt);
          publish({ event: "room.closing", payload: { guildId: this.hub.guildId, channelId: room.channelId, closesAt } });
        }
      } else if (now >= room.closingAt) {
        const result = await this.remove(room, `Room idle for ${Math.round(idleMs / 60_000)} minutes`);
        if (!result.ok) this.log.warn("idle room could not be removed yet; will retry", { channelId: room.channelId, code: result.code });
      }
    }
    for (const job of this.rooms.dueCleanups(now)) {
      try {
        if (job.kind === "channel") await this.discord().deleteChannel(job.id, { reason: "Spell Coven cleanup" });
        else await this.discord().deleteRole(this.hub.guildId, job.id, { reason: "Spell Coven cleanup" });
        this.rooms.cleanupDone(job.kind, job.id);
      } catch (err) {
        if (isNotFound(err)) this.rooms.cleanupDone(job.kind, job.id);
        else this.rooms.cleanupFailed(job.kind, job.id, now + backoffDelay(job.attempts, 5_000, 10 * 60_000));
      }
    }
    this.rooms.pruneIdempotency(now - IDEMPOTENCY_TTL_MS);
  }

  /** When the alarm next has room work: an idle deadline, a warning running out, or a cleanup. */
  nextDue(): number | null {
    const idleMs = this.config.ROOM_IDLE_SECONDS * 1000;
    let next = this.rooms.nextCleanupAt() ?? Infinity;
    for (const room of this.rooms.managed()) {
      if (room.ending) continue;
      if (room.closingAt !== null) next = Math.min(next, room.closingAt);
      else if (this.playersInVoice(room.channelId).length === 0) next = Math.min(next, room.lastActivityAt + idleMs);
    }
    return next === Infinity ? null : next;
  }

  /**
   * People in the room's voice channel, without the bot: the table bot (rtc-node) sits in voice
   * but takes no seat and does not keep an idle room alive. Presence itself shows the bot as
   * Discord does; the lobby marks it as the table bot.
   */
  private playersInVoice(channelId: string): string[] {
    return this.hub.voiceIn(channelId).filter((u) => u !== this.botUserId);
  }

  /** Discord answers 404 when the player is not in the server: say so rather than "not found". */
  private async grantRole(userId: string, roleId: string, reason: string): Promise<void> {
    try {
      await this.discord().addMemberRole(this.hub.guildId, userId, roleId, { reason });
    } catch (err) {
      if (isNotFound(err)) throw new ApiError("NOT_GUILD_MEMBER", "You are not a member of the Discord server yet: join it first, then try again.");
      throw err;
    }
  }

  /** Best effort now; whatever Discord does not confirm is queued for the alarm to retry. */
  private async deleteFromDiscord(channelId: string | null, roleId: string | null, reason: string): Promise<void> {
    const discord = this.discord();
    const attempt = async (kind: "channel" | "role", id: string) => {
      try {
        if (kind === "channel") await discord.deleteChannel(id, { reason });
        else await discord.deleteRole(this.hub.guildId, id, { reason });
      } catch (err) {
        if (!isNotFound(err)) {
          this.log.warn("Discord cleanup failed; queued for retry", { kind, id, err });
          this.rooms.queueCleanup(kind, id, Date.now() + 5_000);
        }
      }
    };
    if (channelId) await attempt("channel", channelId);
    if (roleId) await attempt("role", roleId);
  }
}
