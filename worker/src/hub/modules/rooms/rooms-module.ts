/**
 * Rooms in the hub: voice channels seen through Discord and game rooms made through the API.
 * Applies gateway-node's channel reports (and, after every identify, the channel list of its
 * presence snapshot), keeps rooms alive while people talk in them, and drives the idle cleanup
 * and Discord retries on the hub's alarm. The API side (create, join, leave, end) is
 * RoomsService, called over RPC.
 */
import type { InternalEvent } from "@spell-coven/common";
import type { HubModule, PublicEvent } from "../../hub-module.ts";
import type { RoomsService } from "./rooms-service.ts";
import type { RoomsStore } from "./rooms-store.ts";

/**
 * `remember(id)` marks gateway-node's own ids for a change (`room.created:<id>`,
 * `room.deleted:<id>`) as applied when a snapshot told the hub first.
 */
export function roomsModule(store: RoomsStore, rooms: RoomsService, remember: (id: string) => void): HubModule {
  return {
    name: "rooms",
    internalEvents: {
      "room.created": (e, now) => (store.noteChannel(e.payload.channelId, e.payload.name, now) ? [{ event: "room.created", payload: e.payload }] : []),
      "room.deleted": (e) => {
        rooms.channelDeleted(e.payload.channelId);
        // Also announced when the hub never saw the room created (it predates the hub): harmless
        // for clients, and duplicates are already filtered by event id.
        return [{ event: "room.deleted", payload: e.payload }];
      },
      "presence.snapshot": (e, now) => reconcileChannels(store, rooms, remember, e, now),
    },

    onPublished(e, now) {
      if ((e.event === "voice.joined" || e.event === "voice.left") && e.payload.channelId) return rooms.activity(e.payload.channelId, now);
      return [];
    },

    nextDeadline: () => rooms.nextDue(),
    onDeadline: (now) => rooms.sweep(now),
  };
}

/**
 * Brings the hub's rooms to the snapshot's channel list: channels it does not know are
 * announced as created; known channels missing from the list were deleted while gateway-node had
 * no session, and go the way of a `room.deleted` (the role of a game room is cleaned up too).
 * A room noted after the snapshot was taken (made through the API meanwhile) is not judged by it.
 */
function reconcileChannels(
  store: RoomsStore,
  rooms: RoomsService,
  remember: (id: string) => void,
  e: InternalEvent<"presence.snapshot">,
  now: number,
): PublicEvent[] {
  const channels = e.payload.channels;
  if (!channels) return []; // an older gateway-node: presence only
  const guildId = e.guildId;
  const takenAt = e.ts ?? now;
  const listed = new Set(channels.map((c) => c.channelId));
  const out: PublicEvent[] = [];
  for (const known of store.knownChannels()) {
    if (listed.has(known.channelId) || known.ending || known.createdAt >= takenAt) continue;
    rooms.channelDeleted(known.channelId);
    remember(`room.deleted:${known.channelId}`);
    out.push({ event: "room.deleted", payload: { channelId: known.channelId, guildId } });
  }
  for (const c of channels) {
    if (!store.noteChannel(c.channelId, c.name, now)) continue;
    remember(`room.created:${c.channelId}`);
    out.push({ event: "room.created", payload: { channelId: c.channelId, name: c.name, guildId } });
  }
  return out;
}
