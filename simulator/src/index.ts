/**
 * @spell-coven/simulator: a local Discord (Gateway v10, a REST subset, an identity provider and a
 * control surface) on one loopback port. `startSimulator()` is the whole public entry point.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { GatewayDispatchEvents, type APIVoiceState } from "discord-api-types/v10";
import { CORS_HEADERS, handleControl } from "./control/api.ts";
import { CONTROL_PAGE_HTML } from "./control/page.ts";
import { Gateway, GATEWAY_PATH } from "./gateway/gateway.ts";
import { DEFAULT_ALLOWED_INTENTS } from "./gateway/intents.ts";
import { DEFAULT_JWT_AUDIENCE, IdentityProvider } from "./identity.ts";
import { API_PREFIX, RestApi } from "./rest/server.ts";
import { BOT_USER_ID, BOT_USERNAME, DEFAULT_BOT_TOKEN, seedWorld } from "./seed.ts";
import { LocalDiscord } from "./simulator.ts";
import type { SimulatorOptions } from "./types.ts";
import { SimulatedPeople } from "./voice/people/simulatedPeople.ts";
import { VoiceServer, type VoiceServerOptions } from "./voice/voiceServer.ts";
import { VoiceStateRequests } from "./voice/voiceStateRequests.ts";
import { World } from "./world.ts";

export type * from "./types.ts";
export type { SimulatorState } from "./simulator.ts";
export type { GatewayStats } from "./gateway/gateway.ts";
export { LocalDiscord } from "./simulator.ts";
export { newSigningKey } from "./identity.ts";
export { BOT_USER_ID, BOT_USERNAME, DEFAULT_BOT_TOKEN, DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_GUILD_NAME, DEMO_USERS } from "./seed.ts";
export { DEFAULT_RATE_LIMITS } from "./rest/ratelimit.ts";
export { DEFAULT_ALLOWED_INTENTS } from "./gateway/intents.ts";
export { shardOf, snowflake } from "./snowflake.ts";
export { VoiceServer, type VoiceServerOptions, type VoiceServerStats, type VoiceServerUpdate } from "./voice/voiceServer.ts";

/** Options beyond the shared SimulatorOptions contract. */
export interface LocalSimulatorOptions extends SimulatorOptions {
  /** Dispatches kept per session for RESUME replay. Default 1000. */
  replayBufferSize?: number;
  /** Identify throttle per max_concurrency bucket (Discord: 5 s); a faster identify gets op 9. 0 disables. Default 5000. */
  identifyWindowMs?: number;
  /**
   * The voice server (voice gateway v8 over WSS, UDP relay, DAVE). Default on with DAVE required;
   * `false` turns it off (op 4 then gets VOICE_STATE_UPDATE only).
   */
  voice?: VoiceServerOptions | false;
}

export async function startSimulator(opts: LocalSimulatorOptions = {}): Promise<LocalDiscord> {
  const host = opts.host ?? "127.0.0.1";
  const botToken = opts.botToken ?? DEFAULT_BOT_TOKEN;
  let wsBase = ""; // known once listening; read lazily by the gateway and REST

  const world = new World({ id: BOT_USER_ID, username: BOT_USERNAME });
  const voice = opts.voice === false ? null : await VoiceServer.start(opts.voice ?? {});
  // Simulated people run @discordjs/voice in this process; it must trust the voice certificate.
  voice?.certificate.trustInThisProcess();
  const voiceStateRequests = new VoiceStateRequests(world, voice);
  const gateway = new Gateway(world, {
    botToken,
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250,
    resumeWindowMs: opts.resumeWindowMs ?? 120_000,
    allowedIntents: opts.allowedIntents ?? DEFAULT_ALLOWED_INTENTS,
    replayBufferSize: opts.replayBufferSize ?? 1000,
    maxConcurrency: opts.maxConcurrency ?? 1,
    identifyWindowMs: opts.identifyWindowMs ?? 5000,
    sessionStartLimit: opts.sessionStartLimit ?? 1000,
    wsBase: () => wsBase,
    voiceStateRequests,
  });
  if (voice) {
    const toGateway = world.onDispatch;
    world.onDispatch = (guildId, event, data) => {
      toGateway(guildId, event, data);
      if (event === GatewayDispatchEvents.VoiceStateUpdate) voice.onVoiceState(data as APIVoiceState);
    };
    voice.selfDeafFor = (guildId, userId) => world.voiceState(guildId, userId)?.self_deaf ?? false;
  }
  if (opts.seed !== false) seedWorld(world);
  const rest = new RestApi(
    {
      world,
      gatewayUrl: () => `${wsBase}${GATEWAY_PATH}`,
      recommendedShards: opts.recommendedShards ?? 1,
      maxConcurrency: opts.maxConcurrency ?? 1,
      sessionStartLimit: opts.sessionStartLimit ?? 1000,
      sessionStartRemaining: () => gateway.sessionStartRemaining,
    },
    botToken,
    opts.rateLimits,
  );

  let onHttp: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> = async () => {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    onHttp(req, res, url).catch(() => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: "500: Internal Server Error", code: 0 }));
    });
  });
  server.on("upgrade", (req, socket, head) => {
    if (!gateway.handleUpgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  const httpBase = `http://${hostInUrl}:${port}`;
  wsBase = `ws://${hostInUrl}:${port}`;

  const identity = await IdentityProvider.create(opts.jwt?.issuer ?? httpBase, opts.jwt?.audience ?? DEFAULT_JWT_AUDIENCE, opts.jwt?.signingKey);
  const sim = new LocalDiscord({
    server,
    world,
    gateway,
    rest,
    identity,
    voice,
    voiceStateRequests,
    people: voice ? new SimulatedPeople(world, voice) : null,
    url: httpBase,
    gatewayUrl: `${wsBase}${GATEWAY_PATH}`,
    botToken,
  });

  onHttp = async (req, res, url) => {
    const path = url.pathname;
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) return rest.handle(req, res, url);
    if (req.method === "OPTIONS") return void res.writeHead(204, CORS_HEADERS).end();
    if (path === "/.well-known/jwks.json") return sendJson(res, 200, identity.jwks);
    if (path.startsWith("/control/")) return handleControl(sim, req, res, url);
    // `/channels/<guild>/<channel>` as on discord.com: the lobby's "Open in Discord" links land on the control page.
    if ((path === "/" || path.startsWith("/channels/")) && req.method === "GET")
      return void res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(CONTROL_PAGE_HTML);
    sendJson(res, 404, { message: "404: Not Found", code: 0 });
  };
  return sim;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...CORS_HEADERS, "Content-Type": "application/json" }).end(JSON.stringify(body));
}
