/**
 * Helpers for the client library's tests against the real system: the local run (simulator +
 * wrangler dev + gateway-node on loopback, free ports), and a transparent WebSocket relay in
 * front of the Worker that a test can use to cut, refuse, thin or salt the real connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket as WsClient, WebSocketServer, type RawData } from "ws";
import { DEMO_GUILD_ID } from "@spell-coven/simulator";
import { startLocalSystem, type LocalSystem, type LocalSystemOptions } from "../../scripts/lib/local-system.ts";
import { freePort } from "../../scripts/lib/free-port.ts";

/** Starts the local system on free ports; `workerVars` are Worker settings over the defaults (short room idle times, say). */
export async function startSystem(opts: { workerVars?: Record<string, string> } = {}): Promise<LocalSystem & { cleanup(): Promise<void> }> {
  const stateDir = mkdtempSync(join(tmpdir(), "client-test-"));
  const options = {
    workerPort: await freePort(),
    gatewayHealthPort: 0,
    simulatorPort: 0,
    stateDir,
    quiet: true,
    logLevel: "WARN",
    lobbyBuild: "development",
    ...opts,
  } as LocalSystemOptions;
  const system = await startLocalSystem(options);
  try {
    await system.startWorker();
    await system.startGateway();
  } catch (err) {
    await system.stop();
    throw err;
  }
  return Object.assign(system, {
    async cleanup() {
      await system.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  });
}

/** The simulator's voice states as a presence map (channelId -> sorted userIds). */
export function truth(system: LocalSystem, guildId = DEMO_GUILD_ID): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of system.simulator!.voiceStates(guildId)) if (v.channel_id) (out[v.channel_id] ??= []).push(v.user_id);
  for (const k of Object.keys(out)) out[k]!.sort();
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export const plain = (p: Readonly<Record<string, readonly string[]>>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, [...v]]));

export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A relay between test clients and the Worker: HTTP is forwarded as is; each WebSocket is paired
 * with a real upstream socket to the Worker. The test can drop every connection, refuse new ones,
 * swallow the next event the server sends, or inject raw text as if the server had sent it.
 */
export class Relay {
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #pairs = new Set<{ client: WsClient; upstream: WsClient }>();
  refusing = false;
  /** While true, nothing the server sends reaches the clients (a server that stopped answering, socket open). */
  muted = false;
  /** Upgrade requests seen (accepted or refused). */
  upgrades = 0;
  #swallow = 0;
  url = "";

  private constructor(target: string) {
    this.#server = createServer((req, res) => {
      const t = new URL(target);
      const up = httpRequest({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: { ...req.headers, host: t.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on("error", () => res.writeHead(502).end());
      req.pipe(up);
    });
    this.#server.on("upgrade", (req, socket: Socket, head) => {
      this.upgrades++;
      if (this.refusing) {
        socket.destroy();
        return;
      }
      const upstream = new WsClient(`${target.replace(/^http/, "ws")}${req.url}`);
      upstream.on("error", () => socket.destroy());
      upstream.on("open", () => {
        this.#wss.handleUpgrade(req, socket, head, (client) => {
          const pair = { client, upstream };
          this.#pairs.add(pair);
          client.on("message", (data: RawData, isBinary) => {
            if (upstream.readyState === WsClient.OPEN) upstream.send(data, { binary: isBinary });
          });
          upstream.on("message", (data: RawData, isBinary) => {
            const text = data.toString();
            if (this.muted) return;
            let out: string | RawData = isBinary ? data : text;
            if (!isBinary && this.#swallow > 0 && text.includes('"type":"event"')) {
              // One event, also out of a batch frame (events that arrive together share a frame).
              const frame = JSON.parse(text) as { type: string; events?: unknown[] };
              if (frame.type === "batch" && frame.events) {
                const kept = frame.events.slice(Math.min(this.#swallow, frame.events.length));
                this.#swallow -= frame.events.length - kept.length;
                if (kept.length === 0) return;
                out = JSON.stringify({ ...frame, events: kept });
              } else {
                this.#swallow--;
                return;
              }
            }
            if (client.readyState === WsClient.OPEN) client.send(out, { binary: isBinary });
          });
          const end = (code: number, reason: Buffer, other: WsClient) => {
            this.#pairs.delete(pair);
            if (other.readyState === WsClient.OPEN) other.close(code >= 4000 || code === 1000 ? code : 1000, reason);
          };
          client.on("close", (code, reason) => end(code, reason, upstream));
          upstream.on("close", (code, reason) => end(code, reason, client));
        });
      });
    });
  }

  static async start(target: string): Promise<Relay> {
    const relay = new Relay(target);
    const port = await freePort();
    await new Promise<void>((r) => relay.#server.listen(port, "127.0.0.1", r));
    relay.url = `http://127.0.0.1:${port}`;
    return relay;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  /** Cuts every connection without a closing handshake (the client sees 1006). */
  dropAll(): void {
    for (const { client, upstream } of this.#pairs) {
      client.terminate();
      upstream.close(1000);
    }
    this.#pairs.clear();
  }

  /** The next `n` events the server sends are not delivered (a gap), whether alone or in a batch frame. */
  swallowEvents(n = 1): void {
    this.#swallow += n;
  }

  /** Sends raw data to every client as if from the server. */
  inject(data: string | Buffer): void {
    for (const { client } of this.#pairs) client.send(data);
  }

  async close(): Promise<void> {
    this.dropAll();
    this.#wss.close();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
