/** The whole sidecar in-process: several shards, hub outages, overflow, stop/flush, /health and /metrics. */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { shardForGuild } from "../src/gateway/manager.ts";
import { allReady, guildOnShard, TWO_SHARDS, hubPresence, simPresence, sleepMs, startHarness, until, type Harness } from "./helpers/harness.ts";

const G = DEMO_GUILD_ID;
const { alice, bob, carol, dave } = DEMO_USERS;
let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function ready(harness: Harness, shards = 1, snapshots = 1) {
  await until(() => allReady(harness, shards), 8000, "shards ready");
  await harness.hub.waitFor(() => harness.hub.ofType("presence.snapshot").length >= snapshots, 8000, "snapshots");
}

describe("gateway-node in-process", () => {
  it("several shards in one process, guilds routed to different shards; only PRIMARY_GUILD_ID is forwarded", async () => {
    const other = guildOnShard(1 - shardForGuild(G, 2), 2, 1070000000000000001n);
    const ignored = guildOnShard(0, 2, 1080000000000000001n);
    h = await startHarness({
      ...TWO_SHARDS,
      guildIds: [G, other],
      beforeStart: (sim) => {
        sim.addGuild({ id: other, name: "Second" });
        sim.addGuild({ id: ignored, name: "Not forwarded" });
        sim.addChannel(other, { id: "1070000000000000300", name: "Voice", type: 2 });
        sim.addChannel(ignored, { id: "1080000000000000300", name: "Voice", type: 2 });
      },
    });
    await ready(h, 2, 2);
    const shards = h.node.manager.info();
    expect(shards.map((s) => s.id)).toEqual([0, 1]);
    expect(new Set(shards.map((s) => s.sessionId)).size).toBe(2);
    expect(h.sim.gatewayStats().identifies).toBe(2);
    // The identify throttle kept the two shards of bucket 0 apart: no op 9 for identifying too fast.
    expect(h.node.metrics.invalidSessions.total()).toBe(0);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    h.sim.joinVoice(other, bob, "1070000000000000300");
    h.sim.joinVoice(ignored, carol, "1080000000000000300");
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 2);
    await sleepMs(100);
    expect(h.hub.events.every((e) => e.guildId === G || e.guildId === other)).toBe(true);
    // Each guild's voice event arrived on the shard that owns it (the DEBUG dispatch lines say so).
    const shardOf = (g: string) =>
      h!.logs
        .map((l) => JSON.parse(l) as { msg: string; t?: string; guildId?: string; shard?: number })
        .find((l) => l.msg === "dispatch" && l.t === "VOICE_STATE_UPDATE" && l.guildId === g)?.shard;
    expect(shardOf(G)).toBe(shardForGuild(G, 2));
    expect(shardOf(other)).toBe(shardForGuild(other, 2));
    const keyOf = (g: string) =>
      h!.hub
        .byGuild(g)
        .find((e) => e.event === "voice.joined")!
        .id.split(":")[1];
    expect(keyOf(G)).not.toBe(keyOf(other));
    // A fault on one shard leaves the other alone.
    h.sim.sendReconnect(shardForGuild(other, 2));
    await until(() => h!.sim.gatewayStats().resumes === 1 && allReady(h!, 2), 5000, "one shard resumed");
    expect(h.sim.gatewayStats().identifies).toBe(2);
  });

  it("hub down for a while, then back: nothing lost, nothing duplicated, order kept", async () => {
    h = await startHarness();
    await ready(h);
    await h.hub.down();
    const script: [string, string | null][] = [
      [alice, DEMO_CHANNELS.lobby],
      [bob, DEMO_CHANNELS.lobby],
      [alice, DEMO_CHANNELS.table1],
      [carol, DEMO_CHANNELS.table2],
      [bob, null],
      [dave, DEMO_CHANNELS.table1],
      [alice, null],
    ];
    for (let round = 0; round < 20; round++) {
      for (const [u, c] of script) c ? h.sim.joinVoice(G, u, c) : h.sim.leaveVoice(G, u);
      for (const u of [alice, bob, carol, dave]) h.sim.leaveVoice(G, u);
    }
    await sleepMs(300);
    expect(h.node.outbox.depth()).toBeGreaterThan(100);
    expect(h.node.health().status).toBe("degraded");
    const expected = h.node.metrics.eventsTranslated.total();
    await h.hub.up();
    await h.hub.waitFor(() => h!.hub.events.length === expected, 8000, "all events");
    const ids = h.hub.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const key = (id: string) => id.split(":").slice(2).map(Number);
    for (let i = 2; i < ids.length; i++) {
      const [a, b] = [key(ids[i - 1]!), key(ids[i]!)];
      expect(a[0]! < b[0]! || (a[0] === b[0] && (a[1] ?? 0) < (b[1] ?? 0))).toBe(true);
    }
    expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
  });

  it("outbox overflow: oldest voice events replaced by a presence snapshot, state still exact", async () => {
    h = await startHarness({ tuning: { outboxMaxPerGuild: 20 } });
    await ready(h);
    await h.hub.down();
    const room = h.sim.addChannel(G, { name: "New table", type: 2 });
    for (let i = 0; i < 60; i++) {
      const u = [alice, bob, carol, dave][i % 4]!;
      if (i % 5 === 4) h.sim.leaveVoice(G, u);
      else h.sim.joinVoice(G, u, [DEMO_CHANNELS.lobby, DEMO_CHANNELS.table1, room.id][i % 3]!);
    }
    await until(() => h!.node.metrics.dispatchesReceived.total() >= 60, 5000, "dispatches in");
    await until(
      () => JSON.stringify([...h!.node.translator.voiceOf(G)!].sort()) === JSON.stringify([...simPresence(h!.sim, G)].sort()),
      5000,
      "cache caught up",
    );
    expect(h.node.outbox.depth()).toBeLessThanOrEqual(22);
    expect(h.node.metrics.outboxOverflows.total()).toBeGreaterThan(0);
    await h.hub.up();
    await until(() => h!.node.outbox.depth() === 0, 5000, "drained");
    expect(h.hub.events.some((e) => e.id === `room.created:${room.id}`)).toBe(true);
    expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
    const metrics = await (await fetch(`http://127.0.0.1:${h.node.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/gateway_outbox_overflows_total\{guild="\d+"\} [1-9]/);
  });

  it("stop (SIGTERM path): closes shards with 1000, flushes the outbox, exit code 0", async () => {
    h = await startHarness();
    await ready(h);
    h.hub.mode = "503";
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    h.sim.joinVoice(G, bob, DEMO_CHANNELS.lobby);
    await until(() => h!.node.metrics.eventsTranslated.total() >= 3, 3000, "events translated");
    setTimeout(() => (h!.hub.mode = "ok"), 300);
    const result = await h.node.stop();
    expect(result).toEqual({ exitCode: 0, reason: "stop requested", undelivered: 0 });
    expect(h.hub.ofType("voice.joined")).toHaveLength(2);
    await until(() => h!.sim.gatewayStats().openConnections === 0, 2000, "socket closed");
    expect(h.sim.gatewayStats().sessions).toBe(0); // 1000 ended the session
    expect((await h.node.finished).exitCode).toBe(0);
  });

  it("stop with the hub unreachable: gives up at the deadline and reports what is left", async () => {
    h = await startHarness();
    await ready(h);
    expect(await h.node.outbox.flush(2000)).toBe(0);
    await h.hub.down();
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await until(() => h!.node.metrics.eventsTranslated.value({ event: "voice.joined" }) === 1 && h!.node.outbox.depth() === 1, 3000, "queued");
    const t0 = Date.now();
    const result = await h.node.stop({ flushMs: 300 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(result.undelivered).toBe(1);
    expect(h.logs.some((l) => l.includes('"level":"ERROR"') && l.includes("undelivered"))).toBe(true);
  });

  it("/health and /metrics", async () => {
    h = await startHarness();
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1);
    await until(() => h!.node.manager.info()[0]!.lastHeartbeatLatencyMs !== null, 3000, "heartbeat ack");
    const res = await fetch(`http://127.0.0.1:${h.node.healthPort}/health`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as any;
    expect(health).toMatchObject({ status: "ok", outboxDepth: 0 });
    expect(health.shards).toHaveLength(1);
    expect(health.shards[0]).toMatchObject({ id: 0, state: "ready", sessionId: expect.any(String) });
    expect(health.shards[0].lastHeartbeatLatencyMs).toBeGreaterThanOrEqual(0);
    const m = await fetch(`http://127.0.0.1:${h.node.healthPort}/metrics`);
    expect(m.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await m.text();
    for (const name of [
      "gateway_dispatches_received_total",
      'gateway_events_translated_total{event="voice.joined"} 1',
      'gateway_events_forwarded_total{event="voice.joined"} 1',
      "gateway_outbox_depth",
      "gateway_hub_posts_ok_total",
      "gateway_hub_posts_failed_total",
      "gateway_reconnects_total",
      "gateway_resumes_total",
      // At least 1: on a loaded machine a missed heartbeat ack makes the shard identify again.
      'gateway_identifies_total{shard="0"} ',
      'gateway_heartbeat_latency_ms{shard="0"}',
      'gateway_shard_ready{shard="0"} 1',
      "gateway_voice_states_cached 1",
    ]) {
      expect(text).toContain(name);
    }
    expect((await fetch(`http://127.0.0.1:${h.node.healthPort}/nope`)).status).toBe(404);
  });
});
