/**
 * The simulated Discord world: guilds, users, members, roles, channels, voice states, messages.
 * Every change a client could observe is reported through `onDispatch(guildId, event, data)`;
 * the gateway turns those into per-session dispatches. The world knows nothing about sockets.
 *
 * Simplification: every user is a member of every guild (a small dev world needs no invites).
 */
import { randomBytes } from "node:crypto";
import {
  ChannelType,
  GatewayDispatchEvents,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  type APIChannel,
  type APIGuildMember,
  type APIMessage,
  type APIOverwrite,
  type APIRole,
  type APIUser,
  type APIVoiceState,
  type GuildMemberFlags,
  MessageType,
  type MessageFlags,
  type OverwriteType,
  type RoleFlags,
  type UserFlags,
} from "discord-api-types/v10";
import { SimulatedApiError, unknown } from "./errors.ts";
import { historyPage, mayReadHistory, type HistoryQuery } from "./message-history.ts";
import { MessageReactions } from "./reactions.ts";
import { snowflake } from "./snowflake.ts";
import type { SimGuild, SimUser } from "./types.ts";

/** Channel types the simulator models. */
export const SUPPORTED_CHANNEL_TYPES = [ChannelType.GuildText, ChannelType.GuildVoice, ChannelType.GuildCategory] as const;
export type SimChannelType = (typeof SUPPORTED_CHANNEL_TYPES)[number];

export interface ChannelInput {
  id?: string;
  name: string;
  type: SimChannelType;
  parentId?: string | null;
  userLimit?: number;
  bitrate?: number;
  position?: number;
  permissionOverwrites?: { id: string; type: OverwriteType; allow?: string; deny?: string }[];
}

interface ChannelRecord {
  id: string;
  guildId: string;
  name: string;
  type: SimChannelType;
  parentId: string | null;
  position: number;
  userLimit: number;
  bitrate: number;
  overwrites: APIOverwrite[];
  lastMessageId: string | null;
}

interface MemberRecord {
  roles: string[];
  joinedAt: string;
  /** Server mute / deafen (a moderator's, for every voice channel of the guild). */
  mute?: boolean;
  deaf?: boolean;
}

interface VoiceRecord {
  channelId: string;
  sessionId: string;
  selfMute: boolean;
  selfDeaf: boolean;
}

interface GuildRecord {
  id: string;
  name: string;
  ownerId: string;
  roles: Map<string, APIRole>;
  members: Map<string, MemberRecord>;
  channels: Map<string, ChannelRecord>;
  voice: Map<string, VoiceRecord>;
  /** Permissions taken from the bot in this guild (a fault switch: the bot is the owner otherwise). */
  botDenied?: bigint;
}

/** A stored message: what REST returned when it was made (and edited), and its reactions so far. */
interface StoredMessage {
  channelId: string;
  message: APIMessage;
  reactions?: MessageReactions;
}

export type DispatchListener = (guildId: string, event: GatewayDispatchEvents, data: unknown) => void;

const MAX_STORED_MESSAGES = 1000;
/** Discord checks nonces "in the past few minutes". */
const NONCE_WINDOW_MS = 5 * 60_000;

/**
 * A reaction emoji as the URL carries it (decoded): `name:id` for a custom emoji, else one unicode
 * emoji. Discord answers 10014 Unknown Emoji for anything else, e.g. an emoji that was not URL-encoded.
 */
function parseEmoji(emoji: string): { id: string | null; name: string } | null {
  const custom = /^([A-Za-z0-9_~]{2,32}):(\d{1,20})$/.exec(emoji);
  if (custom) return { id: custom[2]!, name: custom[1]! };
  if (
    /^(?:\p{Regional_Indicator}{2}|[0-9#*]\uFE0F?\u20E3|\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?[\u{E0020}-\u{E007F}]*(?:\u200D\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?)*)$/u.test(
      emoji,
    )
  )
    return { id: null, name: emoji };
  return null;
}

export class World {
  readonly bot: SimUser;
  onDispatch: DispatchListener = () => {};

  private readonly guildsById = new Map<string, GuildRecord>();
  private readonly usersById = new Map<string, SimUser>();
  private readonly channelGuild = new Map<string, string>();
  /** messageId -> message, oldest first (bounded). */
  private readonly messages = new Map<string, StoredMessage>();
  /** `${channelId}:${nonce}` -> the message it made, oldest first (enforce_nonce). */
  private readonly nonces = new Map<string, { messageId: string; at: number }>();

  constructor(bot: { id: string; username: string }) {
    this.bot = { id: bot.id, username: bot.username, bot: true };
    this.usersById.set(bot.id, this.bot);
  }

  // ---- guilds and users ----

  addGuild(input: { id?: string; name: string }): SimGuild {
    const id = input.id ?? snowflake();
    if (this.guildsById.has(id)) throw new SimulatedApiError(400, RESTJSONErrorCodes.GeneralError, `Guild ${id} already exists`);
    const guild: GuildRecord = { id, name: input.name, ownerId: this.bot.id, roles: new Map(), members: new Map(), channels: new Map(), voice: new Map() };
    guild.roles.set(id, buildRole({ id, name: "@everyone", position: 0, permissions: "104324673" }));
    const joinedAt = new Date().toISOString();
    for (const user of this.usersById.values()) guild.members.set(user.id, { roles: [], joinedAt });
    this.guildsById.set(id, guild);
    // The bot "joins" the guild: Discord sends GUILD_CREATE to the guild's shard.
    this.onDispatch(id, GatewayDispatchEvents.GuildCreate, this.guildCreatePayload(id));
    return { id, name: guild.name };
  }

  addUser(input: { id?: string; username: string }): SimUser {
    const id = input.id ?? snowflake();
    if (this.usersById.has(id)) throw new SimulatedApiError(400, RESTJSONErrorCodes.GeneralError, `User ${id} already exists`);
    const user: SimUser = { id, username: input.username };
    this.usersById.set(id, user);
    const joinedAt = new Date().toISOString();
    for (const guild of this.guildsById.values()) {
      guild.members.set(id, { roles: [], joinedAt });
      this.onDispatch(guild.id, GatewayDispatchEvents.GuildMemberAdd, { ...this.memberPayload(guild, id), guild_id: guild.id });
    }
    return { ...user };
  }

  guilds(): SimGuild[] {
    return [...this.guildsById.values()].map((g) => ({ id: g.id, name: g.name }));
  }

  users(): SimUser[] {
    return [...this.usersById.values()].map((u) => ({ ...u }));
  }

  hasGuild(guildId: string): boolean {
    return this.guildsById.has(guildId);
  }

  user(userId: string): SimUser {
    const user = this.usersById.get(userId);
    if (!user) throw unknown("User");
    return user;
  }

  apiUser(userId: string): APIUser {
    const user = this.user(userId);
    const base: APIUser = {
      id: user.id,
      username: user.username,
      discriminator: "0",
      global_name: user.bot ? null : user.username,
      avatar: null,
      public_flags: 0 as UserFlags,
    };
    return user.bot ? { ...base, bot: true } : base;
  }

  // ---- channels ----

  channels(guildId: string): APIChannel[] {
    return [...this.guild(guildId).channels.values()].map(toApiChannel);
  }

  channel(channelId: string): APIChannel {
    return toApiChannel(this.channelRecord(channelId));
  }

  /** The guild a channel belongs to (throws Unknown Channel). */
  channelGuildId(channelId: string): string {
    return this.channelRecord(channelId).guildId;
  }

  isCategory(guildId: string, channelId: string): boolean {
    return this.guild(guildId).channels.get(channelId)?.type === ChannelType.GuildCategory;
  }

  createChannel(guildId: string, input: ChannelInput): APIChannel {
    const guild = this.guild(guildId);
    if (input.parentId != null && !this.isCategory(guildId, input.parentId)) throw unknown("Channel");
    const id = input.id ?? snowflake();
    if (this.channelGuild.has(id)) throw new SimulatedApiError(400, RESTJSONErrorCodes.GeneralError, `Channel ${id} already exists`);
    const record: ChannelRecord = {
      id,
      guildId,
      name: input.name,
      type: input.type,
      parentId: input.parentId ?? null,
      position: input.position ?? guild.channels.size,
      userLimit: input.userLimit ?? 0,
      bitrate: input.bitrate ?? 64_000,
      overwrites: (input.permissionOverwrites ?? []).map((o) => ({ id: o.id, type: o.type, allow: o.allow ?? "0", deny: o.deny ?? "0" })),
      lastMessageId: null,
    };
    guild.channels.set(id, record);
    this.channelGuild.set(id, guildId);
    const channel = toApiChannel(record);
    this.onDispatch(guildId, GatewayDispatchEvents.ChannelCreate, channel);
    return channel;
  }

  /**
   * Deletes a channel the way Discord does: members in it are disconnected (VOICE_STATE_UPDATE
   * with channel_id null), children of a deleted category lose their parent (CHANNEL_UPDATE),
   * then CHANNEL_DELETE.
   */
  deleteChannel(channelId: string): APIChannel {
    const record = this.channelRecord(channelId);
    const guild = this.guild(record.guildId);
    for (const [userId, voice] of guild.voice) {
      if (voice.channelId === channelId) this.leaveVoice(guild.id, userId);
    }
    guild.channels.delete(channelId);
    this.channelGuild.delete(channelId);
    for (const child of guild.channels.values()) {
      if (child.parentId !== channelId) continue;
      child.parentId = null;
      this.onDispatch(guild.id, GatewayDispatchEvents.ChannelUpdate, toApiChannel(child));
    }
    const channel = toApiChannel(record);
    this.onDispatch(guild.id, GatewayDispatchEvents.ChannelDelete, channel);
    return channel;
  }

  // ---- voice ----

  voiceStates(guildId: string): APIVoiceState[] {
    const guild = this.guild(guildId);
    return [...guild.voice.keys()].map((userId) => this.voiceStatePayload(guild, userId));
  }

  /**
   * Modify Guild Member `channel_id` (PATCH /guilds/{guild}/members/{user}): moves a connected
   * member to another voice channel, or disconnects them (null). As on Discord it needs Move
   * Members, the member must be in voice (40032), and a move may exceed the channel's user limit.
   */
  moveMember(guildId: string, userId: string, channelId: string | null): void {
    const guild = this.guild(guildId);
    this.member(guild, userId);
    if ((guild.botDenied ?? 0n) & PermissionFlagsBits.MoveMembers) {
      throw new SimulatedApiError(403, RESTJSONErrorCodes.MissingPermissions, "Missing Permissions");
    }
    if (!guild.voice.has(userId)) {
      throw new SimulatedApiError(400, RESTJSONErrorCodes.TargetUserIsNotConnectedToVoice, "Target user is not connected to voice.");
    }
    if (channelId === null) this.leaveVoice(guildId, userId);
    else this.joinVoice(guildId, userId, channelId, { bypassLimit: true });
  }

  /**
   * Server mute / deafen (Modify Guild Member `mute` / `deaf`, or a moderator in Discord's UI):
   * kept on the member, shown in their voice state. As on Discord the member must be in voice
   * (40032), and through REST (`asBot`) the bot needs Mute Members / Deafen Members. A change
   * dispatches VOICE_STATE_UPDATE (same channel); setting what is already set dispatches nothing.
   */
  setServerVoiceFlags(guildId: string, userId: string, flags: { mute?: boolean; deaf?: boolean }, opts: { asBot?: boolean } = {}): void {
    const guild = this.guild(guildId);
    const member = this.member(guild, userId);
    const denied = opts.asBot ? (guild.botDenied ?? 0n) : 0n;
    if ((flags.mute !== undefined && denied & PermissionFlagsBits.MuteMembers) || (flags.deaf !== undefined && denied & PermissionFlagsBits.DeafenMembers)) {
      throw new SimulatedApiError(403, RESTJSONErrorCodes.MissingPermissions, "Missing Permissions");
    }
    if (!guild.voice.has(userId)) {
      throw new SimulatedApiError(400, RESTJSONErrorCodes.TargetUserIsNotConnectedToVoice, "Target user is not connected to voice.");
    }
    const mute = flags.mute ?? member.mute ?? false;
    const deaf = flags.deaf ?? member.deaf ?? false;
    if (mute === (member.mute ?? false) && deaf === (member.deaf ?? false)) return;
    member.mute = mute;
    member.deaf = deaf;
    this.onDispatch(guildId, GatewayDispatchEvents.VoiceStateUpdate, this.voiceStatePayload(guild, userId));
  }

  /** A member as the REST API shows it. */
  apiMember(guildId: string, userId: string): APIGuildMember {
    return this.memberPayload(this.guild(guildId), userId);
  }

  /** Takes permissions away from the bot in one guild (or gives them back with 0n). */
  denyBotPermissions(guildId: string, permissions: bigint): void {
    this.guild(guildId).botDenied = permissions;
  }

  /**
   * Join or move (one VOICE_STATE_UPDATE either way, as on Discord). Same channel and flags: no
   * event. `opts.sessionId` is the main gateway session (for the bot); others get a random one.
   * `opts.bypassLimit`: a move by someone with Move Members may exceed the channel's user limit.
   * Returns whether a VOICE_STATE_UPDATE was dispatched.
   */
  joinVoice(
    guildId: string,
    userId: string,
    channelId: string,
    opts: { sessionId?: string; selfMute?: boolean; selfDeaf?: boolean; bypassLimit?: boolean } = {},
  ): boolean {
    const guild = this.guild(guildId);
    this.member(guild, userId);
    const channel = guild.channels.get(channelId);
    if (!channel) throw unknown("Channel");
    if (channel.type !== ChannelType.GuildVoice) {
      throw new SimulatedApiError(400, RESTJSONErrorCodes.CannotExecuteActionOnThisChannelType, "Cannot execute action on this channel type");
    }
    const current = guild.voice.get(userId);
    const next: VoiceRecord = {
      channelId,
      sessionId: opts.sessionId ?? current?.sessionId ?? randomBytes(16).toString("hex"),
      selfMute: opts.selfMute ?? current?.selfMute ?? false,
      selfDeaf: opts.selfDeaf ?? current?.selfDeaf ?? false,
    };
    if (
      current &&
      current.channelId === channelId &&
      current.sessionId === next.sessionId &&
      current.selfMute === next.selfMute &&
      current.selfDeaf === next.selfDeaf
    )
      return false;
    const occupants = [...guild.voice.values()].filter((v) => v.channelId === channelId).length;
    if (current?.channelId !== channelId && channel.userLimit > 0 && occupants >= channel.userLimit && userId !== this.bot.id && !opts.bypassLimit) {
      throw new SimulatedApiError(400, RESTJSONErrorCodes.GeneralError, `Voice channel ${channelId} is full (user_limit ${channel.userLimit})`);
    }
    guild.voice.set(userId, next);
    this.onDispatch(guildId, GatewayDispatchEvents.VoiceStateUpdate, this.voiceStatePayload(guild, userId));
    return true;
  }

  /** The user's current voice state, or null when not in voice. */
  voiceState(guildId: string, userId: string): APIVoiceState | null {
    const guild = this.guild(guildId);
    return guild.voice.has(userId) ? this.voiceStatePayload(guild, userId) : null;
  }

  /** Leave: VOICE_STATE_UPDATE with channel_id null. Not in voice: no event. */
  leaveVoice(guildId: string, userId: string): void {
    const guild = this.guild(guildId);
    this.member(guild, userId);
    const current = guild.voice.get(userId);
    if (!current) return;
    guild.voice.delete(userId);
    const state: APIVoiceState = { ...voiceState(guild.id, userId, current, this.memberPayload(guild, userId)), channel_id: null };
    this.onDispatch(guildId, GatewayDispatchEvents.VoiceStateUpdate, state);
  }

  setVoiceFlags(guildId: string, userId: string, flags: { selfMute?: boolean; selfDeaf?: boolean }): void {
    const guild = this.guild(guildId);
    const current = guild.voice.get(userId);
    if (!current) throw new SimulatedApiError(404, RESTJSONErrorCodes.UnknownVoiceState, "Unknown Voice State");
    current.selfMute = flags.selfMute ?? current.selfMute;
    current.selfDeaf = flags.selfDeaf ?? current.selfDeaf;
    this.onDispatch(guildId, GatewayDispatchEvents.VoiceStateUpdate, this.voiceStatePayload(guild, userId));
  }

  // ---- messages ----

  /**
   * Posts a message (text channels and text in voice channels). With `enforceNonce`, a nonce seen
   * in this channel within NONCE_WINDOW_MS returns that message and creates nothing (Discord's
   * `enforce_nonce`); the nonce appears in MESSAGE_CREATE either way.
   */
  postMessage(channelId: string, authorId: string, content: string, opts: { nonce?: string; enforceNonce?: boolean } = {}): APIMessage {
    const record = this.channelRecord(channelId);
    if (record.type === ChannelType.GuildCategory) {
      throw new SimulatedApiError(400, RESTJSONErrorCodes.CannotSendMessagesInNonTextChannel, "Cannot send messages in a non-text channel");
    }
    const now = Date.now();
    const nonceKey = opts.nonce === undefined ? null : `${channelId}:${opts.nonce}`;
    if (nonceKey && opts.enforceNonce) {
      const seen = this.nonces.get(nonceKey);
      const existing = seen && now - seen.at < NONCE_WINDOW_MS ? this.messages.get(seen.messageId) : undefined;
      if (existing) return existing.message;
    }
    const guild = this.guild(record.guildId);
    const id = snowflake();
    const message: APIMessage = {
      id,
      channel_id: channelId,
      author: this.apiUser(authorId),
      content,
      timestamp: new Date(now).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: MessageType.Default,
      flags: 0 as MessageFlags,
      components: [],
      ...(opts.nonce !== undefined ? { nonce: opts.nonce } : {}),
    };
    record.lastMessageId = id;
    this.messages.set(id, { channelId, message });
    if (this.messages.size > MAX_STORED_MESSAGES) this.messages.delete(this.messages.keys().next().value as string);
    if (nonceKey) {
      this.nonces.set(nonceKey, { messageId: id, at: now });
      for (const [k, v] of this.nonces) {
        if (now - v.at < NONCE_WINDOW_MS) break;
        this.nonces.delete(k);
      }
    }
    this.onDispatch(guild.id, GatewayDispatchEvents.MessageCreate, { ...message, guild_id: guild.id, member: this.partialMember(guild, authorId) });
    return message;
  }

  /** Edits a message's content (REST: only its author; the control API may edit anyone's). */
  editMessage(channelId: string, messageId: string, content: string, asUserId?: string): APIMessage {
    const stored = this.storedMessage(channelId, messageId);
    if (asUserId !== undefined && stored.message.author.id !== asUserId) {
      throw new SimulatedApiError(403, RESTJSONErrorCodes.CannotEditMessageAuthoredByAnotherUser, "Cannot edit a message authored by another user");
    }
    stored.message = { ...stored.message, content, edited_timestamp: new Date().toISOString() };
    const guild = this.guild(this.channelGuildId(channelId));
    this.onDispatch(guild.id, GatewayDispatchEvents.MessageUpdate, {
      ...stored.message,
      guild_id: guild.id,
      member: this.partialMember(guild, stored.message.author.id),
    });
    return stored.message;
  }

  deleteMessage(channelId: string, messageId: string): void {
    this.storedMessage(channelId, messageId);
    this.messages.delete(messageId);
    const guildId = this.channelGuildId(channelId);
    this.onDispatch(guildId, GatewayDispatchEvents.MessageDelete, { id: messageId, channel_id: channelId, guild_id: guildId });
  }

  /** Bulk delete: 2-100 messages of one channel (Discord's rule), unknown ids ignored as Discord does. */
  bulkDeleteMessages(channelId: string, messageIds: string[]): void {
    const guildId = this.channelGuildId(channelId);
    if (messageIds.length < 2 || messageIds.length > 100) {
      throw new SimulatedApiError(400, RESTJSONErrorCodes.InvalidFormBodyOrContentType, "Invalid Form Body: messages must list 2 to 100 ids");
    }
    const ids = messageIds.filter((id) => this.messages.get(id)?.channelId === channelId);
    for (const id of ids) this.messages.delete(id);
    if (ids.length) this.onDispatch(guildId, GatewayDispatchEvents.MessageDeleteBulk, { ids, channel_id: channelId, guild_id: guildId });
  }

  addReaction(channelId: string, messageId: string, emoji: string, userId: string): void {
    this.reaction(GatewayDispatchEvents.MessageReactionAdd, channelId, messageId, emoji, userId);
  }

  removeReaction(channelId: string, messageId: string, emoji: string, userId: string): void {
    this.reaction(GatewayDispatchEvents.MessageReactionRemove, channelId, messageId, emoji, userId);
  }

  /** TYPING_START for `userId` (the bot for POST /channels/:id/typing). */
  startTyping(channelId: string, userId: string): void {
    const guild = this.guild(this.channelGuildId(channelId));
    this.apiUser(userId);
    this.onDispatch(guild.id, GatewayDispatchEvents.TypingStart, {
      channel_id: channelId,
      guild_id: guild.id,
      user_id: userId,
      timestamp: Math.floor(Date.now() / 1000),
      member: this.memberPayload(guild, userId),
    });
  }

  /** Messages of a channel, oldest first (for tests and the control page). */
  channelMessages(channelId: string): APIMessage[] {
    this.channelRecord(channelId);
    return [...this.messages.values()].filter((m) => m.channelId === channelId).map((m) => m.message);
  }

  /**
   * Get Channel Messages as the bot: a page newest first, each message with the reactions the bot
   * sees (message-history.ts has Discord's rules for the query and the permissions).
   */
  botHistory(channelId: string, query: HistoryQuery): APIMessage[] {
    const record = this.channelRecord(channelId);
    if (!mayReadHistory(record.type, this.guild(record.guildId).botDenied ?? 0n)) return [];
    const messages = [...this.messages.values()]
      .filter((s) => s.channelId === channelId)
      .map((s) => (s.reactions?.size ? { ...s.message, reactions: s.reactions.toApi(this.bot.id) } : s.message));
    return historyPage(messages, query);
  }

  private reaction(event: GatewayDispatchEvents, channelId: string, messageId: string, emoji: string, userId: string): void {
    const guildId = this.channelGuildId(channelId);
    const stored = this.storedMessage(channelId, messageId);
    const parsed = parseEmoji(emoji);
    if (!parsed) throw new SimulatedApiError(400, RESTJSONErrorCodes.UnknownEmoji, "Unknown Emoji");
    stored.reactions ??= new MessageReactions();
    const changed = event === GatewayDispatchEvents.MessageReactionAdd ? stored.reactions.add(parsed, userId) : stored.reactions.remove(parsed, userId);
    // As Discord: adding a reaction the user already has, or removing one they do not, is a
    // success (204) that changes nothing, and nothing is dispatched.
    if (!changed) return;
    this.onDispatch(guildId, event, {
      user_id: userId,
      channel_id: channelId,
      message_id: messageId,
      guild_id: guildId,
      emoji: parsed,
      burst: false,
      type: 0,
    });
  }

  private storedMessage(channelId: string, messageId: string): StoredMessage {
    this.channelRecord(channelId);
    const stored = this.messages.get(messageId);
    if (!stored || stored.channelId !== channelId) throw unknown("Message");
    return stored;
  }

  /** MESSAGE_CREATE/UPDATE carry a partial member (without user) for guild messages. */
  private partialMember(guild: GuildRecord, userId: string): Omit<APIGuildMember, "user"> {
    const { user: _user, ...member } = this.memberPayload(guild, userId);
    return member;
  }

  // ---- roles ----

  roles(guildId: string): APIRole[] {
    return [...this.guild(guildId).roles.values()];
  }

  createRole(guildId: string, input: { name?: string; permissions?: string; color?: number; hoist?: boolean; mentionable?: boolean }): APIRole {
    const guild = this.guild(guildId);
    const role = buildRole({ id: snowflake(), name: input.name ?? "new role", position: 1, ...input });
    guild.roles.set(role.id, role);
    this.onDispatch(guildId, GatewayDispatchEvents.GuildRoleCreate, { guild_id: guildId, role });
    return role;
  }

  deleteRole(guildId: string, roleId: string): void {
    const guild = this.guild(guildId);
    if (!guild.roles.has(roleId) || roleId === guildId) throw unknown("Role");
    guild.roles.delete(roleId);
    for (const member of guild.members.values()) member.roles = member.roles.filter((r) => r !== roleId);
    this.onDispatch(guildId, GatewayDispatchEvents.GuildRoleDelete, { guild_id: guildId, role_id: roleId });
  }

  addMemberRole(guildId: string, userId: string, roleId: string): void {
    this.changeMemberRoles(guildId, userId, roleId, (roles) => (roles.includes(roleId) ? roles : [...roles, roleId]));
  }

  removeMemberRole(guildId: string, userId: string, roleId: string): void {
    this.changeMemberRoles(guildId, userId, roleId, (roles) => roles.filter((r) => r !== roleId));
  }

  // ---- payloads ----

  /** GUILD_CREATE: the guild with channels, members, roles and voice states (which lack guild_id, per the docs). */
  guildCreatePayload(guildId: string): unknown {
    const guild = this.guild(guildId);
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [...guild.roles.values()],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: "en-US",
      nsfw_level: 0,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      hub_type: null,
      incidents_data: null,
      joined_at: guild.members.get(this.bot.id)?.joinedAt ?? new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: guild.members.size,
      voice_states: [...guild.voice.keys()].map((userId) => {
        const { guild_id: _omit, ...state } = this.voiceStatePayload(guild, userId);
        return state;
      }),
      members: [...guild.members.keys()].map((userId) => this.memberPayload(guild, userId)),
      channels: [...guild.channels.values()].map((c) => {
        const { guild_id: _omit, ...channel } = toApiChannel(c) as APIChannel & { guild_id?: string };
        return channel;
      }),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // ---- internals ----

  private guild(guildId: string): GuildRecord {
    const guild = this.guildsById.get(guildId);
    if (!guild) throw unknown("Guild");
    return guild;
  }

  private channelRecord(channelId: string): ChannelRecord {
    const guildId = this.channelGuild.get(channelId);
    const record = guildId === undefined ? undefined : this.guildsById.get(guildId)?.channels.get(channelId);
    if (!record) throw unknown("Channel");
    return record;
  }

  private member(guild: GuildRecord, userId: string): MemberRecord {
    const member = guild.members.get(userId);
    if (member) return member;
    throw this.usersById.has(userId) ? unknown("Member") : unknown("User");
  }

  private memberPayload(guild: GuildRecord, userId: string): APIGuildMember {
    const member = this.member(guild, userId);
    return {
      user: this.apiUser(userId),
      nick: null,
      avatar: null,
      banner: null,
      roles: [...member.roles],
      joined_at: member.joinedAt,
      premium_since: null,
      deaf: member.deaf ?? false,
      mute: member.mute ?? false,
      flags: 0 as GuildMemberFlags,
      pending: false,
      communication_disabled_until: null,
    };
  }

  private voiceStatePayload(guild: GuildRecord, userId: string): APIVoiceState {
    const record = guild.voice.get(userId);
    if (!record) throw new SimulatedApiError(404, RESTJSONErrorCodes.UnknownVoiceState, "Unknown Voice State");
    return voiceState(guild.id, userId, record, this.memberPayload(guild, userId));
  }

  private changeMemberRoles(guildId: string, userId: string, roleId: string, change: (roles: string[]) => string[]): void {
    const guild = this.guild(guildId);
    const member = this.member(guild, userId);
    if (!guild.roles.has(roleId)) throw unknown("Role");
    const next = change(member.roles);
    if (next.length === member.roles.length && next.every((r, i) => r === member.roles[i])) return;
    member.roles = next;
    this.onDispatch(guildId, GatewayDispatchEvents.GuildMemberUpdate, { ...this.memberPayload(guild, userId), guild_id: guildId });
  }
}

function voiceState(guildId: string, userId: string, record: VoiceRecord, member: APIGuildMember): APIVoiceState {
  return {
    guild_id: guildId,
    channel_id: record.channelId,
    user_id: userId,
    member,
    session_id: record.sessionId,
    deaf: member.deaf,
    mute: member.mute,
    self_deaf: record.selfDeaf,
    self_mute: record.selfMute,
    self_stream: false,
    self_video: false,
    suppress: false,
    request_to_speak_timestamp: null,
  };
}

function buildRole(input: {
  id: string;
  name: string;
  position: number;
  permissions?: string;
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
}): APIRole {
  const color = input.color ?? 0;
  return {
    id: input.id,
    name: input.name,
    color,
    colors: { primary_color: color, secondary_color: null, tertiary_color: null },
    hoist: input.hoist ?? false,
    icon: null,
    unicode_emoji: null,
    position: input.position,
    permissions: input.permissions ?? "0",
    managed: false,
    mentionable: input.mentionable ?? false,
    flags: 0 as RoleFlags,
  };
}

function toApiChannel(c: ChannelRecord): APIChannel {
  const base = { id: c.id, guild_id: c.guildId, name: c.name, position: c.position, permission_overwrites: c.overwrites, flags: 0 };
  switch (c.type) {
    case ChannelType.GuildCategory:
      return { ...base, type: ChannelType.GuildCategory, parent_id: null, nsfw: false };
    case ChannelType.GuildVoice:
      return {
        ...base,
        type: ChannelType.GuildVoice,
        parent_id: c.parentId,
        nsfw: false,
        bitrate: c.bitrate,
        user_limit: c.userLimit,
        rtc_region: null,
        last_message_id: c.lastMessageId,
        rate_limit_per_user: 0,
      };
    case ChannelType.GuildText:
      return {
        ...base,
        type: ChannelType.GuildText,
        parent_id: c.parentId,
        nsfw: false,
        topic: null,
        last_message_id: c.lastMessageId,
        rate_limit_per_user: 0,
        default_auto_archive_duration: 4320,
      } as APIChannel;
  }
}
