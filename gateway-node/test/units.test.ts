import { describe, expect, it, vi, afterEach } from "vitest";
import zlib from "node:zlib";
import { GatewayCloseCodes } from "discord-api-types/v10";
import { createLogger, type InternalEvent } from "@spell-coven/common";
import { StreamZlibStreamDecoder, SyncZlibStreamDecoder, ZlibStreamEncoder, syncZlibAvailable } from "../src/gateway/compression.ts";
import { SendQueue } from "../src/gateway/send-queue.ts";
import { IdentifyThrottle, SessionStartLimitError } from "../src/gateway/identify-throttle.ts";
import { closeAction } from "../src/gateway/close-codes.ts";
import { intentsFor, shardForGuild } from "../src/gateway/manager.ts";
import { SidecarConfigError } from "@spell-coven/sidecar-kit";
import { loadConfig } from "../src/config.ts";
import { Translator } from "../src/translate.ts";
import { Metrics } from "../src/metrics.ts";
import { healthReport } from "../src/health.ts";

const quiet = createLogger("ERROR", {}, () => {});

describe("zlib-stream decoder", () => {
  const msgs = [{ op: 10, d: { heartbeat_interval: 45000 } }, { op: 0, t: "X", s: 1, d: { a: "x".repeat(5000), big: "é".repeat(100_000) } }, { op: 11 }];
  for (const kind of ["sync", "stream"] as const) {
    it(`${kind}: inflates with one shared context and buffers until 00 00 ff ff`, async () => {
      const enc = new ZlibStreamEncoder();
      const got: unknown[] = [];
      const errors: Error[] = [];
      const dec =
        kind === "sync"
          ? new SyncZlibStreamDecoder((t) => got.push(JSON.parse(t)))
          : new StreamZlibStreamDecoder(
              (t) => got.push(JSON.parse(t)),
              (e) => errors.push(e),
            );
      for (const m of msgs) {
        const frame = enc.encode(JSON.stringify(m));
        expect(frame.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(true);
        const cut = Math.floor(frame.length / 2);
        dec.push(frame.subarray(0, cut));
        dec.push(frame.subarray(cut));
      }
      await vi.waitFor(() => expect(got).toHaveLength(3));
      expect(got).toEqual(msgs);
      expect(errors).toEqual([]);
      // A fresh context cannot decode a later message: proves the context is shared.
      const later = enc.encode(JSON.stringify(msgs[2]));
      expect(() => new SyncZlibStreamDecoder(() => {}).push(later)).toThrow();
      dec.close();
      enc.close();
    });
  }

  it("self-test passes on this Node and corrupt data throws", () => {
    expect(syncZlibAvailable()).toBe(true);
    const dec = new SyncZlibStreamDecoder(() => {});
    expect(() => dec.push(Buffer.from([1, 2, 3, 4, 0, 0, 0xff, 0xff]))).toThrow();
  });

  it("decodes what node's own deflate stream produces", () => {
    const d = zlib.createDeflate();
    const chunks: Buffer[] = [];
    d.on("data", (c) => chunks.push(c));
    return new Promise<void>((resolve) => {
      d.write(JSON.stringify({ hello: "world" }));
      d.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        new SyncZlibStreamDecoder((t) => {
          expect(JSON.parse(t)).toEqual({ hello: "world" });
          resolve();
        }).push(Buffer.concat(chunks));
      });
    });
  });
});

describe("send queue", () => {
  afterEach(() => vi.useRealTimers());

  it("keeps ordinary sends to limit - reserved per window and never starves priority", () => {
    vi.useFakeTimers();
    let now = 0;
    const q = new SendQueue({ limit: 10, windowMs: 1000, reserved: 2, now: () => now });
    const sent: string[] = [];
    q.attach((p) => sent.push(p));
    q.release();
    for (let i = 0; i < 12; i++) q.send(`n${i}`);
    expect(sent).toHaveLength(8);
    q.sendPriority("hb1");
    q.sendPriority("hb2");
    expect(sent.slice(-2)).toEqual(["hb1", "hb2"]);
    q.sendPriority("hb3"); // over the hard limit: waits for the window
    expect(sent).toHaveLength(10);
    now = 1001;
    vi.advanceTimersByTime(1001);
    // Priority first, then the rest of the ordinary queue.
    expect(sent.slice(10)).toEqual(["hb3", "n8", "n9", "n10", "n11"]);
    expect(q.queued).toBe(0);
  });

  it("is a sliding window: never more than `limit` in any window", () => {
    vi.useFakeTimers();
    let now = 0;
    const q = new SendQueue({ limit: 120, windowMs: 60_000, reserved: 5, now: () => now });
    const times: number[] = [];
    q.attach(() => times.push(now));
    q.release();
    for (let i = 0; i < 400; i++) q.send("x");
    for (let t = 0; t < 240_000; t += 500) {
      now = t;
      vi.advanceTimersByTime(500);
      if (t % 20_000 === 0) q.sendPriority("hb");
    }
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((x) => x > times[i]! - 60_000 && x <= times[i]!).length;
      expect(inWindow).toBeLessThanOrEqual(120);
    }
    expect(times.length).toBeGreaterThan(400);
  });

  it("detach keeps ordinary payloads for the next connection", () => {
    const q = new SendQueue({ limit: 2, windowMs: 60_000, reserved: 1 });
    const a: string[] = [];
    q.attach((p) => a.push(p));
    q.release();
    q.send("1");
    q.send("2");
    q.detach();
    const b: string[] = [];
    q.attach((p) => b.push(p));
    q.release();
    expect(a).toEqual(["1"]);
    expect(b).toEqual(["2"]);
  });

  it("ordinary payloads wait for release() on each connection (before identify they would get 4003); priority ones do not", () => {
    const q = new SendQueue({ limit: 10, windowMs: 60_000, reserved: 1 });
    const out: string[] = [];
    q.send("op4");
    q.attach((p) => out.push(p));
    q.sendPriority("identify");
    expect(out).toEqual(["identify"]);
    q.release();
    expect(out).toEqual(["identify", "op4"]);
    q.detach();
    q.send("op4-again");
    q.attach((p) => out.push(p));
    expect(out).toHaveLength(2);
    q.release();
    expect(out.at(-1)).toBe("op4-again");
  });
});

describe("identify throttle", () => {
  const limit = (over: Partial<{ remaining: number; max_concurrency: number }> = {}) => ({
    total: 1000,
    remaining: 1000,
    reset_after: 3_600_000,
    max_concurrency: 1,
    ...over,
  });

  it("spaces identifies of one bucket by the interval; buckets run in parallel", async () => {
    const t = new IdentifyThrottle({ limit: limit({ max_concurrency: 2 }), intervalMs: 150 });
    const start = Date.now();
    const at: Record<number, number> = {};
    await Promise.all([0, 1, 2, 3].map((id) => t.acquire(id).then(() => (at[id] = Date.now() - start))));
    expect(at[0]).toBeLessThan(100);
    expect(at[1]).toBeLessThan(100); // bucket 1 in parallel with bucket 0
    expect(at[2]).toBeGreaterThanOrEqual(140); // bucket 0 again
    expect(at[3]).toBeGreaterThanOrEqual(140);
    expect(t.remaining).toBe(996);
  });

  it("refuses when session_start_limit is exhausted (after asking Discord again)", async () => {
    const refresh = vi.fn(async () => limit({ remaining: 0 }));
    const t = new IdentifyThrottle({ limit: limit({ remaining: 1 }), intervalMs: 1, refresh });
    await t.acquire(0);
    await expect(t.acquire(0)).rejects.toBeInstanceOf(SessionStartLimitError);
    expect(refresh).toHaveBeenCalledTimes(1);
    await expect(t.acquire(0)).rejects.toThrow(/session start limit exhausted/);
  });

  it("an aborted waiter does not block the bucket", async () => {
    const t = new IdentifyThrottle({ limit: limit(), intervalMs: 100 });
    await t.acquire(0);
    const ac = new AbortController();
    const p = t.acquire(0, ac.signal);
    ac.abort(new Error("gone"));
    await expect(p).rejects.toThrow("gone");
    await t.acquire(0);
  });
});

describe("close codes", () => {
  it("has an explicit decision for every GatewayCloseCodes member", () => {
    const names = Object.keys(GatewayCloseCodes).filter((k) => Number.isNaN(Number(k)));
    expect(names.length).toBeGreaterThanOrEqual(13);
    for (const n of names) {
      const code = (GatewayCloseCodes as any)[n] as number;
      expect(closeAction(code).why, n).not.toMatch(/^close code/);
    }
  });
  it("families", () => {
    for (const c of [4000, 4001, 4002, 4003, 4005, 4008]) expect(closeAction(c).kind).toBe("resume");
    for (const c of [4007, 4009]) expect(closeAction(c).kind).toBe("identify");
    for (const c of [4004, 4010, 4011, 4012, 4013, 4014]) expect(closeAction(c).kind).toBe("fatal");
    for (const c of [1000, 1001, 1006, 4900, 4999]) expect(closeAction(c).kind).toBe("resume");
    const a = closeAction(4014);
    expect(a.kind === "fatal" && a.fix).toMatch(/Developer Portal/);
    const b = closeAction(4004);
    expect(b.kind === "fatal" && b.fix).toMatch(/DISCORD_BOT_TOKEN/);
  });
});

describe("config", () => {
  const env = {
    DISCORD_BOT_TOKEN: "tok",
    PRIMARY_GUILD_ID: "123, 456",
    HUB_ENDPOINT: "https://hub.example.com",
    HUB_SECRET: "x".repeat(40),
  };
  it("parses and applies defaults", () => {
    const { config, warnings } = loadConfig(env);
    expect(config.guildIds).toEqual(["123", "456"]);
    expect(config.hubEndpoint).toBe("https://hub.example.com/api/internal/events");
    expect(config.healthPort).toBe(8080);
    expect(config.apiBase).toBe("https://discord.com/api/v10");
    expect(config.shardIds).toBeUndefined();
    expect(config.enableMessageEvents).toBe(false);
    expect(warnings).toEqual([]);
    expect(intentsFor(false)).toBe(129);
    expect(intentsFor(true)).toBe(1 | 128 | 512 | 1024 | 2048);
    expect(intentsFor(true, true)).toBe(1 | 128 | 512 | 1024 | 2048 | 32768);
  });
  it("names each variable to fix and never echoes the token", () => {
    try {
      loadConfig({ DISCORD_BOT_TOKEN: "super-secret-token", PRIMARY_GUILD_ID: "abc", HUB_ENDPOINT: "nope", HUB_SECRET: "", HEALTH_CHECK_PORT: "99999" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SidecarConfigError);
      const m = (e as Error).message;
      for (const v of ["PRIMARY_GUILD_ID", "HUB_ENDPOINT", "HUB_SECRET", "HEALTH_CHECK_PORT"]) expect(m).toContain(v);
      expect(m).not.toContain("super-secret-token");
    }
    expect(() => loadConfig({ ...env, DISCORD_BOT_TOKEN: undefined })).toThrow(/DISCORD_BOT_TOKEN/);
    expect(() => loadConfig({ ...env, SHARD_IDS: "0,3", SHARD_COUNT: "2" })).toThrow(/SHARD_IDS/);
    expect(() => loadConfig({ ...env, HUB_SECRET: "short" })).toThrow(/HUB_SECRET must be at least 32/);
    expect(loadConfig({ ...env, SHARD_COUNT: "2" }).config.shardIds).toEqual([0, 1]);
  });
  it("routes guilds to shards like Discord", () => {
    expect(shardForGuild("41771983423143937", 2)).toBe(Number((41771983423143937n >> 22n) % 2n));
    expect(shardForGuild("4194304", 2)).toBe(1);
  });
});

describe("translator", () => {
  const G = "100000000000000001";
  const mk = () => {
    const out: InternalEvent[] = [];
    const traces: (string | undefined)[] = [];
    // Each event carries its dispatch's trace id (checked below); the expectations leave it out.
    const t = new Translator([G], ({ traceId, ...e }) => (traces.push(traceId), out.push(e as InternalEvent)), { now: () => 5 });
    return { t, out, traces };
  };
  const vsu = (userId: string, channelId: string | null, extra: object = {}) => ({
    guild_id: G,
    user_id: userId,
    channel_id: channelId,
    self_mute: false,
    ...extra,
  });

  it("every event of one dispatch carries that dispatch's W3C trace id; the next dispatch gets another", () => {
    const { t, traces } = mk();
    t.handleDispatch("GUILD_CREATE", { id: G, voice_states: [{ user_id: "1", channel_id: "10" }], channels: [] }, "k", 1);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "11"), "k", 2); // a move: left + joined
    expect(traces).toHaveLength(3);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(traces[1]).toBe(traces[2]);
    expect(traces[0]).not.toBe(traces[1]);
  });

  it("seeds from GUILD_CREATE and sends a snapshot", () => {
    const { t, out } = mk();
    t.handleDispatch(
      "GUILD_CREATE",
      {
        id: G,
        voice_states: [
          { user_id: "1", channel_id: "10" },
          { user_id: "2", channel_id: "11" },
        ],
      },
      "sessA",
      2,
    );
    expect(out).toEqual([
      {
        id: expect.stringMatching(new RegExp(`^snap:${G}:[0-9a-f]{12}:1$`)),
        guildId: G,
        event: "presence.snapshot",
        ts: 5,
        payload: {
          guildId: G,
          voiceStates: [
            { userId: "1", channelId: "10" },
            { userId: "2", channelId: "11" },
          ],
          voiceFlags: [],
          channels: [],
        },
      },
    ]);
  });

  it("snapshot ids of two processes (translators) never repeat, even for the same session and count", () => {
    const a = mk();
    const b = mk();
    a.t.handleDispatch("GUILD_CREATE", { id: G, voice_states: [] }, "same-key", 2);
    b.t.handleDispatch("GUILD_CREATE", { id: G, voice_states: [] }, "same-key", 2);
    expect(a.out[0]!.id).not.toBe(b.out[0]!.id);
  });

  it("join, video toggle (nothing), move (left then joined), leave", () => {
    const { t, out } = mk();
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10"), "s", 3);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10", { self_video: true }), "s", 4);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "11"), "s", 5);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", null), "s", 6);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("9", null), "s", 7); // unknown user leaving: nothing
    expect(out.map((e) => [e.id, e.event, (e.payload as any).channelId])).toEqual([
      ["v:s:3", "voice.joined", "10"],
      ["v:s:5:0", "voice.left", "10"],
      ["v:s:5:1", "voice.joined", "11"],
      ["v:s:6", "voice.left", "11"],
    ]);
  });

  it("mute and deafen changes in the same channel become voice.flags; a join or move carries its flags after it; a leave forgets them", () => {
    const { t, out } = mk();
    const none = { selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false };
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10"), "s", 3);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10", { self_mute: true }), "s", 4);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10", { self_mute: true, self_video: true }), "s", 5); // flags as they were: nothing
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10", { self_mute: true, mute: true, deaf: true }), "s", 6); // a moderator
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "11", { self_mute: true, mute: true, deaf: true }), "s", 7); // move
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "11", { self_deaf: true }), "s", 8);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", null, { self_deaf: true }), "s", 9); // leave, still deafened
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("2", "10", { self_deaf: true }), "s", 10); // joins deafened
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10"), "s", 11); // back, nothing set: no flags event
    expect(out.map((e) => [e.id, e.event, (e.payload as any).userId])).toEqual([
      ["v:s:3", "voice.joined", "1"],
      ["v:s:4", "voice.flags", "1"],
      ["v:s:6", "voice.flags", "1"],
      ["v:s:7:0", "voice.left", "1"],
      ["v:s:7:1", "voice.joined", "1"],
      ["v:s:7:f", "voice.flags", "1"],
      ["v:s:8", "voice.flags", "1"],
      ["v:s:9", "voice.left", "1"],
      ["v:s:10", "voice.joined", "2"],
      ["v:s:10:f", "voice.flags", "2"],
      ["v:s:11", "voice.joined", "1"],
    ]);
    expect(out[1]!.payload).toEqual({ guildId: G, channelId: "10", userId: "1", ...none, selfMute: true });
    expect(out[2]!.payload).toEqual({ guildId: G, channelId: "10", userId: "1", selfMute: true, selfDeaf: false, serverMute: true, serverDeaf: true });
    expect(out[5]!.payload).toEqual({ guildId: G, channelId: "11", userId: "1", selfMute: true, selfDeaf: false, serverMute: true, serverDeaf: true });
    expect(out[6]!.payload).toEqual({ guildId: G, channelId: "11", userId: "1", ...none, selfDeaf: true });
    // Only the flagged are cached, and a leave drops them: "1" is back with none, "2" is deafened.
    expect([...t.flagsOf(G)!]).toEqual([["2", { ...none, selfDeaf: true }]]);
  });

  it("snapshots carry the flags of those who have one, from GUILD_CREATE and the changes since", () => {
    const { t, out } = mk();
    t.handleDispatch(
      "GUILD_CREATE",
      {
        id: G,
        voice_states: [
          { user_id: "1", channel_id: "10", self_mute: true, self_deaf: false, mute: false, deaf: false },
          { user_id: "2", channel_id: "10", self_mute: false, self_deaf: false, mute: false, deaf: true },
          { user_id: "3", channel_id: "11", self_mute: false, self_deaf: false, mute: false, deaf: false },
        ],
        channels: [],
      },
      "s",
      1,
    );
    expect((out[0]!.payload as any).voiceFlags).toEqual([
      { userId: "1", selfMute: true, selfDeaf: false, serverMute: false, serverDeaf: false },
      { userId: "2", selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: true },
    ]);
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("1", "10"), "s", 2); // unmuted
    t.handleDispatch("VOICE_STATE_UPDATE", vsu("3", "11", { mute: true }), "s", 3);
    expect(t.buildSnapshot(G).payload.voiceFlags).toEqual([
      { userId: "2", selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: true },
      { userId: "3", selfMute: false, selfDeaf: false, serverMute: true, serverDeaf: false },
    ]);
    // The bot removed from the guild: nobody is in voice, so nobody has flags.
    t.handleDispatch("GUILD_DELETE", { id: G }, "s", 4);
    expect((out.at(-1)!.payload as any).voiceFlags).toEqual([]);
  });

  it("forwards only PRIMARY_GUILD_ID guilds and only voice channels", () => {
    const { t, out } = mk();
    t.handleDispatch("VOICE_STATE_UPDATE", { ...vsu("1", "10"), guild_id: "999" }, "s", 1);
    t.handleDispatch("CHANNEL_CREATE", { id: "20", type: 0, guild_id: G, name: "text" }, "s", 2);
    t.handleDispatch("CHANNEL_CREATE", { id: "21", type: 13, guild_id: G, name: "stage" }, "s", 3);
    t.handleDispatch("CHANNEL_CREATE", { id: "22", type: 2, guild_id: "999", name: "other" }, "s", 4);
    t.handleDispatch("CHANNEL_CREATE", { id: "23", type: 2, guild_id: G, name: "Table 1" }, "s", 5);
    t.handleDispatch("CHANNEL_DELETE", { id: "23", type: 2, guild_id: G, name: "Table 1" }, "s", 6);
    t.handleDispatch("GUILD_CREATE", { id: "999", voice_states: [] }, "s", 7);
    expect(out).toEqual([
      { id: "room.created:23", guildId: G, event: "room.created", payload: { channelId: "23", name: "Table 1", guildId: G }, ts: 5 },
      { id: "room.deleted:23", guildId: G, event: "room.deleted", payload: { channelId: "23", guildId: G }, ts: 5 },
    ]);
  });

  it("every snapshot carries the guild's voice channels: GUILD_CREATE, then CHANNEL_CREATE / UPDATE / DELETE since", () => {
    const { t, out } = mk();
    const ch = (id: string, type: number, name: string) => ({ id, type, name, guild_id: G });
    t.handleDispatch(
      "GUILD_CREATE",
      {
        id: G,
        voice_states: [],
        channels: [ch("30", 2, "Lobby"), ch("31", 2, "Table 1"), ch("32", 0, "general"), ch("33", 13, "Stage"), ch("34", 4, "Game Rooms")],
      },
      "s",
      1,
    );
    expect((out[0]!.payload as any).channels).toEqual([
      { channelId: "30", name: "Lobby" },
      { channelId: "31", name: "Table 1" },
    ]);
    t.handleDispatch("CHANNEL_CREATE", ch("35", 2, "Table 2"), "s", 2);
    t.handleDispatch("CHANNEL_UPDATE", ch("30", 2, "Lobby (renamed)"), "s", 3);
    t.handleDispatch("CHANNEL_UPDATE", ch("32", 0, "general-2"), "s", 4);
    t.handleDispatch("CHANNEL_DELETE", ch("31", 2, "Table 1"), "s", 5);
    expect(t.buildSnapshot(G).payload.channels).toEqual([
      { channelId: "30", name: "Lobby (renamed)" },
      { channelId: "35", name: "Table 2" },
    ]);
    // A new GUILD_CREATE (after an identify) replaces the list: what vanished meanwhile is gone.
    t.handleDispatch("GUILD_CREATE", { id: G, voice_states: [], channels: [ch("35", 2, "Table 2"), ch("36", 2, "New")] }, "s", 1);
    expect((out.at(-1)!.payload as any).channels).toEqual([
      { channelId: "35", name: "Table 2" },
      { channelId: "36", name: "New" },
    ]);
  });

  it("GUILD_DELETE: outage keeps the cache; removal clears it with an empty snapshot", () => {
    const { t, out } = mk();
    t.handleDispatch("GUILD_CREATE", { id: G, voice_states: [{ user_id: "1", channel_id: "10" }] }, "s", 1);
    t.handleDispatch("GUILD_DELETE", { id: G, unavailable: true }, "s", 2);
    expect(out).toHaveLength(1);
    expect(t.voiceOf(G)!.size).toBe(1);
    t.handleDispatch("GUILD_DELETE", { id: G }, "s", 3);
    expect(out[1]!.event).toBe("presence.snapshot");
    expect((out[1]!.payload as any).voiceStates).toEqual([]);
    // The channels are unknown once the bot is out of the guild: left out, so the hub keeps its rooms.
    expect((out[1]!.payload as any).channels).toBeUndefined();
  });
});

describe("health and metrics", () => {
  it("reports status from shard states, fatal errors and the outbox", () => {
    const base = {
      shards: () => [{ id: 0, state: "ready" as const, lastHeartbeatLatencyMs: 12, sessionId: "abc", seq: 3, consecutiveFailures: 0 }],
      outboxDepth: () => 0,
      outboxFailing: () => false,
      fatal: () => null,
      started: () => true,
      renderMetrics: () => "",
    };
    expect(healthReport(base)).toEqual({ status: "ok", shards: [{ id: 0, state: "ready", lastHeartbeatLatencyMs: 12, sessionId: "abc" }], outboxDepth: 0 });
    expect(healthReport({ ...base, outboxFailing: () => true, outboxDepth: () => 5 }).status).toBe("degraded");
    expect(healthReport({ ...base, fatal: () => "4004" }).status).toBe("unhealthy");
  });
  it("renders Prometheus text", () => {
    const m = new Metrics();
    m.reconnects.inc({ shard: 0 });
    m.heartbeatLatency.set(42, { shard: 1 });
    m.postsFailed.inc({ reason: 'a"b' });
    const text = m.render();
    expect(text).toContain("# TYPE gateway_reconnects_total counter");
    expect(text).toContain('gateway_reconnects_total{shard="0"} 1');
    expect(text).toContain('gateway_heartbeat_latency_ms{shard="1"} 42');
    expect(text).toContain('gateway_hub_posts_failed_total{reason="a\\"b"} 1');
    expect(text).toContain("gateway_hub_posts_ok_total 0");
  });
});
void quiet;
