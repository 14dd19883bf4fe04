/**
 * `npm run watch -- [userId|username]`: connects to the running Worker's /api/ws as a player would,
 * prints the presence snapshot and every event, acknowledges them, and resumes after a drop.
 */
import { CloseCodes, FATAL_CLOSE_CODES, PING, backoffDelay, type AuthOk } from "@spell-coven/common";
import { readLocalRun } from "./lib/local-run.ts";
import { execFileSync } from "node:child_process";

const who = process.argv[2] ?? "alice";
const run = readLocalRun();
let resume: { seq: number; epoch: string } | undefined;
let attempts = 0;

function token(): string {
  return execFileSync("tsx", ["scripts/dev-token.ts", who], { encoding: "utf8" }).trim();
}

function connect() {
  const ws = new WebSocket(`${run.workerUrl.replace(/^http/, "ws")}/api/ws`);
  let ping: NodeJS.Timeout | undefined;
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "auth", token: token(), ...(resume ? { resume } : {}) }));
    ping = setInterval(() => ws.send(PING), 25_000);
  });
  ws.addEventListener("message", (e) => {
    if (e.data === "pong") return;
    const msg = JSON.parse(String(e.data));
    if (msg.event === "auth.ok") {
      const ok = msg as AuthOk;
      attempts = 0;
      resume = { seq: ok.seq, epoch: ok.epoch };
      console.log(`connected as ${ok.userId} to guild ${ok.guildId} (seq ${ok.seq}, ${ok.resumed ? "resumed" : "fresh snapshot"})`);
      console.log("presence:", JSON.stringify(ok.presence));
      return;
    }
    if (msg.type === "event") {
      resume = { seq: msg.seq, epoch: resume?.epoch ?? "" };
      console.log(`#${msg.seq} ${msg.event} ${JSON.stringify(msg.payload)}`);
      ws.send(JSON.stringify({ type: "ack", seq: msg.seq }));
      return;
    }
    console.log("server:", JSON.stringify(msg));
  });
  ws.addEventListener("close", (e) => {
    clearInterval(ping);
    console.log(`closed: ${e.code} ${e.reason}`);
    if (FATAL_CLOSE_CODES.has(e.code) || attempts >= 5) {
      console.log(e.code === CloseCodes.AuthFailed ? "authentication failed; not retrying." : "giving up after 5 attempts.");
      process.exit(1);
    }
    const delay = backoffDelay(attempts++);
    console.log(`reconnecting in ${delay} ms (attempt ${attempts}/5)`);
    setTimeout(connect, delay);
  });
}
connect();
