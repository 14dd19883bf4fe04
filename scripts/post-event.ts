/**
 * `npm run post-event -- snapshot | joined|left [userId] [channelId]`: posts one signed internal
 * event to the running Worker, exactly as gateway-node would (HMAC over "<ts>.<body>"). Exits
 * non-zero when the Worker refuses it.
 *
 * `snapshot` posts the simulator's voice states as a `presence.snapshot`: the hub broadcasts only
 * the joins and leaves that bring clients to it, so it never leaves the lobby disagreeing with the
 * simulator (drift repair, as gateway-node does after an outage). `joined` / `left` post a voice
 * event Discord did not see: the Worker then disagrees with the simulator until the next snapshot.
 */
import { signHubRequest, type InternalEvent } from "@spell-coven/common";
import { readLocalRun } from "./lib/local-run.ts";

const [kind = "snapshot", userId = "1060000000000000101", channelId = "1060000000000000203"] = process.argv.slice(2);
const run = readLocalRun();
const guildId = run.guildId;
const id = `manual:${Date.now()}`;

async function simulatorVoiceStates(): Promise<{ userId: string; channelId: string }[]> {
  if (!run.controlUrl) throw new Error("`snapshot` reads the simulator's voice states; this run talks to Discord.");
  const state = (await (await fetch(`${run.controlUrl}/control/state`)).json()) as {
    guilds: { id: string; voiceStates: { user_id: string; channel_id: string | null }[] }[];
  };
  const guild = state.guilds.find((g) => g.id === guildId);
  return (guild?.voiceStates ?? []).filter((v) => v.channel_id).map((v) => ({ userId: v.user_id, channelId: v.channel_id! }));
}

let event: InternalEvent;
if (kind === "snapshot") event = { id, guildId, event: "presence.snapshot", payload: { guildId, voiceStates: await simulatorVoiceStates() } };
else if (kind === "joined") event = { id, guildId, event: "voice.joined", payload: { guildId, channelId, userId } };
else if (kind === "left") event = { id, guildId, event: "voice.left", payload: { guildId, channelId, userId } };
else {
  console.error(`Unknown kind "${kind}": use snapshot, joined or left.`);
  process.exit(2);
}

const body = JSON.stringify({ events: [event] });
const res = await fetch(`${run.workerUrl}/api/internal/events`, {
  method: "POST",
  headers: { "Content-Type": "application/json", ...(await signHubRequest(run.hubSecret, body)) },
  body,
});
const text = await res.text();
if (!res.ok) {
  console.error(`The Worker refused the event: ${res.status} ${text}`);
  process.exit(1);
}
console.log(res.status, text);
if (kind !== "snapshot" && run.controlUrl)
  console.log("Note: the simulator did not see this change; `npm run post-event -- snapshot` brings the Worker back to it.");
