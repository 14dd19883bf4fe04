/**
 * The table bot end to end: the simulator, the Worker under `wrangler dev`, gateway-node with its
 * voice link and rtc-node (its own process, trusting the simulator's voice CA through
 * NODE_EXTRA_CA_CERTS). A seated player calls the bot through the rooms API; a simulated person
 * speaks in the table's voice channel; the player's /api/ws at the table gets voice.speaking.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOT_USER_ID, DEMO_GUILD_ID, DEMO_USERS, type LocalDiscord } from "@spell-coven/simulator";
import { startLocalSystem, type LocalSystem } from "../scripts/lib/local-system.ts";
import { freePort } from "../scripts/lib/free-port.ts";
import { TestPlayer } from "./player-client.ts";

let system: LocalSystem;
let stateDir: string;
let player: TestPlayer;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "e2e-bot-"));
  system = await startLocalSystem({ workerPort: await freePort(), gatewayHealthPort: 0, simulatorPort: 0, stateDir, quiet: true, logLevel: "WARN" });
  await system.startWorker();
  await system.startGateway();
  await system.startRtc();
  player = new TestPlayer(system.workerUrl, () => system.simulator!.mintToken(DEMO_USERS.alice));
  await player.connect();
}, 150_000);

afterAll(async () => {
  player?.close();
  await system?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown) {
  const token = await system.simulator!.mintToken(DEMO_USERS.alice);
  return fetch(`${system.workerUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", origin: system.workerUrl },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

describe("the table bot in the local system", () => {
  it("a seated player calls it; a person speaking at the table reaches the player as voice.speaking; it leaves when sent away", async () => {
    const sim = system.simulator as LocalDiscord;
    const created = await api("POST", "/api/create-room", { name: "Bot Table" });
    expect(created.status).toBe(201);
    const room = (await created.json()) as { channelId: string };
    player.send({ type: "table.join", channelId: room.channelId, camera: false });
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, room.channelId);

    const called = await api("POST", `/api/rooms/${room.channelId}/bot`);
    expect(called.status).toBe(200);
    expect(sim.voiceStates(DEMO_GUILD_ID).find((v) => v.user_id === BOT_USER_ID)?.channel_id).toBe(room.channelId);

    const speaking = player.next(
      (m) => m.type === "signal" && m.signal === "voice.speaking" && m.payload.userId === DEMO_USERS.alice && m.payload.speaking === true,
      20_000,
    );
    // DAVE settles a moment after the join; speak until the signal arrives.
    sim.personSpeak(DEMO_USERS.alice, 440);
    const sig = await speaking;
    expect(sig.payload.channelId).toBe(room.channelId);
    const level = await player.next(
      (m) => m.type === "signal" && m.signal === "voice.speaking" && typeof m.payload.level === "number" && m.payload.level > 0.05,
      10_000,
    );
    expect(level.payload.level).toBeLessThanOrEqual(1);
    sim.personSilence(DEMO_USERS.alice);

    const left = await api("DELETE", `/api/rooms/${room.channelId}/bot`);
    expect(left.status).toBe(200);
    const deadline = Date.now() + 5000;
    while (sim.voiceStates(DEMO_GUILD_ID).some((v) => v.user_id === BOT_USER_ID && v.channel_id) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(sim.voiceStates(DEMO_GUILD_ID).some((v) => v.user_id === BOT_USER_ID && v.channel_id)).toBe(false);
  }, 60_000);
});
