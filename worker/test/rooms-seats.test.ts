import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { GUILD_ID, connect } from "./helpers.ts";
import { createRoom, discordRequests, errorOf, invite, join, leave, listRooms, newPlayer, sim } from "./rooms-helpers.ts";

beforeAll(async () => {
  await sim("setRateLimits", { routeLimit: 1000, routeWindowMs: 1000, globalPerSecond: 1000 });
});
afterEach(async () => {
  await sim("clearRequests");
});

const roomOf = async (owner: string, body: object = {}) => (await createRoom(owner, { name: "Seats", ...body })).json<any>();
const seatsOf = async (as: string, channelId: string) => (await listRooms(as)).find((r) => r.channelId === channelId)?.members as string[];

describe("leaving a seat", () => {
  it("gives the seat up, frees it for someone else, and tells every client with room.unseated", async () => {
    const owner = await newPlayer();
    const room = await roomOf(owner, { userLimit: 2 });
    const bob = await newPlayer();
    expect((await join(bob, room.channelId)).status).toBe(200);
    const carol = await newPlayer();
    expect((await join(carol, room.channelId)).status).toBe(409); // full

    const watcher = await connect();
    const res = await leave(bob, room.channelId);
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.room.members).toEqual([owner]);
    expect((await watcher.next((m) => m.event === "room.unseated" && m.payload.userId === bob)).payload).toEqual({
      guildId: GUILD_ID,
      channelId: room.channelId,
      userId: bob,
    });
    expect((await join(carol, room.channelId)).status).toBe(200);
    expect(await seatsOf(owner, room.channelId)).toEqual([owner, carol]);
  });

  it("answers NOT_ROOM_MEMBER for a player without a seat and ROOM_NOT_FOUND for an unknown room", async () => {
    const room = await roomOf(await newPlayer());
    const stranger = await newPlayer();
    const notSeated = await leave(stranger, room.channelId);
    expect(notSeated.status).toBe(403);
    expect((await errorOf(notSeated)).code).toBe("NOT_ROOM_MEMBER");
    const unknown = await leave(stranger, "199999999999999999");
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("ROOM_NOT_FOUND");
  });

  it("takes back a private room's role on Discord, so the channel disappears for the player", async () => {
    const owner = await newPlayer();
    const room = await roomOf(owner, { private: true });
    const inv = await (await invite(owner, room.channelId)).json<any>();
    const bob = await newPlayer();
    expect((await join(bob, room.channelId, inv.token)).status).toBe(200);
    await sim("clearRequests");
    expect((await leave(bob, room.channelId)).status).toBe(200);
    const revoked = (await discordRequests()).filter((r) => r.method === "DELETE" && String(r.path).includes(`/members/${bob}/roles/`));
    expect(revoked).toHaveLength(1);
  });

  it("lets the creator leave and come back to their own private room without an invite", async () => {
    const owner = await newPlayer();
    const room = await roomOf(owner, { private: true });
    expect((await leave(owner, room.channelId)).status).toBe(200);
    expect(await seatsOf(owner, room.channelId)).toEqual([]);
    expect((await join(owner, room.channelId)).status).toBe(200);
    expect(await seatsOf(owner, room.channelId)).toEqual([owner]);
  });
});

describe("one table at a time", () => {
  it("taking a seat at another table gives up the old one first", async () => {
    const [a, b] = [await roomOf(await newPlayer()), await roomOf(await newPlayer())];
    const player = await newPlayer();
    expect((await join(player, a.channelId)).status).toBe(200);
    const watcher = await connect();
    const moved = await join(player, b.channelId);
    expect(moved.status).toBe(200);
    expect((await moved.json<any>()).leftChannelId).toBe(a.channelId);
    const unseated = await watcher.next((m) => m.event === "room.unseated" && m.payload.userId === player);
    const seated = await watcher.next((m) => m.event === "room.seated" && m.payload.userId === player);
    expect(unseated.payload.channelId).toBe(a.channelId);
    expect(seated.payload.channelId).toBe(b.channelId);
    expect(unseated.seq).toBeLessThan(seated.seq);
    expect(await seatsOf(player, a.channelId)).not.toContain(player);
    expect(await seatsOf(player, b.channelId)).toContain(player);
  });

  it("creating a table moves its creator there from the table they sat at", async () => {
    const a = await roomOf(await newPlayer());
    const player = await newPlayer();
    expect((await join(player, a.channelId)).status).toBe(200);
    const own = await roomOf(player);
    expect(own.members).toEqual([player]);
    expect(await seatsOf(player, a.channelId)).not.toContain(player);
  });

  it("keeps the old seat when the new one cannot be taken (full table)", async () => {
    const a = await roomOf(await newPlayer());
    const full = await roomOf(await newPlayer(), { userLimit: 1 });
    const player = await newPlayer();
    expect((await join(player, a.channelId)).status).toBe(200);
    expect((await join(player, full.channelId)).status).toBe(409);
    expect(await seatsOf(player, a.channelId)).toContain(player);
  });
});
