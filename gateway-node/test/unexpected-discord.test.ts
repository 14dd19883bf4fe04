/**
 * gateway-node against a Discord it did not expect (issue 17): servers that reuse session ids,
 * restart seq, answer every resume with op 9, restart, refuse upgrades without a User-Agent, or
 * change channels while gateway-node has no session. Nothing may be lost or duplicated at the hub.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { createLogger } from "@spell-coven/common";
import { runUntilStopped } from "@spell-coven/sidecar-kit";
import { startGatewayNode } from "../src/index.ts";
import { allReady, hubPresence, simPresence, sleepMs, startHarness, until, type Harness } from "./helpers/harness.ts";

const G = DEMO_GUILD_ID;
const { alice, bob, carol } = DEMO_USERS;
let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function ready(harness: Harness, snapshots = 1) {
  await until(() => allReady(harness), 8000, "shard ready");
  await harness.hub.waitFor(() => harness.hub.ofType("presence.snapshot").length >= snapshots, 8000, "snapshot");
}

describe("a gateway that refuses upgrades without a User-Agent", () => {
  it("connects: the upgrade carries the same DiscordBot (...) User-Agent as REST", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.setGatewayFaults({ requireUserAgent: true }) });
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1);
    expect(h.sim.gatewayStats().identifies).toBe(1);
  });
});

/** Every event the translator produced reached the hub once: none swallowed by the id dedupe. */
function nothingLostNothingDuplicated(harness: Harness) {
  const ids = harness.hub.events.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(harness.hub.duplicatePosts).toBe(0);
  expect(harness.hub.events.length).toBe(harness.node.metrics.eventsTranslated.total());
  expect(hubPresence(harness.hub, G)).toEqual(simPresence(harness.sim, G));
}

describe("event ids are unique without trusting the server", () => {
  it("a server restart that hands out the same session_id and seq again: nothing lost at the hub", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.setGatewayFaults({ reuseSessionIds: true }) });
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby); // s = 3 of the first session
    h.sim.joinVoice(G, bob, DEMO_CHANNELS.lobby); // s = 4
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 2);
    const firstSession = h.node.manager.info()[0]!.sessionId;
    h.sim.restartGateway(); // the resume gets op 9 d:false; the new identify gets the same session_id, s from 1
    await until(() => h!.sim.gatewayStats().identifies === 2 && allReady(h!), 8000, "identified again");
    expect(h.node.manager.info()[0]!.sessionId).toBe(firstSession);
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2);
    h.sim.joinVoice(G, carol, DEMO_CHANNELS.table1); // s = 3 again
    h.sim.leaveVoice(G, alice); // s = 4 again
    await h.hub.waitFor(() => h!.hub.events.length === 6, 5000, "6 events");
    nothingLostNothingDuplicated(h);
  });

  it("a server that numbers from 1 again after a resume: nothing lost at the hub", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.setGatewayFaults({ restartSeqOnResume: true }) });
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby); // s = 3
    h.sim.joinVoice(G, bob, DEMO_CHANNELS.lobby); // s = 4
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 2);
    h.sim.dropConnections();
    await until(() => h!.sim.gatewayStats().resumes === 1 && allReady(h!), 5000, "resumed"); // RESUMED is s = 1
    h.sim.joinVoice(G, carol, DEMO_CHANNELS.table1); // s = 2
    h.sim.leaveVoice(G, alice); // s = 3
    h.sim.leaveVoice(G, bob); // s = 4
    await h.hub.waitFor(() => h!.hub.events.length === 6, 5000, "6 events");
    nothingLostNothingDuplicated(h);
  });

  it("a restarted gateway-node process: its snapshot is not taken for the last process's", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.setGatewayFaults({ reuseSessionIds: true }) });
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1);
    await h.node.stop();
    h.sim.joinVoice(G, bob, DEMO_CHANNELS.table1); // while no process runs: only the next snapshot tells
    const second = await startGatewayNode(h.config, { log: createLogger("ERROR", {}, () => {}) });
    try {
      await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2, 8000, "the second process's snapshot");
      expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
      expect(h.hub.duplicatePosts).toBe(0);
    } finally {
      await second.stop({ flushMs: 500 });
    }
  });
});

describe("rooms are reconciled after every identify", () => {
  const simRooms = (harness: Harness) =>
    harness.sim
      .channels(G)
      .filter((c) => c.type === 2)
      .map((c) => ({ channelId: c.id, name: c.name! }));
  const byId = (a: { channelId: string }, b: { channelId: string }) => a.channelId.localeCompare(b.channelId);

  it("a channel created and one deleted while the session was lost: the next snapshot carries the guild's voice channels", async () => {
    h = await startHarness();
    await ready(h);
    expect(h.hub.ofType("presence.snapshot")[0]!.payload.channels!.sort(byId)).toEqual(simRooms(h).sort(byId));
    h.sim.goDown();
    const created = h.sim.addChannel(G, { name: "Made during the gap", type: 2 });
    h.sim.deleteChannel(DEMO_CHANNELS.table2);
    h.sim.restartGateway(); // the session and its replay buffer are gone: no CHANNEL_CREATE / DELETE will come
    h.sim.comeBack();
    await until(() => h!.sim.gatewayStats().identifies === 2 && allReady(h!), 8000, "identified again");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2);
    const channels = h.hub.ofType("presence.snapshot")[1]!.payload.channels!;
    expect(channels.sort(byId)).toEqual(simRooms(h).sort(byId));
    expect(channels.some((c) => c.channelId === created.id)).toBe(true);
    expect(channels.some((c) => c.channelId === DEMO_CHANNELS.table2)).toBe(false);
    expect(h.hub.ofType("room.created")).toHaveLength(0); // only the snapshot could tell the hub
  });
});

describe("a gateway that answers is not a failed attempt", () => {
  it("op 9 on every resume after an outage: identifies again instead of giving up", async () => {
    h = await startHarness({ tuning: { maxReconnectAttempts: 3 } });
    await ready(h);
    h.sim.setGatewayFaults({ invalidateResumes: true });
    h.sim.goDown();
    await until(() => h!.node.manager.info()[0]!.consecutiveFailures === 2, 5000, "two unanswered attempts");
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby); // lost with the session, repaired by the snapshot
    h.sim.comeBack();
    await until(() => h!.sim.gatewayStats().identifies === 2 && allReady(h!), 8000, "identified again");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2);
    expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
    expect(h.node.health().status).toBe("ok");
    expect(h.node.manager.info()[0]!.consecutiveFailures).toBe(0);
    const exited = await Promise.race([h.node.finished.then(() => true), sleepMs(200).then(() => false)]);
    expect(exited).toBe(false);
  });

  it("gives up after 5 unanswered attempts naming the last cause; /health says unhealthy before the exit", async () => {
    h = await startHarness();
    await ready(h);
    const exits: number[] = [];
    const exited = runUntilStopped(h.node, {
      log: createLogger("ERROR", {}, () => {}),
      unhealthyLingerMs: 400,
      exit: (c) => exits.push(c),
      signals: { on: () => process, off: () => process },
    });
    h.sim.goDown(); // upgrades are answered 503 from now on
    const result = await h.node.finished;
    expect(result.exitCode).toBe(1);
    expect(result.reason).toMatch(/5 consecutive connection attempts failed without a Hello/);
    expect(result.reason).toMatch(/HTTP 503/);
    expect(exits).toEqual([]); // still lingering
    const res = await fetch(`http://127.0.0.1:${h.node.healthPort}/health`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/refused the WebSocket upgrade with HTTP 503/);
    expect(await exited).toBe(1);
    expect(exits).toEqual([1]);
  });
});

describe("every misbehaviour at once", () => {
  it("reused session ids, seq restarts, op 9 on resume, a server restart and a channel made in the gap: nothing lost, nothing duplicated", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.setGatewayFaults({ reuseSessionIds: true, restartSeqOnResume: true, requireUserAgent: true }) });
    await ready(h);
    const round = async (users: string[], channel: string) => {
      for (const u of users) h!.sim.joinVoice(G, u, channel);
      await h!.hub.waitFor(() => users.every((u) => hubPresence(h!.hub, G).get(u) === channel), 5000, `round in ${channel}`);
    };
    await round([alice, bob], DEMO_CHANNELS.lobby);
    h.sim.dropConnections(); // resume; the server then numbers from 1 again
    await until(() => h!.sim.gatewayStats().resumes === 1 && allReady(h!), 5000, "resumed");
    await round([alice, carol], DEMO_CHANNELS.table1);
    h.sim.goDown();
    const room = h.sim.addChannel(G, { name: "Made in the gap", type: 2 });
    h.sim.restartGateway(); // same session_id handed out again after it
    h.sim.comeBack();
    await until(() => h!.sim.gatewayStats().identifies === 2 && allReady(h!), 8000, "identified again");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2);
    await round([bob], DEMO_CHANNELS.table2);
    h.sim.setGatewayFaults({ invalidateResumes: true });
    h.sim.dropConnections(); // the resume gets op 9: a third identify, same session_id again
    await until(() => h!.sim.gatewayStats().identifies === 3 && allReady(h!), 8000, "identified a third time");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 3);
    await round([alice, bob, carol], DEMO_CHANNELS.table1);
    h.sim.leaveVoice(G, carol);
    await h.hub.waitFor(() => !hubPresence(h!.hub, G).has(carol), 5000, "carol left");
    nothingLostNothingDuplicated(h);
    const last = h.hub.ofType("presence.snapshot").at(-1)!;
    expect(last.payload.channels!.some((c) => c.channelId === room.id)).toBe(true);
    expect(h.node.health().status).toBe("ok");
  });
});

describe("diagnostics", () => {
  it("LOG_LEVEL=DEBUG: one line per dispatch with type, guild and seq, never the token or message content", async () => {
    h = await startHarness({ config: { enableMessageEvents: true } });
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    h.sim.postMessage(DEMO_CHANNELS.general, bob, "my secret plan for the next game");
    await until(() => h!.logs.some((l) => l.includes('"t":"MESSAGE_CREATE"')), 5000, "MESSAGE_CREATE logged");
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "dispatch");
    expect(lines.map((l) => l.t)).toEqual(["READY", "GUILD_CREATE", "VOICE_STATE_UPDATE", "MESSAGE_CREATE"]);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(lines.slice(1).every((l) => l.guildId === G && l.shard === 0 && l.level === "DEBUG")).toBe(true);
    const all = h.logs.join("\n");
    expect(all).not.toContain("my secret plan");
    expect(all).not.toContain(h.sim.botToken);
  });

  it("LOG_LEVEL=INFO: no per-dispatch lines", async () => {
    h = await startHarness({ logLevel: "INFO" });
    await ready(h);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1);
    expect(h.logs.some((l) => l.includes('"msg":"dispatch"'))).toBe(false);
    expect(h.logs.some((l) => l.includes('"msg":"READY"'))).toBe(true);
  });
});
