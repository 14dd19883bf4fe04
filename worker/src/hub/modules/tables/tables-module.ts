/**
 * Tables: the board-video call of a table (a game room's voice channel). The hub relays WebRTC
 * signalling between the players' browsers; media never touches it (ARCHITECTURE.md, "Table
 * signalling").
 *
 * - `table.join`: seat holders join as players (camera), others watch public tables as
 *   spectators (receive only, at most MAX_SPECTATORS); private tables refuse non-members. A
 *   player's second tab takes over the call from the first (which is told why); one socket is at
 *   one table at a time.
 * - The hub assigns who offers (pairing.ts), stamps `from` itself, relays each signal only to its
 *   addressee at the same table, and bumps a pair's `gen` when its offerer rebuilds it.
 * - Nothing here is sequenced, stored or replayed: membership lives in the sockets' attachments
 *   and no timer runs, so the object stays hibernatable. A client that reconnects joins again.
 * - A closed socket leaves its table; a player whose seat is given up, and everyone at a table
 *   whose room ends, is removed from the call.
 */
import type { Logger, SignalPayload } from "@spell-coven/common";
import type { Fanout } from "../../fanout/fanout.ts";
import type { Subscriber, SubscriberRegistry, TablePeer } from "../../fanout/subscribers.ts";
import type { ClientMessageContext, HubModule } from "../../hub-module.ts";
import type { RoomsService } from "../rooms/rooms-service.ts";
import { MAX_SPECTATORS, newcomerOffers } from "./pairing.ts";
import { SignalBudget } from "./signal-budget.ts";
import type { VoiceMover } from "./voice-mover.ts";

interface Member {
  ws: WebSocket;
  subscriber: Subscriber;
  peer: TablePeer;
}

export interface TablesDeps {
  subscribers: SubscriberRegistry;
  fanout: Fanout;
  rooms: Pick<RoomsService, "get">;
  /** Brings players into the table's voice channel. */
  mover: Pick<VoiceMover, "bring" | "joined" | "cancel">;
  log: Logger;
}

export function tablesModule({ subscribers, fanout, rooms, mover, log }: TablesDeps): HubModule {
  const budget = new SignalBudget();

  const membersAt = (channelId: string): Member[] => {
    const out: Member[] = [];
    for (const ws of subscribers.atTable(channelId)) {
      const subscriber = subscribers.get(ws);
      if (subscriber?.peer) out.push({ ws, subscriber, peer: subscriber.peer });
    }
    return out.sort((a, b) => a.peer.joinedAt - b.peer.joinedAt);
  };

  /** Everyone at the table learns who is there (each with their own `you`). */
  const sendState = (channelId: string) => {
    const members = membersAt(channelId);
    const peers = members.map((m) => ({ peerId: m.peer.peerId, userId: m.subscriber.userId!, role: m.peer.role, camera: m.peer.camera }));
    for (const m of members) fanout.signal({ socket: m.ws }, "table.state", { channelId, you: m.peer.peerId, peers });
  };

  /** Takes a socket out of its table's call and tells the others (and, when asked, the socket). */
  const removeFromTable = (ws: WebSocket, subscriber: Subscriber, opts: { tellSelf?: boolean; stillRegistered?: boolean } = {}) => {
    const channelId = subscriber.table;
    const peer = subscriber.peer;
    if (!channelId || !peer) return;
    const userId = subscriber.userId!;
    if (opts.stillRegistered !== false) {
      if (opts.tellSelf) fanout.signal({ socket: ws }, "table.left", { channelId, peerId: peer.peerId });
      subscribers.save(ws, { ...subscriber, table: null, peer: null });
    }
    for (const other of membersAt(channelId)) {
      if (other.peer.pairs[peer.peerId]) {
        const { [peer.peerId]: _gone, ...pairs } = other.peer.pairs;
        subscribers.save(other.ws, { ...other.subscriber, peer: { ...other.peer, pairs } });
      }
      fanout.signal({ socket: other.ws }, "table.left", { channelId, peerId: peer.peerId });
    }
    // A move into voice waits only while the player is at the table in some tab.
    if (peer.role === "player" && !membersAt(channelId).some((m) => m.subscriber.userId === userId && m.peer.role === "player")) mover.cancel(userId);
    sendState(channelId);
  };

  /** The other end of a pair, at the sender's table; an error ack (and null) when there is none. */
  const pairOf = (ctx: ClientMessageContext<"rtc.signal" | "rtc.reset">) => {
    const { ws, subscriber, message, now } = ctx;
    const channelId = subscriber.table;
    const peer = subscriber.peer;
    if (!channelId || !peer) return void fanout.error(ws, "NOT_AT_TABLE", "Join a table before sending signalling messages.");
    if (!budget.take(ws, now)) return void fanout.error(ws, "RATE_LIMITED", "Too many signalling messages; slow down (at most 50 per second).");
    const pair = peer.pairs[message.to];
    const other = pair && membersAt(channelId).find((m) => m.peer.peerId === message.to);
    if (!pair || !other) return void fanout.error(ws, "UNKNOWN_PEER", `Peer ${message.to} is not connected with you at this table.`);
    return { channelId, peer, pair, other };
  };

  return {
    name: "tables",
    clientMessages: {
      "table.join": ({ ws, subscriber, message, now }) => {
        const { channelId } = message;
        const room = rooms.get(channelId);
        if (!room) return fanout.error(ws, "TABLE_NOT_FOUND", "This table does not exist any more.");
        const userId = subscriber.userId!;
        const seated = room.members.includes(userId);
        if (!seated && room.private)
          return fanout.error(ws, "NOT_ROOM_MEMBER", "This table is private: only its players can join the call (open your invite link first).");
        const role = seated ? "player" : "spectator";
        // One socket, one table: joining again (or elsewhere) leaves first.
        if (subscriber.table) removeFromTable(ws, subscriber);
        let members = membersAt(channelId);
        if (role === "spectator" && members.filter((m) => m.peer.role === "spectator").length >= MAX_SPECTATORS) {
          return fanout.error(ws, "TABLE_FULL", `This table already has ${MAX_SPECTATORS} spectators; try again later.`);
        }
        // A player's newer tab takes over: their old one leaves the call and is told why.
        for (const old of members.filter((m) => m.subscriber.userId === userId && m.peer.role === "player")) {
          removeFromTable(old.ws, old.subscriber, { tellSelf: true });
          fanout.error(old.ws, "TABLE_OPENED_ELSEWHERE", "You joined this table's call from another tab or device; this one left it.");
        }
        members = membersAt(channelId);

        const peer: TablePeer = {
          peerId: crypto.randomUUID().replaceAll("-", "").slice(0, 16),
          role,
          camera: role === "player" && message.camera,
          joinedAt: now,
          pairs: {},
        };
        const connects: { to: WebSocket; payload: SignalPayload<"rtc.connect"> }[] = [];
        for (const m of members) {
          const offers = newcomerOffers(role, m.peer.role);
          if (offers === null) continue;
          peer.pairs[m.peer.peerId] = { gen: 1, offerer: offers };
          subscribers.save(m.ws, { ...m.subscriber, peer: { ...m.peer, pairs: { ...m.peer.pairs, [peer.peerId]: { gen: 1, offerer: !offers } } } });
          connects.push({ to: ws, payload: { channelId, peer: m.peer.peerId, role: offers ? "offerer" : "answerer", gen: 1 } });
          connects.push({ to: m.ws, payload: { channelId, peer: peer.peerId, role: offers ? "answerer" : "offerer", gen: 1 } });
        }
        subscribers.save(ws, { ...subscriber, table: channelId, peer });
        sendState(channelId);
        for (const c of connects) fanout.signal({ socket: c.to }, "rtc.connect", c.payload);
        log.info("joined table call", { socket: subscriber.id, userId, channelId, role, peers: members.length });
        if (role === "player") mover.bring(userId, channelId, now);
      },

      "table.leave": ({ ws, subscriber, message }) => {
        if (subscriber.table !== message.channelId) return fanout.error(ws, "NOT_AT_TABLE", "You are not in this table's call.");
        removeFromTable(ws, subscriber, { tellSelf: true });
      },

      "rtc.signal": (ctx) => {
        const found = pairOf(ctx);
        if (!found) return;
        const { message, ws } = ctx;
        // Signals of an older generation belong to a connection that is being rebuilt.
        if (message.gen !== found.pair.gen)
          return fanout.error(ws, "STALE_GENERATION", `This pair is at generation ${found.pair.gen}; drop generation ${message.gen}.`);
        fanout.signal({ socket: found.other.ws }, "rtc.signal", {
          channelId: found.channelId,
          from: found.peer.peerId,
          gen: message.gen,
          ...(message.description ? { description: message.description } : {}),
          ...(message.candidate !== undefined ? { candidate: message.candidate } : {}),
        });
      },

      "rtc.reset": (ctx) => {
        const found = pairOf(ctx);
        if (!found) return;
        const { message, ws, subscriber } = ctx;
        if (!found.pair.offerer) return fanout.error(ws, "NOT_OFFERER", "Only the side that offers may rebuild this connection; wait for it.");
        if (message.gen <= found.pair.gen) return fanout.error(ws, "STALE_GENERATION", `A rebuild needs a generation above ${found.pair.gen}.`);
        const gen = message.gen;
        subscribers.save(ws, { ...subscriber, peer: { ...found.peer, pairs: { ...found.peer.pairs, [message.to]: { gen, offerer: true } } } });
        const other = found.other;
        subscribers.save(other.ws, {
          ...other.subscriber,
          peer: { ...other.peer, pairs: { ...other.peer.pairs, [found.peer.peerId]: { gen, offerer: false } } },
        });
        fanout.signal({ socket: other.ws }, "rtc.reset", { channelId: found.channelId, from: found.peer.peerId, gen });
      },
    },

    onPublished(e, now) {
      if (e.event === "voice.joined") {
        mover.joined(e.payload.userId, e.payload.channelId, now);
      } else if (e.event === "room.deleted") {
        for (const m of membersAt(e.payload.channelId)) removeFromTable(m.ws, m.subscriber, { tellSelf: true });
      } else if (e.event === "room.unseated") {
        for (const m of membersAt(e.payload.channelId)) {
          if (m.subscriber.userId === e.payload.userId && m.peer.role === "player") removeFromTable(m.ws, m.subscriber, { tellSelf: true });
        }
      }
      return [];
    },

    onSubscriberClosed(subscriber, ws) {
      removeFromTable(ws, subscriber, { stillRegistered: false });
    },
  };
}
