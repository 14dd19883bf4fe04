/** Shared helpers for the simulator tests: @discordjs clients wired to a simulator, and waits. */
import { constants as zlibConstants, createInflate } from "node:zlib";
import { REST } from "@discordjs/rest";
import { WebSocket } from "ws";
import { CompressionMethod, WebSocketManager, WebSocketShardEvents, type SessionInfo } from "@discordjs/ws";
import type { GatewayDispatchPayload } from "discord-api-types/v10";
import type { LocalDiscord } from "../src/index.ts";

export interface DjsGateway {
  manager: WebSocketManager;
  dispatches: GatewayDispatchPayload[];
  errors: Error[];
  closeCodes: number[];
}

/**
 * An unmodified @discordjs/ws WebSocketManager pointed at the simulator. Each manager gets its
 * own session store (the default one is shared by every manager in the process).
 */
export function djsGateway(
  sim: LocalDiscord,
  intents: number,
  options: { identifyToken?: string; compression?: boolean; identifyThrottle?: boolean } = {},
): DjsGateway {
  const token = options.identifyToken ?? sim.botToken;
  const sessions = new Map<number, SessionInfo>();
  const manager = new WebSocketManager({
    token,
    intents,
    // GET /gateway/bot always uses the real token, so a bad identify token reaches the gateway.
    rest: new REST({ api: sim.apiRoot }).setToken(sim.botToken),
    compression: options.compression === false ? null : CompressionMethod.ZlibNative,
    // djs waits 5 s between identifies of a bucket (max_concurrency); tests that re-identify skip
    // that wait through djs' documented IIdentifyThrottler hook (the simulator's own window is off there).
    ...(options.identifyThrottle === false && { buildIdentifyThrottler: () => ({ waitForIdentify: async () => {} }) }),
    retrieveSessionInfo: (shardId) => sessions.get(shardId) ?? null,
    updateSessionInfo: (shardId, info) => {
      if (info) sessions.set(shardId, info);
      else sessions.delete(shardId);
    },
  });
  const gw: DjsGateway = { manager, dispatches: [], errors: [], closeCodes: [] };
  manager.on(WebSocketShardEvents.Dispatch, (payload) => gw.dispatches.push(payload));
  manager.on(WebSocketShardEvents.Error, (error) => gw.errors.push(error));
  manager.on(WebSocketShardEvents.Closed, (code) => gw.closeCodes.push(code));
  return gw;
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RawGateway {
  ws: WebSocket;
  /** Every payload received, decoded. */
  received: { op: number; t: string | null; s: number | null; d: unknown }[];
  /** Raw frames as received (binary frames when compressed). */
  frames: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
  send(payload: unknown): void;
  /** Waits for the first received payload matching `match` after index `from`. */
  next(match: (p: RawGateway["received"][number]) => boolean, timeoutMs?: number): Promise<RawGateway["received"][number]>;
}

/** A bare protocol client (the `ws` package) for asserting exact gateway behaviour. */
export async function rawGateway(url: string, query = "v=10&encoding=json", headers?: Record<string, string>): Promise<RawGateway> {
  const ws = new WebSocket(`${url}?${query}`, headers ? { headers } : {});
  // Decoded the way @discordjs/ws does: one inflate context, Z_SYNC_FLUSH, read after each write.
  const inflate = query.includes("compress=zlib-stream") ? createInflate({ flush: zlibConstants.Z_SYNC_FLUSH }) : null;
  const received: RawGateway["received"] = [];
  const frames: Buffer[] = [];
  let pending: Buffer[] = [];
  let decoding = Promise.resolve();
  inflate?.on("data", (chunk: Buffer) => pending.push(chunk));
  ws.on("message", (data: Buffer, isBinary) => {
    frames.push(data);
    if (!isBinary) return void received.push(JSON.parse(data.toString("utf8")));
    decoding = decoding.then(
      () =>
        new Promise<void>((resolve) =>
          inflate!.write(data, () => {
            received.push(JSON.parse(Buffer.concat(pending).toString("utf8")));
            pending = [];
            resolve();
          }),
        ),
    );
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    received,
    frames,
    closed,
    send: (payload) => ws.send(typeof payload === "string" ? payload : JSON.stringify(payload)),
    next: (match, timeoutMs = 3000) => waitFor(() => received.find(match), timeoutMs, "gateway payload"),
  };
}

export function identifyPayload(token: string, intents: number, shard: [number, number] = [0, 1]) {
  return { op: 2, d: { token, intents, shard, properties: { os: "linux", browser: "test", device: "test" } } };
}

/** fetch against the simulator's REST API with the bot token (unless `auth` is given). */
export async function api(
  sim: LocalDiscord,
  method: string,
  path: string,
  options: { body?: unknown; auth?: string | null; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? `Bot ${sim.botToken}` : options.auth;
  if (auth !== null) headers.Authorization = auth;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${sim.apiBase}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : null };
}
