import { describe, expect, it } from "vitest";
import { createLogger } from "@spell-coven/common";
import { Fanout } from "../../src/hub/fanout/fanout.ts";
import { eventFrame } from "../../src/hub/fanout/frames.ts";
import { SubscriberRegistry, type Subscriber } from "../../src/hub/fanout/subscribers.ts";
import { MAX_CLIENT_LAG } from "../../src/hub/limits.ts";

const G = "100000000000000001";
const log = createLogger("ERROR");

/** A real socket pair: the hub's end in the registry, the client's end collecting what arrives. */
function socket(registry: SubscriberRegistry, state: Partial<Subscriber>) {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  client.accept();
  const received: any[] = [];
  const closed: { code: number }[] = [];
  client.addEventListener("message", (e) => received.push(JSON.parse(e.data as string)));
  client.addEventListener("close", (e) => closed.push({ code: e.code }));
  registry.save(server, {
    id: crypto.randomUUID().slice(0, 8),
    connectedAt: 0,
    authDeadline: 0,
    userId: null,
    expiresAt: null,
    ackedSeq: 0,
    lastMessageAt: 0,
    ...state,
  });
  return { server, received, closed };
}
const settle = () => new Promise((r) => setTimeout(r, 20));
const everyone = (data: string, seq: number) => ({ seq, data, audience: null });
const addressed = (data: string, seq: number, userIds: string[]) => ({ seq, data, audience: new Set(userIds) });
const chat = (seq: number, content: string) => eventFrame({ event: "typing.started", payload: { guildId: G, channelId: "7", userId: content, at: 1 } }, 1, seq);

function setup() {
  const registry = new SubscriberRegistry([], 0);
  const dropped: string[] = [];
  const fanout = new Fanout(registry, log, (_ws, s) => dropped.push(s.id));
  return { registry, fanout, dropped };
}

describe("signals: addressed, ephemeral", () => {
  it("reach one socket, a user's sockets, or a table's subscribers, and nobody else", async () => {
    const { registry, fanout } = setup();
    const aliceTab1 = socket(registry, { userId: "1", table: "50" });
    const aliceTab2 = socket(registry, { userId: "1" });
    const bob = socket(registry, { userId: "2", table: "50" });
    const carol = socket(registry, { userId: "3", table: "51" });
    const anonymous = socket(registry, { userId: null, table: "50" });

    expect(fanout.signal({ userId: "1" }, "voice.speaking", { channelId: "50", userId: "9", speaking: true })).toBe(2);
    expect(fanout.signal({ table: "50" }, "table.left", { channelId: "50", peerId: "p1" })).toBe(2);
    expect(fanout.signal({ table: "50", except: bob.server }, "table.left", { channelId: "50", peerId: "p2" })).toBe(1);
    expect(fanout.signal({ socket: carol.server }, "rtc.reset", { channelId: "51", from: "p3", gen: 2 })).toBe(1);
    await settle();

    const names = (s: { received: any[] }) => s.received.map((m) => `${m.signal}:${m.payload.peerId ?? m.payload.from ?? m.payload.userId}`);
    expect(names(aliceTab1)).toEqual(["voice.speaking:9", "table.left:p1", "table.left:p2"]);
    expect(names(aliceTab2)).toEqual(["voice.speaking:9"]);
    expect(names(bob)).toEqual(["table.left:p1"]);
    expect(names(carol)).toEqual(["rtc.reset:p3"]);
    expect(anonymous.received).toEqual([]); // not authenticated: no signals
    for (const m of [...aliceTab1.received, ...bob.received]) expect(m).not.toHaveProperty("seq");
  });

  it("follow the registry's indexes when a subscriber changes table or goes away", async () => {
    const { registry, fanout } = setup();
    const s = socket(registry, { userId: "1", table: "50" });
    registry.save(s.server, { ...registry.get(s.server)!, table: "51" });
    expect(fanout.signal({ table: "50" }, "table.left", { channelId: "50", peerId: "x" })).toBe(0);
    expect(fanout.signal({ table: "51" }, "table.left", { channelId: "51", peerId: "x" })).toBe(1);
    registry.delete(s.server);
    expect(fanout.signal({ userId: "1" }, "table.left", { channelId: "51", peerId: "x" })).toBe(0);
    expect(registry.atTable("51").size).toBe(0);
  });

  it("never count toward the slow-consumer lag; events do", async () => {
    const { registry, fanout, dropped } = setup();
    const busy = socket(registry, { userId: "1", table: "50", ackedSeq: 0 });
    for (let i = 0; i < MAX_CLIENT_LAG * 2; i++) fanout.signal({ table: "50" }, "voice.speaking", { channelId: "50", userId: "9", speaking: i % 2 === 0 });
    fanout.events([everyone(eventFrame({ event: "room.deleted", payload: { guildId: G, channelId: "7" } }, 1, 1), 1)], 0);
    await settle();
    expect(busy.closed).toEqual([]);
    expect(busy.received.at(-1)).toMatchObject({ type: "event", seq: 1 });
    // An event stream the client does not acknowledge does trip it.
    fanout.events(
      [everyone(eventFrame({ event: "room.deleted", payload: { guildId: G, channelId: "8" } }, 1, MAX_CLIENT_LAG + 2), MAX_CLIENT_LAG + 2)],
      MAX_CLIENT_LAG + 1,
    );
    await settle();
    expect(busy.closed.map((c) => c.code)).toEqual([4008]);
    expect(dropped).toHaveLength(1);
  });
});

describe("events addressed to some players", () => {
  it("reach only them, singly and in batches; everyone else gets skip frames, so no seq is missing for anyone", async () => {
    const { registry, fanout } = setup();
    const seated = socket(registry, { userId: "11" });
    const seatedBatch = socket(registry, { userId: "12", batch: true });
    const outsider = socket(registry, { userId: "99" });
    const outsiderBatch = socket(registry, { userId: "98", batch: true });
    const events = [everyone(chat(1, "open"), 1), addressed(chat(2, "secret"), 2, ["11", "12"]), everyone(chat(3, "open again"), 3)];
    fanout.events(events, 0);
    await settle();
    const seqs = (ms: any[]) => ms.flatMap((m) => (m.type === "batch" ? m.events : [m])).map((m: any) => [m.type, m.seq]);
    expect(seqs(seated.received)).toEqual([
      ["event", 1],
      ["event", 2],
      ["event", 3],
    ]);
    expect(seqs(seatedBatch.received)).toEqual([
      ["event", 1],
      ["event", 2],
      ["event", 3],
    ]);
    expect(seqs(outsider.received)).toEqual([
      ["event", 1],
      ["skip", 2],
      ["event", 3],
    ]);
    expect(seqs(outsiderBatch.received)).toEqual([
      ["event", 1],
      ["skip", 2],
      ["event", 3],
    ]);
    for (const m of [...outsider.received, ...outsiderBatch.received]) expect(JSON.stringify(m)).not.toContain("secret");
  });
});
