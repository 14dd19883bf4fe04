import { afterEach, describe, expect, it } from "vitest";
import { createLogger, type InternalEvent } from "@spell-coven/common";
import { HubClient } from "@spell-coven/sidecar-kit";
import { HubOutbox } from "../src/hub/hub-outbox.ts";
import { Metrics } from "../src/metrics.ts";
import { Translator } from "../src/translate.ts";
import { FakeHub } from "./helpers/fake-hub.ts";

const G1 = "100000000000000001";
const G2 = "100000000000000002";
const logs: string[] = [];
const log = createLogger("DEBUG", {}, (l) => logs.push(l));

function setup(hub: FakeHub, opts: { max?: number; timeoutMs?: number } = {}) {
  const metrics = new Metrics();
  let outbox!: HubOutbox;
  const translator = new Translator([G1, G2], (e) => outbox.enqueue(e));
  outbox = new HubOutbox({
    poster: new HubClient({ endpoint: hub.url, secret: hub.secret, timeoutMs: opts.timeoutMs ?? 2000 }),
    log,
    metrics,
    buildSnapshot: (g) => translator.buildSnapshot(g),
    maxPerGuild: opts.max ?? 10_000,
    retryBaseMs: 20,
    retryMaxMs: 100,
  });
  const vsu = (guild: string, user: string, channel: string | null, seq: number) =>
    translator.handleDispatch("VOICE_STATE_UPDATE", { guild_id: guild, user_id: user, channel_id: channel }, "sess", seq);
  return { metrics, outbox, translator, vsu };
}

let hub: FakeHub;
afterEach(async () => {
  await hub?.close();
  logs.length = 0;
});

describe("outbox", () => {
  it("delivers in order per guild, batched, signed", async () => {
    hub = await new FakeHub().start();
    const { outbox, vsu, metrics } = setup(hub);
    for (let i = 0; i < 1200; i++) vsu(i % 2 ? G1 : G2, String(1000 + (i % 50)), i % 4 < 2 ? "10" : null, i + 1);
    const produced = metrics.eventsTranslated.total();
    expect(produced).toBeGreaterThan(500);
    await hub.waitFor(() => hub.events.length === produced);
    for (const g of [G1, G2]) {
      const seqs = hub.byGuild(g).map((e) => Number(e.id.split(":")[2]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(hub.posts).toBeLessThan(20); // batched
    expect(hub.badSignatures).toBe(0);
    expect(await outbox.flush(1000)).toBe(0);
    expect(metrics.postsOk.total()).toBe(hub.posts);
    await outbox.flush(1000);
    expect(metrics.eventsForwarded.total()).toBe(produced);
  });

  it("a move (left + joined from one dispatch) goes to the hub in one post", async () => {
    hub = await new FakeHub().start();
    const { outbox, vsu } = setup(hub);
    vsu(G1, "1001", "10", 1);
    await outbox.flush(1000);
    const before = hub.posts;
    vsu(G1, "1001", "11", 2); // moved from 10 to 11
    await hub.waitFor(() => hub.events.length === 3);
    expect(hub.posts - before).toBe(1);
    expect(hub.events.slice(1).map((e) => `${e.event}:${(e.payload as { channelId: string }).channelId}`)).toEqual(["voice.left:10", "voice.joined:11"]);
  });

  it("hub down for a while, then back: nothing lost, nothing duplicated, order kept", async () => {
    hub = await new FakeHub().start();
    const { outbox, vsu, metrics } = setup(hub);
    vsu(G1, "1", "10", 1);
    await hub.waitFor(() => hub.events.length === 1);
    await hub.down();
    for (let s = 2; s <= 40; s++) vsu(G1, "1", s % 2 ? "10" : "11", s);
    await new Promise((r) => setTimeout(r, 300));
    expect(outbox.depth()).toBeGreaterThan(0);
    expect(outbox.failing()).toBe(true);
    hub.mode = "503";
    await hub.up();
    await new Promise((r) => setTimeout(r, 200));
    hub.mode = "ok";
    const expected = 1 + 39 * 2; // each later update is a move: left + joined
    await hub.waitFor(() => hub.events.length === expected);
    const ids = hub.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(metrics.postsFailed.total()).toBeGreaterThan(0);
    // Order: every move's left precedes its joined, seqs ascending.
    const order = ids.map((id) => id.split(":").slice(2).map(Number));
    for (let i = 1; i < order.length; i++) expect(order[i]![0]! * 10 + (order[i]![1] ?? 0)).toBeGreaterThan(order[i - 1]![0]! * 10 + (order[i - 1]![1] ?? 0));
    await outbox.flush(1000);
    expect(outbox.failing()).toBe(false);
  });

  it("a hanging hub times out and the retried post is deduplicated by id", async () => {
    hub = await new FakeHub().start();
    const { vsu } = setup(hub, { timeoutMs: 150 });
    hub.mode = "hang";
    vsu(G1, "1", "10", 1);
    await new Promise((r) => setTimeout(r, 250));
    hub.mode = "ok";
    await hub.waitFor(() => hub.events.length === 1);
    expect(hub.events[0]!.id).toBe("v:sess:1");
  });

  it("401: logs an ERROR naming HUB_SECRET and the clock, keeps the events and retries", async () => {
    hub = await new FakeHub().start();
    const { vsu } = setup(hub);
    hub.mode = "401";
    vsu(G1, "1", "10", 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(logs.some((l) => l.includes('"level":"ERROR"') && l.includes("HUB_SECRET") && l.includes("clock"))).toBe(true);
    hub.mode = "ok";
    await hub.waitFor(() => hub.events.length === 1);
  });

  it("a poison event is isolated and dropped alone; the rest is delivered in order", async () => {
    hub = await new FakeHub().start();
    const { vsu, metrics } = setup(hub);
    hub.rejectIds.add("v:sess:7");
    await hub.down();
    for (let s = 1; s <= 20; s++) vsu(G1, String(s), "10", s);
    await hub.up();
    await hub.waitFor(() => hub.events.length === 19);
    expect(hub.events.map((e) => e.id)).toEqual([...Array(20).keys()].map((i) => `v:sess:${i + 1}`).filter((id) => id !== "v:sess:7"));
    expect(metrics.eventsDropped.total()).toBe(1);
    expect(logs.some((l) => l.includes('"level":"ERROR"') && l.includes("v:sess:7"))).toBe(true);
  });

  it("an event failing the shared schema is dropped before sending, never the rest", async () => {
    hub = await new FakeHub().start();
    const { outbox } = setup(hub);
    await hub.down();
    outbox.enqueue({ id: "ok1", guildId: G1, event: "voice.joined", payload: { guildId: G1, channelId: "1", userId: "2" } });
    outbox.enqueue({ id: "bad id with spaces", guildId: G1, event: "voice.joined", payload: { guildId: G1, channelId: "1", userId: "3" } } as InternalEvent);
    outbox.enqueue({ id: "ok2", guildId: G1, event: "voice.left", payload: { guildId: G1, channelId: "1", userId: "2" } });
    await hub.up();
    await hub.waitFor(() => hub.events.length === 2);
    expect(hub.events.map((e) => e.id)).toEqual(["ok1", "ok2"]);
  });

  it("overflow: the oldest voice events become one presence snapshot; room events are kept", async () => {
    hub = await new FakeHub().start();
    const { outbox, translator, vsu, metrics } = setup(hub, { max: 50 });
    translator.handleDispatch("GUILD_CREATE", { id: G1, voice_states: [] }, "sess", 1);
    await hub.waitFor(() => hub.events.length === 1);
    await hub.down();
    translator.handleDispatch("CHANNEL_CREATE", { id: "77", type: 2, guild_id: G1, name: "Room" }, "sess", 2);
    for (let s = 3; s < 200; s++) vsu(G1, String(s % 31), s % 3 ? "77" : "78", s);
    expect(outbox.depth()).toBeLessThanOrEqual(52);
    expect(metrics.outboxOverflows.total()).toBeGreaterThan(0);
    await hub.up();
    expect(await outbox.flush(5000)).toBe(0);
    const evs = hub.events.slice(1);
    expect(evs[0]!.id).toBe("room.created:77");
    const snaps = evs.filter((e) => e.event === "presence.snapshot");
    expect(snaps.length).toBeGreaterThanOrEqual(1);
    // Replaying what the hub got gives exactly the cache.
    const state = new Map<string, string>();
    for (const e of hub.events) {
      if (e.event === "presence.snapshot") {
        state.clear();
        for (const v of e.payload.voiceStates) state.set(v.userId, v.channelId);
      } else if (e.event === "voice.joined") state.set(e.payload.userId, e.payload.channelId);
      else if (e.event === "voice.left") state.delete(e.payload.userId);
    }
    expect([...state].sort()).toEqual([...translator.voiceOf(G1)!].sort());
    expect(logs.some((l) => l.includes("outbox full"))).toBe(true);
  });

  it("overflow on a single join or on a move: later events are never swallowed", async () => {
    hub = await new FakeHub().start();
    const { outbox, translator, vsu, metrics } = setup(hub, { max: 10 });
    translator.handleDispatch("GUILD_CREATE", { id: G1, voice_states: [] }, "sess", 1);
    await hub.waitFor(() => hub.events.length === 1);
    await hub.down();
    let seq = 2;
    while (outbox.depth() < 10) vsu(G1, String(seq), "10", seq++); // fill the queue with joins
    const overflows = () => metrics.outboxOverflows.total();
    vsu(G1, "99", "10", seq++); // overflow on a plain join
    expect(overflows()).toBe(1);
    vsu(G1, "2", "11", seq++); // a move after it: both halves must survive
    const afterMove = outbox.depth();
    vsu(G1, "3", null, seq++);
    expect(outbox.depth()).toBe(afterMove + 1);
    let u = 200;
    while (outbox.depth() < 10) vsu(G1, String(u++), "10", seq++);
    const moveSeq = seq++;
    vsu(G1, "4", "12", moveSeq); // overflow on a move: the left half triggers, the joined half is absorbed
    expect(overflows()).toBe(2);
    const lastSeq = seq++;
    vsu(G1, "5", null, lastSeq); // must NOT be absorbed
    await hub.up();
    expect(await outbox.flush(3000)).toBe(0);
    const ids = hub.events.map((e) => e.id);
    expect(ids).toContain(`v:sess:${lastSeq}`);
    expect(ids).not.toContain(`v:sess:${moveSeq}:1`);
    const state = new Map<string, string>();
    for (const e of hub.events) {
      if (e.event === "presence.snapshot") {
        state.clear();
        for (const v of e.payload.voiceStates) state.set(v.userId, v.channelId);
      } else if (e.event === "voice.joined") state.set(e.payload.userId, e.payload.channelId);
      else if (e.event === "voice.left") state.delete(e.payload.userId);
    }
    expect([...state].sort()).toEqual([...translator.voiceOf(G1)!].sort());
  });

  it("overflow on a muted user's join: its flags go into the snapshot too, and the hub's replay ends with the cache's flags", async () => {
    hub = await new FakeHub().start();
    const { outbox, translator, vsu } = setup(hub, { max: 10 });
    translator.handleDispatch("GUILD_CREATE", { id: G1, voice_states: [] }, "sess", 1);
    await hub.waitFor(() => hub.events.length === 1);
    await hub.down();
    let seq = 2;
    while (outbox.depth() < 10) vsu(G1, String(seq), "10", seq++);
    const joinSeq = seq++;
    translator.handleDispatch("VOICE_STATE_UPDATE", { guild_id: G1, user_id: "99", channel_id: "10", self_mute: true }, "sess", joinSeq);
    const unmuteSeq = seq++;
    translator.handleDispatch("VOICE_STATE_UPDATE", { guild_id: G1, user_id: "99", channel_id: "10", self_mute: false, deaf: true }, "sess", unmuteSeq);
    await hub.up();
    expect(await outbox.flush(3000)).toBe(0);
    const ids = hub.events.map((e) => e.id);
    expect(ids).not.toContain(`v:sess:${joinSeq}:f`); // absorbed with its join
    expect(ids).toContain(`v:sess:${unmuteSeq}`); // a later change is never swallowed
    const flags = new Map<string, object>();
    for (const e of hub.events) {
      if (e.event === "presence.snapshot") {
        flags.clear();
        for (const { userId, ...f } of e.payload.voiceFlags ?? []) flags.set(userId, f);
      } else if (e.event === "voice.flags") {
        const { guildId: _g, channelId: _c, userId, ...f } = e.payload;
        flags.set(userId, f);
      }
    }
    expect(flags.get("99")).toEqual({ selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: true });
    expect(translator.flagsOf(G1)!.get("99")).toEqual(flags.get("99"));
  });

  it("flush waits for delivery; close stops", async () => {
    hub = await new FakeHub().start();
    const { outbox, vsu } = setup(hub);
    hub.mode = "503";
    vsu(G1, "1", "10", 1);
    expect(await outbox.flush(100)).toBe(1);
    hub.mode = "ok";
    expect(await outbox.flush(2000)).toBe(0);
    outbox.close();
    expect(hub.events).toHaveLength(1);
  });
});
