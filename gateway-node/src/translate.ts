/**
 * Discord dispatches -> hub events. Keeps one compact voice-state cache per forwarded guild
 * (Map<userId, channelId>, and the mute/deafen flags of those who have one set), seeded from
 * GUILD_CREATE, so that VOICE_STATE_UPDATE (which carries only the new state) becomes voice.joined,
 * voice.left, or left + joined for a move. A mute or deafen change (self or server) that keeps the
 * channel becomes voice.flags; video or stream toggles yield nothing. The guild's voice channels
 * are kept too, so each presence.snapshot also carries them (`channels`) and the hub reconciles
 * its rooms; snapshots carry the flags (`voiceFlags`).
 *
 * Event ids are unique without trusting the peer (a server may reuse session ids or restart seq),
 * and stable across retries (the outbox keeps each event, id included, until the Worker takes it):
 *   voice        v:<eventKey>:<seq>   eventKey is random per gateway connection (a move:
 *                                     v:<eventKey>:<seq>:0 left, :1 joined; the flags that
 *                                     follow a join or move: v:<eventKey>:<seq>:f)
 *   rooms        room.created:<channelId> / room.deleted:<channelId> (same ids as the Worker's own
 *                create-room path, so a room made through the API is broadcast once)
 *   snapshots    snap:<guildId>:<processKey>:<counter>   processKey is random per Translator
 *   chat         m:<eventKey>:<seq>  (with ENABLE_MESSAGE_EVENTS, for the guild's voice channels only)
 *
 * Every event of one dispatch carries the same W3C trace id, started when the dispatch arrived.
 */
import { randomBytes } from "node:crypto";
import { ChannelType } from "discord-api-types/v10";
import {
  chatMessage,
  newTraceId,
  packVoiceFlags,
  unpackVoiceFlags,
  type InternalEvent,
  type MessageData,
  type PresenceSnapshotPayload,
  type VoiceFlags,
} from "@spell-coven/common";
import { chatDeleted, chatReaction, chatTyping, type DeleteData, type ReactionData, type TypingData } from "./chat-translate.ts";

type SnapshotChannel = NonNullable<PresenceSnapshotPayload["channels"]>[number];

interface GuildVoiceCache {
  /** userId -> channelId for every user in a voice channel. */
  voice: Map<string, string>;
  /**
   * channelId -> name of every voice channel (ChannelType.GuildVoice; stage channels are not
   * rooms), from GUILD_CREATE and the channel dispatches since. Sent with every snapshot so the hub
   * can reconcile its rooms after a gap (a lost session, a restart) as it does presence.
   */
  rooms: Map<string, string>;
  /**
   * userId -> mute/deafen bits (packVoiceFlags) of users in voice with at least one set: most people are
   * neither muted nor deafened, so the cache stays the size of `voice` at worst.
   */
  flags: Map<string, number>;
  available: boolean;
}

export type HubEventSink = (event: InternalEvent) => void;

export interface TranslatorStats {
  guilds: number;
  voiceStates: number;
}

// Minimal views of the dispatch payloads we read (the rest of each object is ignored).
interface VoiceStateData {
  guild_id?: string;
  user_id: string;
  channel_id: string | null;
  self_mute?: boolean;
  self_deaf?: boolean;
  /** Server mute / deafen, set by a moderator (Modify Guild Member `mute` / `deaf`). */
  mute?: boolean;
  deaf?: boolean;
}
interface ChannelData {
  id: string;
  type: number;
  guild_id?: string;
  name?: string | null;
}
interface GuildCreateData {
  id: string;
  unavailable?: boolean;
  voice_states?: Omit<VoiceStateData, "guild_id">[];
  channels?: ChannelData[];
}

export class Translator {
  private readonly guilds = new Map<string, GuildVoiceCache>();
  private snapshotCounter = 0;
  /** Random per process: snapshot ids of a restarted process never repeat the last one's. */
  private readonly processKey = randomBytes(6).toString("hex");
  private readonly now: () => number;
  private readonly messages: { enabled: boolean; contentIntent: boolean };
  /** Trace id of the dispatch being translated. */
  private traceId: string | undefined;
  private readonly sink: HubEventSink;

  constructor(guildIds: Iterable<string>, sink: HubEventSink, opts: { now?: () => number; messageEvents?: boolean; messageContent?: boolean } = {}) {
    this.now = opts.now ?? Date.now;
    this.messages = { enabled: opts.messageEvents ?? false, contentIntent: opts.messageContent ?? false };
    this.sink = (ev) => sink(this.traceId === undefined ? ev : { ...ev, traceId: this.traceId });
    for (const id of guildIds) this.guilds.set(id, { voice: new Map(), rooms: new Map(), flags: new Map(), available: false });
  }

  isForwarded(guildId: string): boolean {
    return this.guilds.has(guildId);
  }

  /** One gateway dispatch. `eventKey` and `seq` identify it uniquely (see the ids above). */
  handleDispatch(t: string | null, d: unknown, eventKey: string, seq: number | null): void {
    this.traceId = newTraceId();
    try {
      this.dispatch(t, d, eventKey, seq);
    } finally {
      this.traceId = undefined;
    }
  }

  private dispatch(t: string | null, d: unknown, eventKey: string, seq: number | null): void {
    switch (t) {
      case "VOICE_STATE_UPDATE":
        this.voiceStateUpdate(d as VoiceStateData, eventKey, seq);
        return;
      case "CHANNEL_CREATE":
      case "CHANNEL_DELETE":
        this.channel(t, d as ChannelData);
        return;
      case "CHANNEL_UPDATE":
        this.channelUpdate(d as ChannelData);
        return;
      case "GUILD_CREATE":
        this.guildCreate(d as GuildCreateData);
        return;
      case "GUILD_DELETE":
        this.guildDelete(d as { id: string; unavailable?: boolean });
        return;
      case "MESSAGE_CREATE":
      case "MESSAGE_UPDATE":
      case "MESSAGE_DELETE":
      case "MESSAGE_DELETE_BULK":
      case "MESSAGE_REACTION_ADD":
      case "MESSAGE_REACTION_REMOVE":
      case "TYPING_START":
        if (this.messages.enabled) this.chat(t, d as { channel_id?: string; guild_id?: string }, `m:${eventKey}:${seq ?? "x"}`);
        return;
      default:
        return;
    }
  }

  /** A chat dispatch of a voice channel (a table's chat is the text in its voice channel). */
  private chat(t: string, d: { channel_id?: string; guild_id?: string }, id: string): void {
    const guildId = d.guild_id;
    const g = guildId === undefined ? undefined : this.guilds.get(guildId);
    if (!g || !guildId || d.channel_id === undefined || !g.rooms.has(d.channel_id)) return;
    const ts = this.now();
    const base = { id, guildId, ts };
    switch (t) {
      case "MESSAGE_CREATE":
      case "MESSAGE_UPDATE": {
        const payload = chatMessage(d as MessageData, guildId, this.messages.contentIntent);
        if (payload) this.sink({ ...base, event: t === "MESSAGE_CREATE" ? "message.created" : "message.updated", payload });
        return;
      }
      case "MESSAGE_DELETE":
      case "MESSAGE_DELETE_BULK": {
        const payload = chatDeleted(d as DeleteData, guildId);
        if (payload) this.sink({ ...base, event: "message.deleted", payload });
        return;
      }
      case "MESSAGE_REACTION_ADD":
      case "MESSAGE_REACTION_REMOVE":
        this.sink({
          ...base,
          event: t === "MESSAGE_REACTION_ADD" ? "message.reaction.added" : "message.reaction.removed",
          payload: chatReaction(d as ReactionData, guildId),
        });
        return;
      case "TYPING_START":
        this.sink({ ...base, event: "typing.started", payload: chatTyping(d as TypingData, guildId) });
        return;
    }
  }

  private voiceStateUpdate(d: VoiceStateData, eventKey: string, seq: number | null): void {
    const guildId = d.guild_id;
    if (guildId === undefined) return;
    const g = this.guilds.get(guildId);
    if (g === undefined) return;
    const userId = d.user_id;
    const next = d.channel_id ?? null;
    const prev = g.voice.get(userId) ?? null;
    const base = `v:${eventKey}:${seq ?? "x"}`;
    const ts = this.now();
    const bits = next === null ? 0 : flagBits(d);
    const flagsChanged = (g.flags.get(userId) ?? 0) !== bits;
    // The cache is updated before anything is emitted: an outbox overflow builds its snapshot from it.
    if (bits === 0) g.flags.delete(userId);
    else g.flags.set(userId, bits);
    if (next === prev) {
      // Same channel: a mute / deafen change (voice.flags), or a video / stream toggle (nothing).
      if (next !== null && flagsChanged) this.sink({ id: base, guildId, event: "voice.flags", payload: flagsPayload(guildId, next, userId, bits), ts });
      return;
    }
    if (next === null) g.voice.delete(userId);
    else g.voice.set(userId, next);
    if (prev !== null && next !== null) {
      this.sink({ id: `${base}:0`, guildId, event: "voice.left", payload: { guildId, channelId: prev, userId }, ts });
      this.sink({ id: `${base}:1`, guildId, event: "voice.joined", payload: { guildId, channelId: next, userId }, ts });
    } else if (next !== null) {
      this.sink({ id: base, guildId, event: "voice.joined", payload: { guildId, channelId: next, userId }, ts });
    } else {
      this.sink({ id: base, guildId, event: "voice.left", payload: { guildId, channelId: prev, userId }, ts });
    }
    // A join (or move) carries its flags as a following voice.flags rather than as fields of
    // voice.joined: the joined payload stays the seed's three fields for every existing client
    // and hub, an unflagged join (the usual one) costs nothing more, and the hub has one rule
    // for flags (leaving clears them; only voice.flags sets them), so a move re-sends them.
    if (next !== null && bits !== 0) this.sink({ id: `${base}:f`, guildId, event: "voice.flags", payload: flagsPayload(guildId, next, userId, bits), ts });
  }

  private channel(t: "CHANNEL_CREATE" | "CHANNEL_DELETE", d: ChannelData): void {
    if (d.type !== ChannelType.GuildVoice || d.guild_id === undefined) return;
    const g = this.guilds.get(d.guild_id);
    if (g === undefined) return;
    const guildId = d.guild_id;
    const ts = this.now();
    if (t === "CHANNEL_CREATE") {
      g.rooms.set(d.id, roomName(d));
      this.sink({
        id: `room.created:${d.id}`,
        guildId,
        event: "room.created",
        payload: { channelId: d.id, name: roomName(d), guildId },
        ts,
      });
    } else {
      g.rooms.delete(d.id);
      this.sink({ id: `room.deleted:${d.id}`, guildId, event: "room.deleted", payload: { channelId: d.id, guildId }, ts });
    }
  }

  /** A rename is kept for the next snapshot (there is no room.updated event); a type change away from voice drops it. */
  private channelUpdate(d: ChannelData): void {
    const g = d.guild_id === undefined ? undefined : this.guilds.get(d.guild_id);
    if (g === undefined) return;
    if (d.type === ChannelType.GuildVoice) g.rooms.set(d.id, roomName(d));
    else g.rooms.delete(d.id);
  }

  private guildCreate(d: GuildCreateData): void {
    const g = this.guilds.get(d.id);
    if (g === undefined || d.unavailable) return;
    g.voice.clear();
    g.flags.clear();
    for (const vs of d.voice_states ?? []) {
      if (!vs.channel_id) continue;
      g.voice.set(vs.user_id, vs.channel_id);
      const bits = flagBits(vs);
      if (bits !== 0) g.flags.set(vs.user_id, bits);
    }
    g.rooms.clear();
    for (const c of d.channels ?? []) if (c.type === ChannelType.GuildVoice) g.rooms.set(c.id, roomName(c));
    g.available = true;
    this.sink(this.buildSnapshot(d.id));
  }

  private guildDelete(d: { id: string; unavailable?: boolean }): void {
    const g = this.guilds.get(d.id);
    if (g === undefined) return;
    g.available = false;
    // An outage (unavailable: true): keep the cache; the GUILD_CREATE that ends it sends a snapshot.
    if (d.unavailable) return;
    // The bot left or was removed: nobody is visible in voice any more. Its channels are unknown
    // now (not gone): the snapshot leaves `channels` out, so the hub keeps its rooms.
    g.voice.clear();
    g.flags.clear();
    g.rooms.clear();
    this.sink(this.buildSnapshot(d.id));
  }

  /**
   * Current voice presence of a forwarded guild as a presence.snapshot event with a fresh id, with
   * the guild's voice channels while the guild is available (its channel list is known).
   */
  buildSnapshot(guildId: string): Extract<InternalEvent, { event: "presence.snapshot" }> {
    const g = this.guilds.get(guildId);
    const voiceStates: PresenceSnapshotPayload["voiceStates"] = [];
    const voiceFlags: NonNullable<PresenceSnapshotPayload["voiceFlags"]> = [];
    if (g) for (const [userId, channelId] of g.voice) voiceStates.push({ userId, channelId });
    if (g) for (const [userId, bits] of g.flags) voiceFlags.push({ userId, ...unpackVoiceFlags(bits) });
    let channels: SnapshotChannel[] | undefined;
    if (g?.available) {
      channels = [];
      for (const [channelId, name] of g.rooms) channels.push({ channelId, name });
    }
    return {
      id: `snap:${guildId}:${this.processKey}:${++this.snapshotCounter}`,
      guildId,
      event: "presence.snapshot",
      payload: { guildId, voiceStates, voiceFlags, ...(channels ? { channels } : {}) },
      ts: this.now(),
    };
  }

  /** Cached guilds and voice states (for health and the benchmark). */
  stats(): TranslatorStats {
    let voiceStates = 0;
    for (const g of this.guilds.values()) voiceStates += g.voice.size;
    return { guilds: this.guilds.size, voiceStates };
  }

  /** userId -> flags of one guild's users in voice who have a flag set (read-only, for tests). */
  flagsOf(guildId: string): ReadonlyMap<string, VoiceFlags> | undefined {
    const g = this.guilds.get(guildId);
    return g && new Map(Array.from(g.flags, ([userId, bits]) => [userId, unpackVoiceFlags(bits)]));
  }

  /** userId -> channelId of one guild (read-only view for tests and health). */
  voiceOf(guildId: string): ReadonlyMap<string, string> | undefined {
    return this.guilds.get(guildId)?.voice;
  }
}

/** The room name the hub accepts (1-100 characters): Discord's name, or the id if it has none. */
function roomName(c: ChannelData): string {
  return (c.name || c.id).slice(0, 100);
}

/** A voice state's four flags as bits (a flag Discord left out counts as not set). */
function flagBits(d: Pick<VoiceStateData, "self_mute" | "self_deaf" | "mute" | "deaf">): number {
  return packVoiceFlags({ selfMute: d.self_mute === true, selfDeaf: d.self_deaf === true, serverMute: d.mute === true, serverDeaf: d.deaf === true });
}

function flagsPayload(guildId: string, channelId: string, userId: string, bits: number) {
  return { guildId, channelId, userId, ...unpackVoiceFlags(bits) };
}
