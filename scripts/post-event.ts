/**
 * `npm run post-event -- [joined|left] [userId] [channelId]`: posts one signed internal event to
 * the running Worker, exactly as gateway-node would (HMAC over "<ts>.<body>").
 */
import { signHubRequest, type InternalEvent } from "@spell-coven/common";
import { readLocalRun } from "./lib/local-run.ts";

const [kind = "joined", userId = "1060000000000000101", channelId = "1060000000000000203"] = process.argv.slice(2);
const run = readLocalRun();
const guildId = run.guildId;
const event: InternalEvent =
  kind === "left"
    ? { id: `manual:${Date.now()}`, guildId, event: "voice.left", payload: { guildId, channelId, userId } }
    : { id: `manual:${Date.now()}`, guildId, event: "voice.joined", payload: { guildId, channelId, userId } };
const body = JSON.stringify({ events: [event] });
const res = await fetch(`${run.workerUrl}/api/internal/events`, {
  method: "POST",
  headers: { "Content-Type": "application/json", ...(await signHubRequest(run.hubSecret, body)) },
  body,
});
console.log(res.status, await res.text());
