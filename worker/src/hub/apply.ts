/**
 * How internal events change a guild's state, and which public events that yields.
 *
 * State decides, not the sender: a join for someone already in that channel yields nothing, a
 * join for someone in another channel yields the missing leave first, and a presence snapshot
 * yields exactly the joins and leaves that bring clients from the hub's view to the snapshot's.
 * That keeps clients consistent even when the sidecar re-sends, reorders across a reconnect, or
 * lost events during an outage. Voice activity in a game room also keeps that room alive.
 */
import type { EventName, EventPayload, HubEvent } from "@spell-coven/common";
import type { HubStore } from "./store.ts";
import type { RoomsStore } from "./rooms-store.ts";
import type { RoomsService } from "./rooms.ts";

export type PublicEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

export interface GuildState {
  store: HubStore;
  roomsStore: RoomsStore;
  rooms: RoomsService;
}

export function applyEvent(state: GuildState, e: HubEvent, now: number): PublicEvent[] {
  const { store, roomsStore, rooms } = state;
  const guildId = e.guildId;
  switch (e.event) {
    case "voice.joined":
      return withActivity(rooms, join(store, guildId, e.payload.userId, e.payload.channelId), now);
    case "voice.left":
      return withActivity(rooms, leave(store, guildId, e.payload.userId), now);
    case "presence.snapshot":
      return withActivity(rooms, reconcile(store, guildId, e.payload.voiceStates), now);
    case "room.created":
      return roomsStore.noteChannel(e.payload.channelId, e.payload.name, now) ? [{ event: "room.created", payload: e.payload }] : [];
    case "room.deleted":
      rooms.channelDeleted(e.payload.channelId);
      // Also announced when the hub never saw the room created (it predates the hub): harmless
      // for clients, and duplicates are already filtered by event id.
      return [{ event: "room.deleted", payload: e.payload }];
  }
}

function withActivity(rooms: RoomsService, voice: PublicEvent[], now: number): PublicEvent[] {
  const out: PublicEvent[] = [];
  for (const v of voice) {
    out.push(v);
    if ((v.event === "voice.joined" || v.event === "voice.left") && v.payload.channelId) out.push(...rooms.activity(v.payload.channelId, now));
  }
  return out;
}

function join(store: HubStore, guildId: string, userId: string, channelId: string): PublicEvent[] {
  const current = store.channelOf(userId);
  if (current === channelId) return [];
  const out = current === undefined ? [] : leave(store, guildId, userId);
  store.setVoice(userId, channelId);
  out.push({ event: "voice.joined", payload: { guildId, channelId, userId } });
  return out;
}

function leave(store: HubStore, guildId: string, userId: string): PublicEvent[] {
  const current = store.channelOf(userId);
  if (current === undefined) return [];
  store.clearVoice(userId);
  return [{ event: "voice.left", payload: { guildId, channelId: current, userId } }];
}

function reconcile(store: HubStore, guildId: string, voiceStates: { userId: string; channelId: string }[]): PublicEvent[] {
  const target = new Map(voiceStates.map((v) => [v.userId, v.channelId]));
  const out: PublicEvent[] = [];
  for (const { userId } of store.voiceMembers()) {
    if (!target.has(userId)) out.push(...leave(store, guildId, userId));
  }
  for (const [userId, channelId] of target) out.push(...join(store, guildId, userId, channelId));
  return out;
}
