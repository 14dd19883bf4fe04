/** The dispatch bus (several consumers of one shard's dispatches) and sending a Gateway payload for a guild on its shard. */
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "@spell-coven/common";
import { DEMO_CHANNELS, DEMO_GUILD_ID } from "@spell-coven/simulator";
import { DispatchBus } from "../src/gateway/dispatch-bus.ts";
import { NotOnThisProcessError, shardForGuild } from "../src/gateway/manager.ts";
import { allReady, guildOnShard, TWO_SHARDS, startHarness, until, type Harness } from "./helpers/harness.ts";

const G = DEMO_GUILD_ID;

describe("dispatch bus", () => {
  it("every consumer gets each dispatch in order; type filters; a failing consumer harms no other; unsubscribe", () => {
    const lines: string[] = [];
    const bus = new DispatchBus(createLogger("ERROR", {}, (l) => lines.push(l)));
    const all: string[] = [];
    const voice: string[] = [];
    bus.subscribe(() => {
      throw new Error("boom");
    });
    const offAll = bus.subscribe((t, _d, key, seq, shard) => all.push(`${t}:${key}:${seq}:${shard}`));
    const offVoice = bus.subscribe((t, _d, _k, seq) => voice.push(`${t}:${seq}`), { types: ["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"] });
    expect(bus.size).toBe(3);
    bus.publish("GUILD_CREATE", { id: G }, "k", 2, 0);
    bus.publish("VOICE_STATE_UPDATE", { content: "secret" }, "k", 3, 0);
    bus.publish("VOICE_SERVER_UPDATE", {}, "k", 4, 1);
    expect(all).toEqual(["GUILD_CREATE:k:2:0", "VOICE_STATE_UPDATE:k:3:0", "VOICE_SERVER_UPDATE:k:4:1"]);
    expect(voice).toEqual(["VOICE_STATE_UPDATE:3", "VOICE_SERVER_UPDATE:4"]);
    expect(lines).toHaveLength(3);
    expect(lines.join("\n")).not.toContain("secret");
    offVoice();
    offAll();
    bus.publish("VOICE_STATE_UPDATE", {}, "k", 5, 0);
    expect(voice).toHaveLength(2);
    expect(all).toHaveLength(3);
    expect(bus.size).toBe(1);
  });
});

describe("gateway-node: bus consumers and sending for a guild", () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it("op 4 for a guild goes out on that guild's shard; a second consumer sees the bot's VOICE_STATE_UPDATE beside the Translator", async () => {
    const other = guildOnShard(1 - shardForGuild(G, 2), 2, 1070000000000000001n);
    const otherVoice = "1070000000000000300";
    h = await startHarness({
      ...TWO_SHARDS,
      guildIds: [G, other],
      beforeStart: (sim) => {
        sim.addGuild({ id: other, name: "Second" });
        sim.addChannel(other, { id: otherVoice, name: "Voice", type: 2 });
      },
    });
    await until(() => allReady(h!, 2), 8000, "two shards ready");
    const seen: { t: string; shard: number; guild: string | undefined; user: string | undefined }[] = [];
    h.node.bus.subscribe(
      (t, d, _k, _s, shard) => seen.push({ t, shard, guild: (d as { guild_id?: string }).guild_id, user: (d as { user_id?: string }).user_id }),
      { types: ["VOICE_STATE_UPDATE"] },
    );
    const bot = h.sim.botUserId;
    h.node.sendToGuild(other, { op: 4, d: { guild_id: other, channel_id: otherVoice, self_mute: false, self_deaf: true } });
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").some((e) => e.payload.userId === bot), 5000, "the bot's voice.joined");
    expect(h.hub.ofType("voice.joined").find((e) => e.payload.userId === bot)!.payload).toEqual({ guildId: other, channelId: otherVoice, userId: bot });
    expect(seen).toEqual([{ t: "VOICE_STATE_UPDATE", shard: shardForGuild(other, 2), guild: other, user: bot }]);
    expect(h.sim.voiceStates(other).find((v) => v.user_id === bot)?.channel_id).toBe(otherVoice);
  });

  it("a payload sent while the shard reconnects goes out after RESUMED (never before identify); bad payloads are refused", async () => {
    h = await startHarness({ tuning: { reconnectBaseMs: 200 } });
    await until(() => allReady(h!), 8000, "ready");
    h.sim.dropConnections();
    await until(() => h!.node.manager.info()[0]!.state !== "ready", 3000, "reconnecting");
    h.node.sendToGuild(G, { op: 4, d: { guild_id: G, channel_id: DEMO_CHANNELS.table1, self_mute: false, self_deaf: false } });
    await until(() => h!.sim.voiceStates(G).some((v) => v.user_id === h!.sim.botUserId && v.channel_id === DEMO_CHANNELS.table1), 5000, "the bot moved");
    expect(h.sim.gatewayStats().resumes).toBe(1);
    expect(h.node.metrics.closes.total()).toBe(1); // only the drop: no 4003 for sending too early
    expect(() => h!.node.sendToGuild(G, { op: 2, d: {} })).toThrow(RangeError);
    expect(() => h!.node.sendToGuild(G, { op: 4, d: { guild_id: G, pad: "x".repeat(5000) } })).toThrow(/4096/);
  });

  it("a guild on a shard another process runs: NotOnThisProcessError names the shard", async () => {
    h = await startHarness({ config: { shardCount: 2, shardIds: [shardForGuild(G, 2)] } });
    await until(() => allReady(h!), 8000, "ready");
    const elsewhere = guildOnShard(1 - shardForGuild(G, 2), 2, 1090000000000000001n);
    expect(() => h!.node.sendToGuild(elsewhere, { op: 4, d: {} })).toThrow(NotOnThisProcessError);
    expect(() => h!.node.sendToGuild(elsewhere, { op: 4, d: {} })).toThrow(new RegExp(`shard ${1 - shardForGuild(G, 2)}, which this process does not run`));
  });
});
