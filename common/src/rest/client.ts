/**
 * DiscordRestClient: typed, validated Discord REST calls that respect Discord's rate limits.
 * Runs wherever `fetch`, `AbortController`, `setTimeout` and WebCrypto exist: Cloudflare Workers
 * (workerd) and Node 18+. No Node APIs.
 */
import type {
  RESTDeleteAPIChannelResult,
  RESTGetAPIChannelMessagesResult,
  RESTGetAPIGuildChannelsResult,
  RESTGetAPIGuildRolesResult,
  RESTPostAPIChannelMessageJSONBody,
  RESTPostAPIChannelMessageResult,
  RESTPostAPIGuildChannelJSONBody,
  RESTPostAPIGuildChannelResult,
  RESTPostAPIGuildRoleJSONBody,
  RESTPostAPIGuildRoleResult,
} from "discord-api-types/v10";
import { ChannelType } from "discord-api-types/v10";
import { backoffDelay, sleep } from "../backoff.ts";
import { DEFAULT_DISCORD_API_BASE, DISCORD_USER_AGENT, snowflakeTimestamp } from "../snowflake.ts";
import { createLogger, type Logger } from "../log.ts";
import { MemoryCoordinator, type RateLimitCoordinator } from "./coordinator.ts";
import { DiscordApiError, DiscordInputError, DiscordInvalidRequestLimitError, DiscordNetworkError, DiscordRateLimitError, errorText } from "./errors.ts";
import { keyString, routeKey, type RouteKey } from "./routes.ts";
import * as S from "./schemas.ts";
import type { AcquireResult, RateLimitReport, RateLimitStateOptions, ReportResult } from "./state.ts";

export const DEFAULT_API_BASE = DEFAULT_DISCORD_API_BASE;
export const DEFAULT_USER_AGENT = DISCORD_USER_AGENT;

export interface DiscordRestClientOptions {
  /** Bot token, without the "Bot " prefix. Never logged. */
  token: string;
  /** Default https://discord.com/api/v10 (DISCORD_API_BASE). */
  apiBase?: string;
  /** Retries after a 5xx, a network error or a timeout (MAX_API_RETRIES). Default 3, so at most 4 attempts. */
  maxRetries?: number;
  logger?: Logger;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Where the rate-limit state lives. Default: a MemoryCoordinator of this client. */
  coordinator?: RateLimitCoordinator;
  /** Options of the default MemoryCoordinator (ignored when `coordinator` is given). */
  rateLimits?: RateLimitStateOptions;
  userAgent?: string;
  /** Per attempt, until the whole body has arrived. Default 15,000 ms. */
  timeoutMs?: number;
  /** First retry delay (then doubled, with jitter). Default 500 ms. */
  retryBaseMs?: number;
  /** Longest retry delay. Default 8,000 ms. */
  retryMaxMs?: number;
  /** A single rate-limit wait longer than this fails the call with DiscordRateLimitError instead. Default 60,000 ms. */
  maxRateLimitWaitMs?: number;
  /** 429 answers tolerated for one call before it fails with DiscordRateLimitError. Default 5. */
  maxRateLimitRetries?: number;
}

export interface WriteOptions {
  /** X-Audit-Log-Reason: 1-512 characters, shown in the guild's audit log. */
  reason?: string;
}

export interface PermissionOverwriteInput {
  id: string;
  /** 0 = role, 1 = member */
  type: 0 | 1;
  allow?: string | bigint | null;
  deny?: string | bigint | null;
}

export interface CreateVoiceChannelOptions extends WriteOptions {
  parentId?: string;
  /** 0 (unlimited) to 99. */
  userLimit?: number;
  bitrate?: number;
  permissionOverwrites?: PermissionOverwriteInput[];
}

export interface SendMessageOptions {
  /** De-duplicates retries (enforce_nonce). Default: a random nonce per call. */
  nonce?: string;
  tts?: boolean;
  /** Message id to reply to. */
  replyTo?: string;
  /** Who may be pinged. Default: nobody (`{ parse: [] }`). */
  allowedMentions?: { parse?: ("roles" | "users" | "everyone")[]; roles?: string[]; users?: string[]; repliedUser?: boolean };
  flags?: number;
}

export interface GetMessagesOptions {
  /** 1-100; Discord's default is 50. */
  limit?: number;
  /** Messages older than this message id (mutually exclusive with `after`). */
  before?: string;
  /** Messages newer than this message id. */
  after?: string;
}

export interface CreateRoleOptions extends WriteOptions {
  name?: string;
  permissions?: string | bigint;
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
}

export interface RequestOptions {
  body?: unknown;
  /** Audit-log reason (validated like every write's). */
  reason?: string;
}

/** Counters of one client, for tests, benchmarks and health pages. */
export interface RestStats {
  requests: number;
  rateLimited: number;
  retries: number;
  waits: number;
}

class TimeoutError extends Error {
  override name = "TimeoutError";
}

export class DiscordRestClient {
  readonly apiBase: string;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly stats: RestStats = { requests: 0, rateLimited: 0, retries: 0, waits: 0 };
  private readonly authorization: string;
  private readonly userAgent: string;
  private readonly fetchImpl: typeof fetch;
  private readonly coordinator: RateLimitCoordinator;
  private readonly fallback: MemoryCoordinator;
  private readonly log: Logger;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly maxRateLimitRetries: number;
  /** One FIFO per method+route+major in this process: calls acquire slots in the order they were made. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Waiters of this process per route key, woken early when an answer on that key arrives. */
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(opts: DiscordRestClientOptions) {
    if (typeof opts?.token !== "string" || opts.token.trim() === "") {
      throw new DiscordInputError("DiscordRestClient", [{ field: "token", message: "a bot token is required" }]);
    }
    this.authorization = `Bot ${opts.token.replace(/^Bot\s+/i, "")}`;
    this.apiBase = (opts.apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, "");
    this.maxRetries = Math.max(0, Math.floor(opts.maxRetries ?? 3));
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    const f = opts.fetch ?? globalThis.fetch;
    this.fetchImpl = opts.fetch ? f : (f.bind(globalThis) as typeof fetch);
    this.coordinator = opts.coordinator ?? new MemoryCoordinator(opts.rateLimits);
    this.fallback = new MemoryCoordinator(opts.rateLimits);
    this.log = (opts.logger ?? createLogger("INFO")).child({ component: "discord-rest" });
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 8_000;
    this.maxRateLimitWaitMs = opts.maxRateLimitWaitMs ?? 60_000;
    this.maxRateLimitRetries = opts.maxRateLimitRetries ?? 5;
  }

  // ---------------------------------------------------------------- channels

  /** POST /guilds/{guild.id}/channels with type 2 (GUILD_VOICE). Needs MANAGE_CHANNELS. */
  async createVoiceChannel(guildId: string, name: string, opts: CreateVoiceChannelOptions = {}): Promise<RESTPostAPIGuildChannelResult> {
    const v = S.validate("createVoiceChannel", S.createVoiceChannelInput, { guildId, name, opts });
    const body: RESTPostAPIGuildChannelJSONBody = compact({
      name: v.name,
      type: ChannelType.GuildVoice,
      parent_id: v.opts.parentId,
      user_limit: v.opts.userLimit,
      bitrate: v.opts.bitrate,
      permission_overwrites: v.opts.permissionOverwrites?.map((o) => compact({ id: o.id, type: o.type, allow: o.allow, deny: o.deny })),
    }) as RESTPostAPIGuildChannelJSONBody;
    return this.send<RESTPostAPIGuildChannelResult>("POST", `/guilds/${v.guildId}/channels`, {
      body,
      reason: v.opts.reason,
      findApplied: async (since) =>
        newestCreatedSince(
          (await this.getChannels(v.guildId)).filter(
            (c) => c.type === ChannelType.GuildVoice && c.name === v.name && (("parent_id" in c ? c.parent_id : null) ?? null) === (v.opts.parentId ?? null),
          ),
          since,
        ) as RESTPostAPIGuildChannelResult | undefined,
    });
  }

  /** DELETE /channels/{channel.id}. Returns the deleted channel. */
  async deleteChannel(channelId: string, opts: WriteOptions = {}): Promise<RESTDeleteAPIChannelResult> {
    const v = S.validate("deleteChannel", S.deleteChannelInput, { channelId, opts });
    return this.send<RESTDeleteAPIChannelResult>("DELETE", `/channels/${v.channelId}`, { reason: v.opts.reason });
  }

  /** GET /guilds/{guild.id}/roles */
  async getRoles(guildId: string): Promise<RESTGetAPIGuildRolesResult> {
    const v = S.validate("getRoles", S.guildIdInput, { guildId });
    return this.send<RESTGetAPIGuildRolesResult>("GET", `/guilds/${v.guildId}/roles`, {});
  }

  /** GET /guilds/{guild.id}/channels */
  async getChannels(guildId: string): Promise<RESTGetAPIGuildChannelsResult> {
    const v = S.validate("getChannels", S.guildIdInput, { guildId });
    return this.send<RESTGetAPIGuildChannelsResult>("GET", `/guilds/${v.guildId}/channels`, {});
  }

  // ---------------------------------------------------------------- messages

  /** POST /channels/{channel.id}/messages. A nonce with enforce_nonce makes retries safe (no duplicates). */
  async sendMessage(channelId: string, content: string, opts: SendMessageOptions = {}): Promise<RESTPostAPIChannelMessageResult> {
    const v = S.validate("sendMessage", S.sendMessageInput, { channelId, content, opts });
    const am = v.opts.allowedMentions;
    const body: RESTPostAPIChannelMessageJSONBody = compact({
      content: v.content,
      nonce: v.opts.nonce ?? randomNonce(),
      enforce_nonce: true,
      tts: v.opts.tts,
      flags: v.opts.flags,
      message_reference: v.opts.replyTo ? { message_id: v.opts.replyTo, fail_if_not_exists: false } : undefined,
      // Nobody is pinged unless the caller names who may be: user text such as "@everyone" stays text.
      allowed_mentions: am ? compact({ parse: am.parse, roles: am.roles, users: am.users, replied_user: am.repliedUser }) : { parse: [] },
    }) as RESTPostAPIChannelMessageJSONBody;
    return this.send<RESTPostAPIChannelMessageResult>("POST", `/channels/${v.channelId}/messages`, { body });
  }

  /**
   * GET /channels/{channel.id}/messages: a page of the channel's messages, newest first (as
   * Discord answers). Needs View Channel (and Connect in a voice channel); without Read Message
   * History Discord answers an empty page.
   */
  async getMessages(channelId: string, opts: GetMessagesOptions = {}): Promise<RESTGetAPIChannelMessagesResult> {
    const v = S.validate("getMessages", S.getMessagesInput, { channelId, opts });
    const query = new URLSearchParams();
    if (v.opts.limit !== undefined) query.set("limit", String(v.opts.limit));
    if (v.opts.before !== undefined) query.set("before", v.opts.before);
    if (v.opts.after !== undefined) query.set("after", v.opts.after);
    const qs = query.toString();
    return this.send<RESTGetAPIChannelMessagesResult>("GET", `/channels/${v.channelId}/messages${qs ? `?${qs}` : ""}`, {});
  }

  /** PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me. Emoji: unicode, or `name:id`. */
  async addReaction(channelId: string, messageId: string, emoji: string): Promise<void> {
    const v = S.validate("addReaction", S.reactionInput, { channelId, messageId, emoji });
    await this.send<unknown>("PUT", `/channels/${v.channelId}/messages/${v.messageId}/reactions/${encodeURIComponent(v.emoji)}/@me`, {});
  }

  /** POST /channels/{channel.id}/typing */
  async triggerTyping(channelId: string): Promise<void> {
    const v = S.validate("triggerTyping", S.channelIdInput, { channelId });
    await this.send<unknown>("POST", `/channels/${v.channelId}/typing`, {});
  }

  // ---------------------------------------------------------------- roles

  /** POST /guilds/{guild.id}/roles. Needs MANAGE_ROLES. */
  async createRole(guildId: string, opts: CreateRoleOptions = {}): Promise<RESTPostAPIGuildRoleResult> {
    const v = S.validate("createRole", S.createRoleInput, { guildId, opts });
    const body: RESTPostAPIGuildRoleJSONBody = compact({
      name: v.opts.name,
      permissions: v.opts.permissions,
      color: v.opts.color,
      hoist: v.opts.hoist,
      mentionable: v.opts.mentionable,
    });
    return this.send<RESTPostAPIGuildRoleResult>("POST", `/guilds/${v.guildId}/roles`, {
      body,
      reason: v.opts.reason,
      // An unnamed role is called "new role" by Discord: too common to be told apart.
      findApplied:
        v.opts.name === undefined
          ? undefined
          : async (since) =>
              newestCreatedSince(
                (await this.getRoles(v.guildId)).filter((r) => r.name === v.opts.name),
                since,
              ),
    });
  }

  /** DELETE /guilds/{guild.id}/roles/{role.id} */
  async deleteRole(guildId: string, roleId: string, opts: WriteOptions = {}): Promise<void> {
    const v = S.validate("deleteRole", S.deleteRoleInput, { guildId, roleId, opts });
    await this.send<unknown>("DELETE", `/guilds/${v.guildId}/roles/${v.roleId}`, { reason: v.opts.reason });
  }

  /** PUT /guilds/{guild.id}/members/{user.id}/roles/{role.id} */
  async addMemberRole(guildId: string, userId: string, roleId: string, opts: WriteOptions = {}): Promise<void> {
    const v = S.validate("addMemberRole", S.memberRoleInput, { guildId, userId, roleId, opts });
    await this.send<unknown>("PUT", `/guilds/${v.guildId}/members/${v.userId}/roles/${v.roleId}`, { reason: v.opts.reason });
  }

  /** DELETE /guilds/{guild.id}/members/{user.id}/roles/{role.id} */
  async removeMemberRole(guildId: string, userId: string, roleId: string, opts: WriteOptions = {}): Promise<void> {
    const v = S.validate("removeMemberRole", S.memberRoleInput, { guildId, userId, roleId, opts });
    await this.send<unknown>("DELETE", `/guilds/${v.guildId}/members/${v.userId}/roles/${v.roleId}`, { reason: v.opts.reason });
  }

  /**
   * PATCH /guilds/{guild.id}/members/{user.id} with `channel_id`: moves a member who is connected
   * to voice into another voice channel (null disconnects them). Needs Move Members; Discord
   * answers 40032 when the member is not in voice.
   */
  async moveMember(guildId: string, userId: string, channelId: string | null, opts: WriteOptions = {}): Promise<void> {
    const v = S.validate("moveMember", S.moveMemberInput, { guildId, userId, channelId, opts });
    await this.send<unknown>("PATCH", `/guilds/${v.guildId}/members/${v.userId}`, { body: { channel_id: v.channelId }, reason: v.opts.reason });
  }

  /**
   * Any other route, with the same rate limiting, retries and errors (the caller validates the
   * body). `path` is relative to apiBase, e.g. "/channels/123/messages/456".
   */
  async request<T>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, opts: RequestOptions = {}): Promise<T> {
    if (!/^\/[^\s]*$/.test(path) || path.includes("..")) {
      throw new DiscordInputError("request", [{ field: "path", message: "must start with / and contain no spaces or .." }]);
    }
    const v = S.validate("request", S.writeOptions, { reason: opts.reason });
    return this.send<T>(method, path, { body: opts.body, reason: v.reason });
  }

  // ---------------------------------------------------------------- machinery

  /**
   * `findApplied` makes a create that Discord may have applied without our seeing the answer (a
   * timeout, a dropped connection, a 5xx) safe to retry: before each retry, and before giving up,
   * it looks for what the first attempt would have created (made since `since`, Unix ms) and
   * returns that instead of creating a second one.
   */
  private async send<T>(
    method: string,
    path: string,
    opts: { body?: unknown; reason?: string | undefined; findApplied?: ((since: number) => Promise<T | undefined>) | undefined },
  ): Promise<T> {
    const key = routeKey(method, path);
    const requestId = crypto.randomUUID();
    const ctx = { method: key.method, route: key.route, major: key.majorParameter, requestId };
    const headers: Record<string, string> = { Authorization: this.authorization, "User-Agent": this.userAgent };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(opts.body);
    }
    if (opts.reason !== undefined) headers["X-Audit-Log-Reason"] = encodeURIComponent(opts.reason);
    const url = this.apiBase + path;

    let attempts = 0;
    let failures = 0;
    let limited = 0;
    const firstSentAt = Date.now();
    /** After an answer we did not get: the object the write made, if it was made after all. */
    const applied = async (failure: Error): Promise<T | undefined> => {
      if (!opts.findApplied) return undefined;
      let found: T | undefined;
      try {
        found = await opts.findApplied(firstSentAt);
      } catch (err) {
        // Unknown whether it was made: repeating it could make a duplicate, so stop here.
        this.log.warn("discord write may have been applied; could not check, so not retrying", {
          ...ctx,
          attempts,
          error: failure.message,
          checkError: errorText(err),
        });
        throw failure;
      }
      if (found !== undefined) this.log.info("discord write had been applied although its answer was lost; using it", { ...ctx, attempts });
      return found;
    };
    /** After a timeout, a lost connection or a 5xx: waits out the backoff; false once the retries are used up. */
    const backoff = async (message: string, fields: Record<string, unknown>): Promise<boolean> => {
      if (failures >= this.maxRetries) return false;
      const delay = backoffDelay(failures, this.retryBaseMs, this.retryMaxMs);
      failures++;
      this.stats.retries++;
      this.log.info(message, { ...ctx, attempt: attempts, ...fields, retryInMs: delay });
      await sleep(delay);
      return true;
    };
    for (;;) {
      const coordinator = await this.waitForSlot(key, ctx, attempts);
      attempts++;
      this.stats.requests++;
      const started = Date.now();
      this.log.debug("discord request", { ...ctx, attempt: attempts });

      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new TimeoutError(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      let res: Response;
      let text: string;
      try {
        res = await this.fetchImpl(url, { method: key.method, headers, body: payload, signal: controller.signal });
        text = await res.text();
      } catch (err) {
        const timedOut = controller.signal.aborted;
        await this.report(coordinator, key, NO_ANSWER, ctx);
        const error = new DiscordNetworkError({ method: key.method, route: key.route, requestId, attempts, timedOut, timeoutMs: this.timeoutMs, cause: err });
        const retry = await backoff("discord request failed, retrying", { error: timedOut ? `timeout after ${this.timeoutMs} ms` : errorText(err) });
        const found = await applied(error);
        if (found !== undefined) return found;
        if (retry) continue;
        this.log.warn("discord request gave up", { ...ctx, attempts, error: error.message });
        throw error;
      } finally {
        clearTimeout(timer);
      }

      const body = parseBody(text, res.headers.get("content-type"));
      const info = rateLimitInfo(res, body);
      const rr = await this.report(coordinator, key, info, ctx);
      this.log.debug("discord response", {
        ...ctx,
        attempt: attempts,
        status: res.status,
        ms: Date.now() - started,
        bucket: info.bucket,
        remaining: info.remaining,
      });

      if (res.ok) return (res.status === 204 ? undefined : body) as T;

      const discordRequestId = res.headers.get("x-request-id") ?? res.headers.get("cf-ray");
      if (res.status === 429) {
        limited++;
        this.stats.rateLimited++;
        const retryAfterMs = info.retryAfterMs ?? 1000;
        const scope = info.global ? "global" : (info.scope ?? "user");
        this.log.info("discord rate limited (429)", {
          ...ctx,
          attempt: attempts,
          scope,
          retryAfterMs,
          bucket: info.bucket,
          invalidRequests: rr.invalidRequests,
        });
        if (limited > this.maxRateLimitRetries || retryAfterMs > this.maxRateLimitWaitMs) {
          throw new DiscordRateLimitError({
            method: key.method,
            route: key.route,
            requestId,
            attempts,
            retryAfterMs,
            scope,
            reason:
              limited > this.maxRateLimitRetries ? `Discord answered 429 ${limited} times` : `Discord asks to wait longer than ${this.maxRateLimitWaitMs} ms`,
          });
        }
        continue; // the coordinator now holds the wait; 429s do not use up retries
      }
      const error = new DiscordApiError({ method: key.method, route: key.route, requestId, attempts, status: res.status, body, discordRequestId });
      if (res.status >= 500) {
        const retry = await backoff("discord server error, retrying", { status: res.status });
        const found = await applied(error);
        if (found !== undefined) return found;
        if (retry) continue;
      }
      this.log[res.status >= 500 ? "warn" : "debug"]("discord request failed", {
        ...ctx,
        attempts,
        status: res.status,
        code: error.code,
        error: error.message,
      });
      throw error;
    }
  }

  /** Waits for this call's turn (in-process FIFO per route+major), then for the coordinator's slot. */
  private async waitForSlot(key: RouteKey, ctx: LogCtx, attempts: number): Promise<RateLimitCoordinator> {
    const k = keyString(key);
    const prev = this.queues.get(k);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.queues.set(k, mine);
    try {
      if (prev) await prev;
      let lastReason: string | undefined;
      for (;;) {
        const [coordinator, r] = await this.acquire(key, ctx);
        if (r.waitMs <= 0) return coordinator;
        if (r.blocked) {
          const e = new DiscordInvalidRequestLimitError(key.method, key.route, ctx.requestId, r.invalidRequests, this.invalidStopAt(coordinator), r.waitMs);
          this.log.error("discord invalid-request guard: refusing to send", { ...ctx, alert: true, invalidRequests: r.invalidRequests });
          throw e;
        }
        if (r.waitMs > this.maxRateLimitWaitMs) {
          throw new DiscordRateLimitError({
            method: key.method,
            route: key.route,
            requestId: ctx.requestId,
            attempts,
            retryAfterMs: r.waitMs,
            scope: r.reason ?? "bucket",
            reason: `the wait exceeds maxRateLimitWaitMs (${this.maxRateLimitWaitMs} ms)`,
          });
        }
        if (r.reason !== lastReason && r.reason !== "unknown-bucket") {
          this.stats.waits++;
          this.log.info("waiting for discord rate limit", { ...ctx, reason: r.reason, waitMs: r.waitMs, limit: r.limit });
        }
        lastReason = r.reason;
        await this.nap(k, r.waitMs);
      }
    } finally {
      release();
      if (this.queues.get(k) === mine) this.queues.delete(k);
    }
  }

  /** Sleeps `ms`, or less when an answer on the same key arrives first (state changed: ask again). */
  private nap(k: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.wakers.get(k);
      if (!set) this.wakers.set(k, (set = new Set()));
      const s = set;
      const done = () => {
        clearTimeout(timer);
        s.delete(done);
        if (s.size === 0 && this.wakers.get(k) === s) this.wakers.delete(k);
        resolve();
      };
      const timer = setTimeout(done, ms);
      s.add(done);
    });
  }

  private wake(key: RouteKey): void {
    const set = this.wakers.get(keyString(key));
    if (set) for (const f of [...set]) f();
  }

  private coordinatorFailing = false;

  private async acquire(key: RouteKey, ctx: LogCtx): Promise<[RateLimitCoordinator, AcquireResult]> {
    try {
      const r = await this.coordinator.acquire(key);
      this.coordinatorFailing = false;
      return [this.coordinator, r];
    } catch (err) {
      if (!this.coordinatorFailing) this.log.warn("rate-limit coordinator unavailable, using this client's own state", { ...ctx, error: errorText(err) });
      this.coordinatorFailing = true;
      return [this.fallback, await this.fallback.acquire(key)];
    }
  }

  private async report(coordinator: RateLimitCoordinator, key: RouteKey, info: RateLimitReport, ctx: LogCtx): Promise<ReportResult> {
    let rr: ReportResult;
    try {
      rr = await coordinator.report(key, info);
    } catch (err) {
      this.log.warn("rate-limit coordinator report failed", { ...ctx, error: errorText(err) });
      rr = await this.fallback.report(key, info);
    }
    this.wake(key);
    if (rr.crossed === "warn") {
      this.log.warn("discord invalid requests are piling up (401/403/429 in 10 minutes)", { ...ctx, invalidRequests: rr.invalidRequests });
    } else if (rr.crossed === "stop") {
      this.log.error("ALERT discord invalid-request guard tripped: no more requests until the 10-minute count falls", {
        ...ctx,
        alert: true,
        invalidRequests: rr.invalidRequests,
      });
    }
    return rr;
  }

  private invalidStopAt(c: RateLimitCoordinator): number {
    return c instanceof MemoryCoordinator ? c.state.invalidStopAt : 9_000;
  }
}

interface LogCtx {
  method: string;
  route: string;
  major: string;
  requestId: string;
}

const NO_ANSWER: RateLimitReport = {
  status: 0,
  bucket: null,
  limit: null,
  remaining: null,
  resetAfterMs: null,
  retryAfterMs: null,
  global: false,
  scope: null,
};

function num(v: string | null): number | null {
  if (v === null || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Reads Discord's rate-limit headers (and a 429's body). */
export function rateLimitInfo(res: Response, body: unknown): RateLimitReport {
  const h = res.headers;
  const resetAfter = num(h.get("x-ratelimit-reset-after"));
  let retryAfterMs: number | null = null;
  let global = h.get("x-ratelimit-global")?.toLowerCase() === "true";
  if (res.status === 429) {
    const b = (typeof body === "object" && body !== null ? body : {}) as { retry_after?: unknown; global?: unknown };
    const fromBody = typeof b.retry_after === "number" ? b.retry_after : null;
    const fromHeader = num(h.get("retry-after"));
    const seconds = fromBody ?? fromHeader;
    retryAfterMs = seconds === null ? null : seconds * 1000;
    if (b.global === true) global = true;
  }
  return {
    status: res.status,
    bucket: h.get("x-ratelimit-bucket"),
    limit: num(h.get("x-ratelimit-limit")),
    remaining: num(h.get("x-ratelimit-remaining")),
    resetAfterMs: resetAfter === null ? null : resetAfter * 1000,
    retryAfterMs,
    global,
    scope: h.get("x-ratelimit-scope"),
  };
}

function parseBody(text: string, contentType: string | null): unknown {
  if (!text) return undefined;
  if (contentType?.includes("json") || /^[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** Drops undefined values (Discord treats a present null differently from an absent key). */
function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function randomNonce(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 25);
}

/** Discord's epoch (2015-01-01): a snowflake's top bits are milliseconds since it. */
/**
 * Our clock and Discord's may disagree (both are NTP-synced); a created object is looked for this
 * far before the request. Kept short: a same-named object another caller made just before would
 * otherwise be taken for ours.
 */
const CLOCK_SKEW_MS = 5_000;

/** The newest of `items` whose id says it was created since `since` (Unix ms), if any. */
function newestCreatedSince<T extends { id: string }>(items: T[], since: number): T | undefined {
  let newest: T | undefined;
  for (const item of items) {
    const createdAt = snowflakeTimestamp(item.id);
    if (createdAt >= since - CLOCK_SKEW_MS && (!newest || BigInt(item.id) > BigInt(newest.id))) newest = item;
  }
  return newest;
}
