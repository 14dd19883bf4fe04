/**
 * The GuildHub under `wrangler dev` as a benchmark target, and WebSocket clients for it: what
 * bench:hub and bench:stream share. Everything on loopback.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { signHubRequest, type InternalEvent } from "@spell-coven/common";
import { freePort } from "../../scripts/lib/free-port.ts";
import { listeningPorts, processTree } from "./procs.ts";

export const GUILD = "1060000000000000001";
export const CHANNEL = "1060000000000000203";
export const HUB_SECRET = randomBytes(32).toString("hex");
export const ISSUER = "https://idp.bench";
export const AUDIENCE = "spell-coven-bench";

export interface Target {
  name: string;
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export type Mint = (sub: string) => Promise<string>;

export async function startHub(jwksUrl: string, direct = false): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hub-bench-"));
  const envFile = join(dir, "vars.env");
  writeFileSync(
    envFile,
    [
      `PRIMARY_GUILD_ID=${GUILD}`,
      `HUB_SECRET=${HUB_SECRET}`,
      `JWT_ISSUER=${ISSUER}`,
      `JWT_AUDIENCE=${AUDIENCE}`,
      `JWT_PUBLIC_JWK_URL=${jwksUrl}`,
      "LOG_LEVEL=ERROR",
      "DISCORD_API_BASE=http://127.0.0.1:9/api/v10",
    ].join("\n"),
  );
  const child = spawn(
    "wrangler",
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--env-file",
      envFile,
      "--persist-to",
      join(dir, "state"),
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
    ],
    {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(`${baseUrl}/health`, child);
  return {
    name: direct ? "GuildHub (wrangler dev's runtime, bypassing its proxy)" : "GuildHub (wrangler dev)",
    baseUrl: direct ? await runtimeUrl(child.pid!, port) : baseUrl,
    pid: child.pid!,
    stop: () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

export async function waitFor(url: string, child: ChildProcess) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready in 60 s`);
}

/** The address of the workerd that runs the Worker (not wrangler's proxy in front of it). */
export async function runtimeUrl(wranglerPid: number, proxyPort: number): Promise<string> {
  for (const p of processTree(wranglerPid).filter((p) => p.name === "workerd")) {
    for (const port of listeningPorts(p.pid)) {
      if (port === proxyPort) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.ok && ((await res.json()) as { status?: string }).status === "ok") return `http://127.0.0.1:${port}`;
      } catch {
        // the inspector or another internal socket
      }
    }
  }
  throw new Error("could not find the address of wrangler dev's runtime");
}

/** A short label for a server process in the CPU figures. */
export function label(p: { name: string; cmdline: string }): string {
  if (p.name !== "workerd") return p.name;
  return p.cmdline.includes("--inspector-addr") ? "workerd runtime" : "workerd proxy";
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
  });
}

export interface Client {
  ws: WebSocket;
  onEvent: (seq: number, data: any) => void;
}

/** `batch`: ask for batch frames, as the client library does. */
export async function connectClients(target: Target, count: number, mint: Mint, batchFrames = true, firstUser = 0): Promise<Client[]> {
  const url = `${target.baseUrl.replace("http", "ws")}/api/ws`;
  const clients: Client[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const token = await mint(`2${String(firstUser + i + j).padStart(17, "0")}`);
        return new Promise<Client>((resolve, reject) => {
          const ws = new WebSocket(url, { perMessageDeflate: false });
          const client: Client = { ws, onEvent: () => {} };
          const timer = setTimeout(() => reject(new Error("auth timeout")), 20_000);
          let lastAck = 0;
          // Like the client library: ack every 50-99 events, at a random point per client.
          let ackAfter = 50 + Math.floor(Math.random() * 50);
          ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token, batch: batchFrames })));
          ws.on("message", (raw) => {
            const msg = JSON.parse(String(raw));
            if (msg.event === "auth.ok") {
              clearTimeout(timer);
              resolve(client);
            } else if (msg.type === "event" || msg.type === "batch") {
              for (const e of msg.type === "batch" ? msg.events : [msg]) client.onEvent(e.seq, e);
              const last = msg.type === "batch" ? msg.events[msg.events.length - 1].seq : msg.seq;
              if (last - lastAck >= ackAfter) {
                lastAck = last;
                ackAfter = 50 + Math.floor(Math.random() * 50);
                ws.send(JSON.stringify({ type: "ack", seq: last }));
              }
            }
          });
          ws.on("error", reject);
        });
      }),
    );
    clients.push(...batch);
  }
  return clients;
}

export async function closeClients(clients: Client[]) {
  await Promise.all(
    clients.map((c) => new Promise<void>((r) => (c.ws.readyState === WebSocket.CLOSED ? r() : (c.ws.once("close", () => r()), c.ws.close(1000))))),
  );
}

let eventCounter = 0;
/** Events start again on a join (the hub only broadcasts real changes): call before each target. */
export const resetEvents = () => void (eventCounter = 0);
export function makeEvents(n: number): InternalEvent[] {
  return Array.from({ length: n }, () => {
    const i = ++eventCounter;
    const userId = `3${String(i % 1000).padStart(17, "0")}`;
    // Alternate join/leave of the same user so every event changes state and is broadcast.
    return i % 2 === 1
      ? { id: `bench:${i}`, guildId: GUILD, event: "voice.joined", payload: { guildId: GUILD, channelId: CHANNEL, userId } }
      : {
          id: `bench:${i}`,
          guildId: GUILD,
          event: "voice.left",
          payload: { guildId: GUILD, channelId: CHANNEL, userId: `3${String((i - 1) % 1000).padStart(17, "0")}` },
        };
  });
}

export async function post(target: Target, events: InternalEvent[]) {
  const body = JSON.stringify({ events });
  const res = await fetch(`${target.baseUrl}/api/internal/events`, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json", ...(await signHubRequest(HUB_SECRET, body)) },
  });
  if (!res.ok) throw new Error(`post failed: ${res.status} ${await res.text()}`);
}
