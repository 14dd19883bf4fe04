/**
 * gateway-node against a Discord it did not expect (issue 17): servers that reuse session ids,
 * restart seq, answer every resume with op 9, restart, refuse upgrades without a User-Agent, or
 * change channels while gateway-node has no session. Nothing may be lost or duplicated at the hub.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { allReady, sleepMs, startHarness, until, type Harness } from "./helpers/harness.ts";

const G = DEMO_GUILD_ID;
const { alice, bob } = DEMO_USERS;
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
