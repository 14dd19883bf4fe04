/**
 * The HTTP control API: `POST /control/<method>` with the method's named arguments as a JSON
 * object (flattened where the in-process method takes an options object), plus read-only views.
 * A development tool on loopback, so CORS is open (`*`) for the lobby page of the local run.
 *
 *   GET  /control/state      everything the control page shows (guilds, channels, voice, gateway)
 *   GET  /control/requests   the REST requests received, oldest first
 *   GET  /control/messages?channelId=  a channel's stored messages, oldest first
 *   GET  /control/users      simulated users (not the bot), for a "log in as" picker
 *   GET  /control/people     simulated people in voice: status and what each hears
 *   POST /control/token      {userId, expiresInSeconds?, audience?, issuer?} -> {token}
 *   POST /control/<method>   see ACTIONS below -> {ok: true, result?}
 *
 * Errors: {error: {code, message}} with 400 (bad input), 404 (unknown action/entity).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { SimulatedApiError } from "../errors.ts";
import type { LocalDiscord } from "../simulator.ts";

const snowflake = z.string().regex(/^\d{1,20}$/, "must be a snowflake (a string of digits)");
const shard = { shardId: z.number().int().min(0).optional() };

const mintArgs = z.strictObject({
  userId: snowflake,
  expiresInSeconds: z.number().int().positive().optional(),
  audience: z.string().min(1).optional(),
  issuer: z.string().min(1).optional(),
});

interface Action<S extends z.ZodType> {
  schema: S;
  run: (sim: LocalDiscord, args: z.infer<S>) => unknown;
}

function action<S extends z.ZodType>(schema: S, run: (sim: LocalDiscord, args: z.infer<S>) => unknown): Action<S> {
  return { schema, run };
}

const ACTIONS: Record<string, Action<z.ZodType>> = {
  addGuild: action(z.strictObject({ id: snowflake.optional(), name: z.string().min(1).max(100) }), (sim, a) => sim.addGuild(a)),
  addUser: action(z.strictObject({ id: snowflake.optional(), username: z.string().min(1).max(32) }), (sim, a) => sim.addUser(a)),
  addChannel: action(
    z.strictObject({
      guildId: snowflake,
      id: snowflake.optional(),
      name: z.string().min(1).max(100),
      type: z.union([z.literal(0), z.literal(2), z.literal(4)]),
      parentId: snowflake.optional(),
      userLimit: z.number().int().min(0).max(99).optional(),
    }),
    (sim, { guildId, ...channel }) => sim.addChannel(guildId, channel),
  ),
  deleteChannel: action(z.strictObject({ channelId: snowflake }), (sim, a) => sim.deleteChannel(a.channelId)),
  joinVoice: action(z.strictObject({ guildId: snowflake, userId: snowflake, channelId: snowflake }), (sim, a) =>
    sim.joinVoice(a.guildId, a.userId, a.channelId),
  ),
  denyBotPermissions: action(
    z.strictObject({ guildId: snowflake, permissions: z.string().regex(/^\d+$/, "must be a permission bitfield as a decimal string") }),
    (sim, a) => sim.denyBotPermissions(a.guildId, BigInt(a.permissions)),
  ),
  leaveVoice: action(z.strictObject({ guildId: snowflake, userId: snowflake }), (sim, a) => sim.leaveVoice(a.guildId, a.userId)),
  setVoiceFlags: action(
    z.strictObject({ guildId: snowflake, userId: snowflake, selfMute: z.boolean().optional(), selfDeaf: z.boolean().optional() }),
    (sim, { guildId, userId, ...flags }) => sim.setVoiceFlags(guildId, userId, flags),
  ),
  setServerVoiceFlags: action(
    z.strictObject({ guildId: snowflake, userId: snowflake, mute: z.boolean().optional(), deaf: z.boolean().optional() }),
    (sim, { guildId, userId, ...flags }) => sim.setServerVoiceFlags(guildId, userId, flags),
  ),
  postMessage: action(
    z.strictObject({ channelId: snowflake, userId: snowflake, content: z.string().min(1).max(4000), nonce: z.string().min(1).max(25).optional() }),
    (sim, a) => sim.postMessage(a.channelId, a.userId, a.content, a.nonce === undefined ? {} : { nonce: a.nonce }),
  ),
  editMessage: action(z.strictObject({ channelId: snowflake, messageId: snowflake, content: z.string().min(1).max(4000) }), (sim, a) =>
    sim.editMessage(a.channelId, a.messageId, a.content),
  ),
  deleteMessage: action(z.strictObject({ channelId: snowflake, messageId: snowflake }), (sim, a) => sim.deleteMessage(a.channelId, a.messageId)),
  bulkDeleteMessages: action(z.strictObject({ channelId: snowflake, messageIds: z.array(snowflake).min(2).max(100) }), (sim, a) =>
    sim.bulkDeleteMessages(a.channelId, a.messageIds),
  ),
  addReaction: action(z.strictObject({ channelId: snowflake, messageId: snowflake, userId: snowflake, emoji: z.string().min(1).max(64) }), (sim, a) =>
    sim.addReaction(a.channelId, a.messageId, a.userId, a.emoji),
  ),
  removeReaction: action(z.strictObject({ channelId: snowflake, messageId: snowflake, userId: snowflake, emoji: z.string().min(1).max(64) }), (sim, a) =>
    sim.removeReaction(a.channelId, a.messageId, a.userId, a.emoji),
  ),
  startTyping: action(z.strictObject({ channelId: snowflake, userId: snowflake }), (sim, a) => sim.startTyping(a.channelId, a.userId)),
  dropConnections: action(z.strictObject(shard), (sim, a) => sim.dropConnections(a.shardId)),
  setZombie: action(z.strictObject({ on: z.boolean(), ...shard }), (sim, a) => sim.setZombie(a.on, a.shardId)),
  requestHeartbeat: action(z.strictObject(shard), (sim, a) => sim.requestHeartbeat(a.shardId)),
  sendReconnect: action(z.strictObject(shard), (sim, a) => sim.sendReconnect(a.shardId)),
  sendInvalidSession: action(z.strictObject({ resumable: z.boolean(), ...shard }), (sim, a) => sim.sendInvalidSession(a.resumable, a.shardId)),
  closeWith: action(z.strictObject({ code: z.number().int(), reason: z.string().max(120).optional(), ...shard }), (sim, a) =>
    sim.closeWith(a.code, a.reason, a.shardId),
  ),
  setGatewayFaults: action(
    z.strictObject({
      requireUserAgent: z.boolean().optional(),
      invalidateResumes: z.boolean().optional(),
      reuseSessionIds: z.boolean().optional(),
      restartSeqOnResume: z.boolean().optional(),
    }),
    (sim, a) => sim.setGatewayFaults(a),
  ),
  restartGateway: action(z.strictObject({}), (sim) => sim.restartGateway()),
  goDown: action(z.strictObject({}), (sim) => sim.goDown()),
  comeBack: action(z.strictObject({}), (sim) => sim.comeBack()),
  setRateLimits: action(
    z.strictObject({
      globalPerSecond: z.number().int().positive().optional(),
      routeLimit: z.number().int().positive().optional(),
      routeWindowMs: z.number().int().positive().optional(),
      reactionLimit: z.number().int().positive().optional(),
      reactionWindowMs: z.number().int().positive().optional(),
      reactionIntervalMs: z.number().int().nonnegative().optional(),
    }),
    (sim, a) => sim.setRateLimits(a),
  ),
  failNext: action(
    z.strictObject({
      count: z.number().int().positive(),
      status: z.number().int().min(400).max(599),
      match: z.string().refine(isRegExp, "must be a valid regular expression").optional(),
      retryAfterSeconds: z.number().positive().optional(),
    }),
    (sim, a) => sim.failNext(a.count, a.status, a.match === undefined ? undefined : new RegExp(a.match), a.retryAfterSeconds),
  ),
  failAfterApplying: action(
    z.strictObject({
      count: z.number().int().positive(),
      status: z.union([z.literal(0), z.number().int().min(500).max(599)]),
      match: z.string().refine(isRegExp, "must be a valid regular expression").optional(),
    }),
    (sim, a) => sim.failAfterApplying(a.count, a.status, a.match === undefined ? undefined : new RegExp(a.match)),
  ),
  clearRequests: action(z.strictObject({}), (sim) => sim.clearRequests()),
  personJoin: action(z.strictObject({ guildId: snowflake, userId: snowflake, channelId: snowflake, selfDeaf: z.boolean().optional() }), (sim, a) =>
    sim.personJoin(a.guildId, a.userId, a.channelId, { selfDeaf: a.selfDeaf }),
  ),
  personSpeak: action(
    z.strictObject({ userId: snowflake, frequencyHz: z.number().min(20).max(20_000), durationMs: z.number().int().positive().max(3_600_000).optional() }),
    (sim, a) => sim.personSpeak(a.userId, a.frequencyHz, a.durationMs),
  ),
  personSpeakWav: action(
    // The clip travels in the body (base64), so the control API never reads files from disk.
    z.strictObject({
      userId: snowflake,
      wavBase64: z
        .string()
        .min(1)
        .max(16_000_000)
        .regex(/^[A-Za-z0-9+/]+=*$/, "must be base64"),
    }),
    (sim, a) => sim.personSpeakWav(a.userId, Buffer.from(a.wavBase64, "base64")),
  ),
  personSilence: action(z.strictObject({ userId: snowflake }), (sim, a) => sim.personSilence(a.userId)),
  personStatus: action(z.strictObject({ userId: snowflake }), (sim, a) => sim.personStatus(a.userId)),
  personResetHeard: action(z.strictObject({ userId: snowflake }), (sim, a) => sim.personResetHeard(a.userId)),
  personLeave: action(z.strictObject({ userId: snowflake }), (sim, a) => sim.personLeave(a.userId)),
  dropVoice: action(z.strictObject({ userId: snowflake.optional() }), (sim, a) => ({ sockets: sim.dropVoice(a.userId) })),
  closeVoiceWith: action(z.strictObject({ code: z.number().int(), userId: snowflake.optional() }), (sim, a) => ({
    sockets: sim.closeVoiceWith(a.code, a.userId),
  })),
  setVoicePacketFaults: action(z.strictObject({ lossRate: z.number().min(0).max(1).optional(), jitterMs: z.number().min(0).max(1000).optional() }), (sim, a) =>
    sim.setVoicePacketFaults(a),
  ),
  delayDaveTransitions: action(z.strictObject({ ms: z.number().int().min(0).max(60_000) }), (sim, a) => sim.delayDaveTransitions(a.ms)),
  corruptDaveWelcomes: action(z.strictObject({ count: z.number().int().min(0).max(100) }), (sim, a) => sim.corruptDaveWelcomes(a.count)),
  setDaveZeroTransitionIds: action(z.strictObject({ on: z.boolean() }), (sim, a) => sim.setDaveZeroTransitionIds(a.on)),
  injectUnencryptedFrames: action(z.strictObject({ userId: snowflake, count: z.number().int().positive().max(3000) }), async (sim, a) => ({
    sent: await sim.injectUnencryptedFrames(a.userId, a.count),
  })),
  moveVoiceEndpoint: action(z.strictObject({}), async (sim) => ({ endpoint: await sim.moveVoiceEndpoint() })),
  mintToken: action(mintArgs, (sim, { userId, ...opts }) => sim.mintToken(userId, opts)),
};

export const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
};

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function handleControl(sim: LocalDiscord, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  try {
    const result = await dispatch(sim, req, url);
    reply(res, 200, result);
  } catch (error) {
    const { status, code, message } = toControlError(error);
    reply(res, status, { error: { code, message } });
  }
}

async function dispatch(sim: LocalDiscord, req: IncomingMessage, url: URL): Promise<unknown> {
  const name = url.pathname.slice("/control/".length);
  if (req.method === "GET") {
    if (name === "state") return sim.state();
    if (name === "requests") return sim.requests();
    if (name === "messages") return sim.messages(url.searchParams.get("channelId") ?? "");
    if (name === "users") return sim.users().filter((u) => !u.bot);
    if (name === "people") return sim.people();
    throw new ControlError(404, "unknown_view", `GET /control/${name} does not exist; try state, requests, users or people`);
  }
  if (req.method !== "POST") throw new ControlError(405, "method_not_allowed", "Use GET for views and POST for actions");
  const body = await readJson(req);
  if (name === "token") {
    const { userId, ...opts } = parse(mintArgs, body);
    return { token: await sim.mintToken(userId, opts) };
  }
  const act = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (!act) throw new ControlError(404, "unknown_action", `No control action "${name}"; known: ${Object.keys(ACTIONS).join(", ")}`);
  const result = await act.run(sim, parse(act.schema, body));
  return result === undefined ? { ok: true } : { ok: true, result };
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  throw new ControlError(400, "invalid_body", message);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ControlError(400, "invalid_json", "The body is not valid JSON");
  }
}

function toControlError(error: unknown): ControlError {
  if (error instanceof ControlError) return error;
  if (error instanceof SimulatedApiError) return new ControlError(error.status, `discord_${error.code}`, error.message);
  if (error instanceof RangeError) return new ControlError(400, "invalid_argument", error.message);
  return new ControlError(500, "internal", error instanceof Error ? error.message : String(error));
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...CORS_HEADERS, "Content-Type": "application/json" }).end(JSON.stringify(body));
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
