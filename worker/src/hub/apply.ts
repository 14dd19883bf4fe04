/**
 * How internal events change a guild's state, and which public events that yields.
 *
 * State decides, not the sender: a join for someone already in that channel yields nothing, a
 * join for someone in another channel yields the missing leave first, and a presence snapshot
 * yields exactly the joins and leaves that bring clients from the hub's view to the snapshot's.
 * That keeps clients consistent even when the sidecar re-sends, reorders across a reconnect, or
 * lost events during an outage.
 */
import type { EventName, EventPayload, HubEvent } from "@spell-coven/common";
import type { HubStore } from "./store.ts";

export type PublicEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

export function applyEvent(store: HubStore, e: HubEvent, now: number): PublicEvent[] {
  const guildId = e.guildId;
  switch (e.event) {
    case "voice.joined":
      return join(store, guildId, e.payload.userId, e.payload.channelId);
    case "voice.left":
      return leave(store, guildId, e.payload.userId);
    case "room.created":
      return store.addRoom(e.payload.channelId, e.payload.name, now) ? [{ event: "room.created", payload: e.payload }] : [];
    case "room.deleted":
      store.removeRoom(e.payload.channelId);
      // Also announced when the hub never saw the room created (it predates the hub): harmless
      // for clients, and duplicates are already filtered by event id.
      return [{ event: "room.deleted", payload: e.payload }];
    case "presence.snapshot":
      return reconcile(store, guildId, e.payload.voiceStates);
  }
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
