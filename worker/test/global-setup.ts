/**
 * Runs in Node before the workerd tests: a loopback identity provider (JWKS of a fresh RSA key,
 * whose private half is handed to the tests so they can mint tokens of every kind) and the
 * project's Discord simulator (as its own process, driven over its HTTP control API).
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startDevIdp } from "../../scripts/lib/dev-idp.ts";

declare module "vitest" {
  export interface ProvidedContext {
    idpUrl: string;
    privateJwk: Record<string, unknown>;
    publicJwk: Record<string, unknown>;
    discordApiBase: string;
    discordControlUrl: string;
    botToken: string;
    guildId: string;
    otherGuildId: string;
    turnApiBase: string;
    rtcNodeUrl: string;
  }
}

/**
 * A loopback stand-in for rtc-node's bot control API: checks the Worker's HMAC signature with the
 * test HUB_SECRET and keeps one bot per guild, answering BOT_BUSY / BOT_NOT_AT_TABLE as rtc-node does.
 */
async function startFakeRtcNode() {
  const { verifyHubRequest } = await import("../../common/src/hmac.ts");
  const at = new Map<string, string>();
  const calls: { path: string; channelId: string; cue?: string }[] = [];
  const server = createServer((req, res) => {
    if (req.url === "/calls") return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(calls));
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const send = (status: number, json: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(json));
      const check = await verifyHubRequest(
        "test-hub-secret-0123456789abcdef",
        req.headers["x-hub-timestamp"] as string,
        req.headers["x-hub-signature"] as string,
        body,
      );
      if (!check.ok) return send(401, { error: { code: "BOT_UNAUTHORIZED", message: check.message } });
      const { guildId, channelId, cue } = JSON.parse(body) as { guildId: string; channelId: string; cue?: string };
      calls.push({ path: req.url ?? "", channelId, ...(cue ? { cue } : {}) });
      const current = at.get(guildId);
      if (req.url === "/bot/join") {
        if (current && current !== channelId)
          return send(409, { error: { code: "BOT_BUSY", message: `the table bot is at another table (voice channel ${current})`, busyChannelIds: [current] } });
        at.set(guildId, channelId);
        return send(200, { bot: { guildId, channelId, status: "ready" } });
      }
      if (current !== channelId) return send(404, { error: { code: "BOT_NOT_AT_TABLE", message: `no table bot is at voice channel ${channelId}` } });
      if (req.url === "/bot/leave") {
        at.delete(guildId);
        return send(200, { left: true });
      }
      return send(200, { played: cue });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * A loopback stand-in for Cloudflare's TURN credentials API (generate-ice-servers), answering as
 * the docs show, including the port-53 URL the Worker must drop. `POST /fail-next` makes the next
 * call answer 500.
 */
async function startFakeTurnApi() {
  let failNext = false;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/fail-next") {
        failNext = true;
        return res.writeHead(204).end();
      }
      const m = /^\/v1\/turn\/keys\/([^/]+)\/credentials\/generate-ice-servers$/.exec(req.url ?? "");
      if (req.method !== "POST" || !m) return res.writeHead(404).end();
      if (req.headers.authorization !== "Bearer test-turn-api-token" || m[1] !== "test-turn-key") return res.writeHead(401).end();
      if (failNext) {
        failNext = false;
        return res.writeHead(500).end("{}");
      }
      const { ttl } = JSON.parse(body || "{}") as { ttl?: number };
      res.writeHead(201, { "Content-Type": "application/json" }).end(
        JSON.stringify({
          iceServers: [
            { urls: ["stun:stun.cloudflare.test:3478", "stun:stun.cloudflare.test:53"] },
            {
              urls: [
                "turn:turn.cloudflare.test:3478?transport=udp",
                "turn:turn.cloudflare.test:53?transport=udp",
                "turns:turn.cloudflare.test:443?transport=tcp",
              ],
              username: `user-ttl-${ttl}`,
              credential: "secret-credential",
            },
          ],
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function startSimulatorProcess() {
  const cli = fileURLToPath(new URL("../../simulator/src/cli.ts", import.meta.url));
  const child = spawn("tsx", [cli, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const info = JSON.parse(line) as { url: string; apiBase: string; botToken: string; guildId: string };
  return { ...info, close: () => new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGTERM"))) };
}

export default async function setup(project: TestProject) {
  // Issuer and audience must match JWT_ISSUER / JWT_AUDIENCE in worker/vitest.config.ts.
  const [idp, sim, turn] = await Promise.all([
    startDevIdp({ kid: "test-key-1", issuer: "https://idp.test", audience: "spell-coven-test" }),
    startSimulatorProcess(),
    startFakeTurnApi(),
  ]);
  const rtcNode = await startFakeRtcNode();
  const other = await fetch(`${sim.url}/control/addGuild`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Other Guild" }),
  });
  const otherGuild = ((await other.json()) as { result: { id: string } }).result;

  project.provide("idpUrl", idp.url);
  project.provide("privateJwk", idp.privateJwk);
  project.provide("publicJwk", idp.publicJwk);
  project.provide("discordApiBase", sim.apiBase);
  project.provide("discordControlUrl", `${sim.url}/control`);
  project.provide("botToken", sim.botToken);
  project.provide("guildId", sim.guildId);
  project.provide("otherGuildId", otherGuild.id);
  project.provide("turnApiBase", turn.url);
  project.provide("rtcNodeUrl", rtcNode.url);

  return async () => {
    await sim.close();
    await idp.close();
    await turn.close();
    await rtcNode.close();
  };
}
