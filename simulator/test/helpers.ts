/** Shared helpers for the simulator tests: @discordjs clients wired to a simulator, and waits. */
import { REST } from "@discordjs/rest";
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
