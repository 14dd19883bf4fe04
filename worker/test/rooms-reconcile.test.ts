import { beforeAll, describe, expect, it } from "vitest";
import { GUILD_ID, connect, events, postEvents, uniqueId } from "./helpers.ts";
import { runInDurableObject } from "cloudflare:test";
import { createRoom, hub, listRooms, newPlayer, sim } from "./rooms-helpers.ts";

beforeAll(async () => {
  await sim("setRateLimits", { routeLimit: 1000, routeWindowMs: 1000, globalPerSecond: 1000 });
});

let n = 0;
const channel = () => `4300000000000${String(Date.now() % 1_000_000).padStart(6, "0")}${++n % 10}`;
const created = (channelId: string, name = "Known") => ({
  id: `room.created:${channelId}`,
  guildId: GUILD_ID,
  event: "room.created",
  payload: { channelId, name, guildId: GUILD_ID },
});
const deleted = (channelId: string) => ({
  id: `room.deleted:${channelId}`,
  guildId: GUILD_ID,
  event: "room.deleted",
  payload: { channelId, guildId: GUILD_ID },
});
/** gateway-node's snapshot after an identify: presence, and the voice channels it now sees. */
const snapshot = (channels: { channelId: string; name: string }[] | undefined, ts = Date.now()) => ({
  id: uniqueId("snap"),
  guildId: GUILD_ID,
  event: "presence.snapshot",
  ts,
  payload: { guildId: GUILD_ID, voiceStates: [], ...(channels ? { channels } : {}) },
});
const roomEvents = (sock: { messages: any[] }) => events(sock as any).filter((m) => m.event.startsWith("room."));

describe("rooms reconciled from gateway-node's snapshot", () => {
  it("announces channels created and deleted while gateway-node had no session, as ordinary room events", async () => {
    const [kept, gone, fresh] = [channel(), channel(), channel()];
    await postEvents([created(kept, "Kept"), created(gone, "Gone")]);
    const client = await connect();
    await postEvents([
      snapshot(
        [
          { channelId: kept, name: "Kept" },
          { channelId: fresh, name: "Made During The Gap" },
        ],
        Date.now() + 1,
      ),
    ]);
    const del = await client.next((m) => m.event === "room.deleted" && m.payload.channelId === gone);
    const add = await client.next((m) => m.event === "room.created" && m.payload.channelId === fresh);
    expect(add.payload).toEqual({ channelId: fresh, name: "Made During The Gap", guildId: GUILD_ID });
    expect(del.payload).toEqual({ channelId: gone, guildId: GUILD_ID });
    expect(roomEvents(client).some((m) => m.payload.channelId === kept)).toBe(false);
  });

  it("does not announce a change twice when gateway-node's own report of it arrives after the snapshot", async () => {
    const [gone, fresh] = [channel(), channel()];
    await postEvents([created(gone)]);
    const client = await connect();
    await postEvents([snapshot([{ channelId: fresh, name: "Fresh" }], Date.now() + 1)]);
    await client.next((m) => m.event === "room.created" && m.payload.channelId === fresh);
    const res = await postEvents([deleted(gone), created(fresh, "Fresh")]);
    expect((await res.json<any>()).duplicates).toBe(2);
    await postEvents([created(channel(), "Marker")]);
    await client.next((m) => m.event === "room.created" && m.payload.name === "Marker");
    expect(roomEvents(client).filter((m) => m.payload.channelId === gone || m.payload.channelId === fresh)).toHaveLength(2);
  });

  it("removes a game room whose channel vanished, through its cleanup path, but keeps one made after the snapshot was taken", async () => {
    const owner = await newPlayer();
    const vanished = await (await createRoom(owner, { name: "Vanished", private: true })).json<any>();
    const roleId = await runInDurableObject(
      hub(),
      (_i, state) => state.storage.sql.exec<{ role_id: string }>("SELECT role_id FROM rooms WHERE channel_id = ?", vanished.channelId).one().role_id,
    );
    const takenAt = Date.now(); // gateway-node builds its snapshot here...
    const meanwhile = await (await createRoom(await newPlayer(), { name: "Made Meanwhile" })).json<any>();
    const client = await connect();
    await postEvents([snapshot([], takenAt)]); // ...and it arrives after the second room was made
    await client.next((m) => m.event === "room.deleted" && m.payload.channelId === vanished.channelId);
    const rooms = (await listRooms(owner)).map((r) => r.channelId);
    expect(rooms).not.toContain(vanished.channelId);
    expect(rooms).toContain(meanwhile.channelId);
    expect(roomEvents(client).some((m) => m.event === "room.deleted" && m.payload.channelId === meanwhile.channelId)).toBe(false);
    // The private room's role is queued for deletion like for any channel deleted in Discord.
    const pending = await runInDurableObject(hub(), (_i, state) => state.storage.sql.exec("SELECT kind FROM discord_cleanup WHERE id = ?", roleId).toArray());
    expect(pending).toEqual([{ kind: "role" }]);
  });

  it("leaves rooms alone when the snapshot carries no channel list (an older gateway-node)", async () => {
    const known = channel();
    await postEvents([created(known, "Old Sidecar")]);
    const client = await connect();
    await postEvents([snapshot(undefined, Date.now() + 1)]);
    await postEvents([created(channel(), "Marker 2")]);
    await client.next((m) => m.event === "room.created" && m.payload.name === "Marker 2");
    expect(roomEvents(client).some((m) => m.payload.channelId === known)).toBe(false);
  });
});
