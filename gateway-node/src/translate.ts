/**
 * Discord dispatches -> hub events. Keeps one compact voice-state cache per forwarded guild
 * (Map<userId, channelId>), seeded from GUILD_CREATE, so that VOICE_STATE_UPDATE (which carries
 * only the new state) becomes voice.joined, voice.left, or left + joined for a move. Mute, deafen,
 * video or stream toggles keep the channel and yield nothing.
 *
 * Event ids are stable across retries and unique:
 *   voice        v:<sessionId>:<seq>          (a move: v:<sessionId>:<seq>:0 left, :1 joined)
 *   rooms        room.created:<channelId> / room.deleted:<channelId> (same ids as the Worker's own
 *                create-room path, so a room made through the API is broadcast once)
 *   snapshots    snap:<guildId>:<sessionId>:<counter>
 */
import type { HubEvent } from "@spell-coven/common";
import type { PresenceSnapshotPayload } from "@spell-coven/common";

/** Discord ChannelType.GuildVoice. Stage channels (13) are not rooms. */
const GUILD_VOICE = 2;

interface GuildState {
  /** userId -> channelId for every user in a voice channel. */
  voice: Map<string, string>;
  /** Session of the shard that last delivered this guild (for overflow snapshot ids). */
  sessionId: string;
  available: boolean;
}

export type HubEventSink = (event: HubEvent) => void;

export interface TranslatorStats {
  guilds: number;
  voiceStates: number;
}

// Minimal views of the dispatch payloads we read (the rest of each object is ignored).
interface VoiceStateData {
  guild_id?: string;
  user_id: string;
  channel_id: string | null;
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
  voice_states?: { user_id: string; channel_id: string | null }[];
}

export class Translator {
  private readonly guilds = new Map<string, GuildState>();
  private snapshotCounter = 0;
  private readonly now: () => number;

  constructor(
    guildIds: Iterable<string>,
    private readonly sink: HubEventSink,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    for (const id of guildIds) this.guilds.set(id, { voice: new Map(), sessionId: "none", available: false });
  }

  isForwarded(guildId: string): boolean {
    return this.guilds.has(guildId);
  }

  /** One gateway dispatch. `sessionId` and `seq` identify it uniquely within the bot's sessions. */
  handleDispatch(t: string | null, d: unknown, sessionId: string, seq: number | null): void {
    switch (t) {
      case "VOICE_STATE_UPDATE":
        this.voiceStateUpdate(d as VoiceStateData, sessionId, seq);
        return;
      case "CHANNEL_CREATE":
      case "CHANNEL_DELETE":
        this.channel(t, d as ChannelData);
        return;
      case "GUILD_CREATE":
        this.guildCreate(d as GuildCreateData, sessionId);
        return;
      case "GUILD_DELETE":
        this.guildDelete(d as { id: string; unavailable?: boolean }, sessionId);
        return;
      default:
        return;
    }
  }

  private voiceStateUpdate(d: VoiceStateData, sessionId: string, seq: number | null): void {
    const guildId = d.guild_id;
    if (guildId === undefined) return;
    const g = this.guilds.get(guildId);
    if (g === undefined) return;
    const userId = d.user_id;
    const next = d.channel_id ?? null;
    const prev = g.voice.get(userId) ?? null;
    if (next === prev) return; // mute / deafen / video / stream toggle
    if (next === null) g.voice.delete(userId);
    else g.voice.set(userId, next);
    const base = `v:${sessionId}:${seq ?? "x"}`;
    const ts = this.now();
    if (prev !== null && next !== null) {
      this.sink({ id: base + ":0", guildId, event: "voice.left", payload: { guildId, channelId: prev, userId }, ts });
      this.sink({ id: base + ":1", guildId, event: "voice.joined", payload: { guildId, channelId: next, userId }, ts });
    } else if (next !== null) {
      this.sink({ id: base, guildId, event: "voice.joined", payload: { guildId, channelId: next, userId }, ts });
    } else {
      this.sink({ id: base, guildId, event: "voice.left", payload: { guildId, channelId: prev, userId }, ts });
    }
  }

  private channel(t: "CHANNEL_CREATE" | "CHANNEL_DELETE", d: ChannelData): void {
    if (d.type !== GUILD_VOICE || d.guild_id === undefined || !this.guilds.has(d.guild_id)) return;
    const guildId = d.guild_id;
    const ts = this.now();
    if (t === "CHANNEL_CREATE") {
      this.sink({
        id: `room.created:${d.id}`,
        guildId,
        event: "room.created",
        payload: { channelId: d.id, name: d.name || d.id, guildId },
        ts,
      });
    } else {
      this.sink({ id: `room.deleted:${d.id}`, guildId, event: "room.deleted", payload: { channelId: d.id, guildId }, ts });
    }
  }

  private guildCreate(d: GuildCreateData, sessionId: string): void {
    const g = this.guilds.get(d.id);
    if (g === undefined || d.unavailable) return;
    g.voice.clear();
    for (const vs of d.voice_states ?? []) if (vs.channel_id) g.voice.set(vs.user_id, vs.channel_id);
    g.sessionId = sessionId;
    g.available = true;
    this.sink(this.buildSnapshot(d.id));
  }

  private guildDelete(d: { id: string; unavailable?: boolean }, sessionId: string): void {
    const g = this.guilds.get(d.id);
    if (g === undefined) return;
    g.available = false;
    // An outage (unavailable: true): keep the cache; the GUILD_CREATE that ends it sends a snapshot.
    if (d.unavailable) return;
    // The bot left or was removed: nobody is visible in voice any more.
    g.voice.clear();
    g.sessionId = sessionId;
    this.sink(this.buildSnapshot(d.id));
  }

  /** Current voice presence of a forwarded guild as a presence.snapshot event with a fresh id. */
  buildSnapshot(guildId: string): Extract<HubEvent, { event: "presence.snapshot" }> {
    const g = this.guilds.get(guildId);
    const voiceStates: PresenceSnapshotPayload["voiceStates"] = [];
    if (g) for (const [userId, channelId] of g.voice) voiceStates.push({ userId, channelId });
    return {
      id: `snap:${guildId}:${g?.sessionId ?? "none"}:${++this.snapshotCounter}`,
      guildId,
      event: "presence.snapshot",
      payload: { guildId, voiceStates },
      ts: this.now(),
    };
  }

  /** Cached guilds and voice states (for health and the benchmark). */
  stats(): TranslatorStats {
    let voiceStates = 0;
    for (const g of this.guilds.values()) voiceStates += g.voice.size;
    return { guilds: this.guilds.size, voiceStates };
  }

  /** userId -> channelId of one guild (read-only view for tests and health). */
  voiceOf(guildId: string): ReadonlyMap<string, string> | undefined {
    return this.guilds.get(guildId)?.voice;
  }
}
