/**
 * `npm run watch -- [userId|username]`: connects to the running Worker as a player would, through
 * the client library (auth, acks, resume, reconnects), and prints presence and every event.
 */
import { execFileSync } from "node:child_process";
import { SpellCovenClient } from "@spell-coven/client";
import { readLocalRun } from "./lib/local-run.ts";

const who = process.argv[2] ?? "alice";
const run = readLocalRun();
const token = async () => execFileSync("tsx", ["scripts/dev-token.ts", who], { encoding: "utf8" }).trim();

const client = new SpellCovenClient({ url: run.workerUrl, getToken: token, trackRooms: false });
client.on("auth", (ok) => {
  console.log(`connected as ${ok.userId} to guild ${ok.guildId} (seq ${ok.seq}, ${ok.resumed ? "resumed" : "fresh snapshot"})`);
  console.log("presence:", JSON.stringify(ok.presence));
});
client.on("event", (e) => console.log(`#${e.seq} ${e.event} ${JSON.stringify(e.payload)}`));
client.on("error", (e) => console.log(`client: ${e.message}`));
client.on("state", (s) => {
  if (s.state === "reconnecting")
    console.log(`connection lost (${s.lastClose?.code ?? "?"} ${s.lastClose?.reason ?? ""}); reconnecting, attempt ${s.attempt + 1}/${s.maxAttempts}`);
  if (s.state === "disconnected") {
    console.log(`disconnected: ${s.error?.message ?? "stopped"}`);
    process.exit(1);
  }
});
client.connect();
