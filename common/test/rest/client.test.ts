import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import {
  DiscordApiError,
  DiscordInputError,
  DiscordInvalidRequestLimitError,
  DiscordNetworkError,
  DiscordRateLimitError,
  DiscordRestClient,
  MemoryCoordinator,
  type DiscordRestClientOptions,
} from "../../src/rest/index.ts";
import { startFake, type Fake } from "./fake.ts";

const TOKEN = "fake-bot-token-SECRET-123";
const G = "111111111111111111";
const C = "222222222222222222";
const C2 = "222222222222222223";
const M = "333333333333333333";
const U = "444444444444444444";
const R = "555555555555555555";

let fake: Fake;
let lines: string[];
beforeAll(async () => {
  fake = await startFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.limit = null;
  fake.handler = (req) => ({ status: 200, body: { id: C, name: "x", type: 2, path: req.path } });
  lines = [];
});

function client(o: Partial<DiscordRestClientOptions> = {}) {
  return new DiscordRestClient({
    token: TOKEN,
    apiBase: fake.apiBase,
    retryBaseMs: 10,
    retryMaxMs: 40,
    timeoutMs: 1000,
    logger: createLogger("DEBUG", {}, (l) => lines.push(l)),
    ...o,
  });
}

describe("requests", () => {
  it("createVoiceChannel sends the documented body, auth, user agent and encoded audit reason", async () => {
    const ch = await client().createVoiceChannel(G, "Table 1", {
      parentId: C2,
      userLimit: 4,
      permissionOverwrites: [{ id: U, type: 1, allow: 1024n, deny: null }],
      reason: "room for Alice & Bob ✨",
    });
    expect(ch.id).toBe(C);
    const [req] = fake.requests;
    expect(req!.method).toBe("POST");
    expect(req!.path).toBe(`/guilds/${G}/channels`);
    expect(req!.body).toEqual({
      name: "Table 1",
      type: 2,
      parent_id: C2,
      user_limit: 4,
      permission_overwrites: [{ id: U, type: 1, allow: "1024", deny: null }],
    });
    expect(req!.headers.authorization).toBe(`Bot ${TOKEN}`);
    expect(req!.headers["user-agent"]).toMatch(/^DiscordBot \(/);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(decodeURIComponent(String(req!.headers["x-audit-log-reason"]))).toBe("room for Alice & Bob ✨");
  });

  it("every method hits its route; 204 answers resolve to undefined", async () => {
    fake.handler = (req) =>
      req.method === "GET"
        ? { status: 200, body: [] }
        : req.path.includes("/roles/") || req.path.includes("typing") || req.path.includes("reactions")
          ? { status: 204 }
          : { status: 200, body: { id: M } };
    const c = client();
    await c.deleteChannel(C, { reason: "room ended" });
    expect(await c.getChannels(G)).toEqual([]);
    await c.sendMessage(C, "hello");
    await c.createRole(G, { name: "Table 1", permissions: "0", mentionable: false, reason: "r" });
    expect(await c.deleteRole(G, R)).toBeUndefined();
    await c.addMemberRole(G, U, R, { reason: "joined" });
    await c.removeMemberRole(G, U, R);
    await c.addReaction(C, M, "👍");
    await c.addReaction(C, M, "<:dice:666666666666666666>");
    await c.triggerTyping(C);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /channels/${C}`,
      `GET /guilds/${G}/channels`,
      `POST /channels/${C}/messages`,
      `POST /guilds/${G}/roles`,
      `DELETE /guilds/${G}/roles/${R}`,
      `PUT /guilds/${G}/members/${U}/roles/${R}`,
      `DELETE /guilds/${G}/members/${U}/roles/${R}`,
      `PUT /channels/${C}/messages/${M}/reactions/%F0%9F%91%8D/@me`,
      `PUT /channels/${C}/messages/${M}/reactions/dice%3A666666666666666666/@me`,
      `POST /channels/${C}/typing`,
    ]);
    const msg = fake.requests[2]!.body as { content: string; nonce: string; enforce_nonce: boolean };
    expect(msg.content).toBe("hello");
    expect(msg.enforce_nonce).toBe(true);
    // Nobody is pinged unless the caller says who may be.
    expect((msg as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
    expect(msg.nonce.length).toBeLessThanOrEqual(25);
    expect(fake.requests[0]!.headers["x-audit-log-reason"]).toBe("room%20ended");
    expect(fake.requests[1]!.headers["x-audit-log-reason"]).toBeUndefined();
  });
});

describe("input validation (nothing is sent)", () => {
  const cases: [string, (c: DiscordRestClient) => Promise<unknown>, string][] = [
    ["empty name", (c) => c.createVoiceChannel(G, "   "), "name"],
    ["name too long", (c) => c.createVoiceChannel(G, "x".repeat(101)), "name"],
    ["userLimit 100", (c) => c.createVoiceChannel(G, "ok", { userLimit: 100 }), "userLimit"],
    ["bad guild snowflake", (c) => c.createVoiceChannel("12ab", "ok"), "guildId"],
    ["snowflake above 2^64", (c) => c.deleteChannel("99999999999999999999"), "channelId"],
    ["bad parent", (c) => c.createVoiceChannel(G, "ok", { parentId: "nope" }), "parentId"],
    ["bad overwrite id", (c) => c.createVoiceChannel(G, "ok", { permissionOverwrites: [{ id: "x", type: 0 }] }), "permissionOverwrites.0.id"],
    ["reason > 512", (c) => c.deleteChannel(C, { reason: "r".repeat(513) }), "reason"],
    ["empty reason", (c) => c.deleteChannel(C, { reason: "" }), "reason"],
    ["unknown option", (c) => c.createVoiceChannel(G, "ok", { userlimit: 3 } as never), ""],
    ["message too long", (c) => c.sendMessage(C, "y".repeat(2001)), "content"],
    ["empty message", (c) => c.sendMessage(C, ""), "content"],
    ["bare numeric emoji", (c) => c.addReaction(C, M, "12345"), "emoji"],
    ["bad role id", (c) => c.addMemberRole(G, U, "role"), "roleId"],
    ["typing bad channel", (c) => c.triggerTyping(""), "channelId"],
  ];
  it.each(cases)("%s", async (_name, call, field) => {
    const err = await call(client()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordInputError);
    expect((err as DiscordInputError).issues.map((i) => i.field)).toContain(field);
    expect((err as Error).message).toMatch(/Nothing was sent to Discord/);
    expect(fake.requests).toHaveLength(0);
  });

  it("a 512-character (multi-byte) reason is accepted", async () => {
    await client().deleteChannel(C, { reason: "é".repeat(512) });
    expect(fake.requests).toHaveLength(1);
  });
});

describe("errors and retries", () => {
  it("retries 5xx with backoff, then succeeds", async () => {
    let n = 0;
    fake.handler = () => (++n <= 2 ? { status: 502, body: { message: "bad gateway" } } : { status: 200, body: { id: C } });
    const c = client();
    await c.deleteChannel(C);
    expect(fake.requests.map((r) => r.status)).toEqual([502, 502, 200]);
    expect(lines.filter((l) => l.includes('"level":"INFO"') && l.includes("retrying"))).toHaveLength(2);
  });

  it("gives up after maxRetries with a DiscordApiError counting the attempts", async () => {
    fake.handler = () => ({ status: 500, body: { message: "Internal Server Error", code: 0 } });
    const err = (await client({ maxRetries: 3 })
      .deleteChannel(C)
      .catch((e: unknown) => e)) as DiscordApiError;
    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err.status).toBe(500);
    expect(err.attempts).toBe(4);
    expect(fake.requests).toHaveLength(4);
    expect(err.message).toMatch(/after 4 attempts/);
  });

  it("times out, retries, then throws DiscordNetworkError", async () => {
    fake.handler = () => "hang";
    const t0 = Date.now();
    const err = (await client({ timeoutMs: 100, maxRetries: 2 })
      .getChannels(G)
      .catch((e: unknown) => e)) as DiscordNetworkError;
    expect(err).toBeInstanceOf(DiscordNetworkError);
    expect(err.timedOut).toBe(true);
    expect(err.attempts).toBe(3);
    expect(fake.requests).toHaveLength(3);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.message).toMatch(/no answer within 100 ms/);
  });

  it("network errors (connection refused) are retried then reported", async () => {
    const err = (await client({ apiBase: "http://127.0.0.1:1/api/v10", maxRetries: 1 })
      .getChannels(G)
      .catch((e: unknown) => e)) as DiscordNetworkError;
    expect(err).toBeInstanceOf(DiscordNetworkError);
    expect(err.timedOut).toBe(false);
    expect(err.attempts).toBe(2);
  });

  it("field errors of a 400 body surface in DiscordApiError", async () => {
    fake.handler = () => ({
      status: 400,
      headers: { "x-request-id": "discord-req-42" },
      body: {
        code: 50035,
        message: "Invalid Form Body",
        errors: {
          name: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 100 or fewer in length." }] },
          permission_overwrites: { "0": { id: { _errors: [{ code: "NUMBER_TYPE_COERCE", message: "Value is not snowflake." }] } } },
        },
      },
    });
    const err = (await client()
      .createVoiceChannel(G, "ok")
      .catch((e: unknown) => e)) as DiscordApiError;
    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe(50035);
    expect(err.fieldErrors).toEqual([
      { path: "name", code: "BASE_TYPE_MAX_LENGTH", message: "Must be 100 or fewer in length." },
      { path: "permission_overwrites.0.id", code: "NUMBER_TYPE_COERCE", message: "Value is not snowflake." },
    ]);
    expect(err.route).toBe("/guilds/:id/channels");
    expect(err.method).toBe("POST");
    expect(err.discordRequestId).toBe("discord-req-42");
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.message).toContain(
      "Discord rejected POST /guilds/:id/channels with HTTP 400 (code 50035 Invalid Form Body): name: Must be 100 or fewer in length.",
    );
    expect(err.message).toContain(err.requestId);
    expect(fake.requests).toHaveLength(1); // 4xx is not retried
  });

  it("a 429 is waited out by retry_after without using up retries", async () => {
    let n = 0;
    fake.handler = () =>
      ++n === 1
        ? {
            status: 429,
            headers: { "x-ratelimit-scope": "shared", "retry-after": "1" },
            body: { message: "The resource is being rate limited.", retry_after: 0.15, global: false },
          }
        : { status: 200, body: { id: C } };
    const t0 = Date.now();
    await client({ maxRetries: 0 }).deleteChannel(C);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("a wait longer than maxRateLimitWaitMs fails fast with DiscordRateLimitError", async () => {
    fake.handler = () => ({ status: 429, headers: { "x-ratelimit-global": "true" }, body: { message: "global", retry_after: 30, global: true } });
    const err = await client({ maxRateLimitWaitMs: 1000 })
      .getChannels(G)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordRateLimitError);
    expect((err as DiscordRateLimitError).scope).toBe("global");
    expect(fake.requests).toHaveLength(1);
  });

  it("never logs the token", async () => {
    fake.handler = () => ({ status: 403, body: { code: 50013, message: "Missing Permissions" } });
    const c = client();
    await c.createVoiceChannel(G, "x").catch(() => {});
    fake.handler = () => ({ status: 500, body: {} });
    await c.deleteChannel(C).catch(() => {});
    expect(lines.length).toBeGreaterThan(4);
    expect(lines.some((l) => l.includes('"level":"DEBUG"') && l.includes("/guilds/:id/channels"))).toBe(true);
    for (const l of lines) expect(l).not.toContain(TOKEN);
  });
});

describe("rate limits against Discord-like headers", () => {
  it("a parallel burst on one channel finishes with zero 429s", async () => {
    fake.limit = { perWindow: 3, windowMs: 200, globalPerSecond: 1000 };
    const c = client();
    await Promise.all(Array.from({ length: 12 }, (_, i) => c.sendMessage(C, `m${i}`)));
    expect(fake.requests).toHaveLength(12);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(0);
    // Order is kept per channel.
    expect(fake.requests.map((r) => (r.body as { content: string }).content)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i}`));
  });

  it("a burst over many channels and the global limit finishes with zero 429s", async () => {
    fake.limit = { perWindow: 2, windowMs: 200, globalPerSecond: 20 };
    const c = client({ rateLimits: { globalPerSecond: 20 } });
    const channels = Array.from({ length: 10 }, (_, i) => String(300000000000000000n + BigInt(i)));
    const t0 = Date.now();
    await Promise.all(channels.flatMap((ch) => [0, 1, 2, 3].map((i) => c.sendMessage(ch, `m${i}`))));
    if (fake.requests.length !== 40) console.log(fake.requests.map((r) => `${r.at - t0} ${r.status} ${r.path}`).join("\n"));
    expect(fake.requests).toHaveLength(40);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it("the invalid-request guard stops sending past its threshold and alerts", async () => {
    fake.handler = () => ({ status: 403, body: { code: 50013, message: "Missing Permissions" } });
    const c = client({ coordinator: new MemoryCoordinator({ invalidWarnAt: 2, invalidStopAt: 4 }) });
    for (let i = 0; i < 4; i++) await expect(c.deleteChannel(C)).rejects.toBeInstanceOf(DiscordApiError);
    const err = await c.deleteChannel(C).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordInvalidRequestLimitError);
    expect(fake.requests).toHaveLength(4);
    expect(lines.some((l) => l.includes('"level":"WARN"') && l.includes("piling up"))).toBe(true);
    expect(lines.some((l) => l.includes('"level":"ERROR"') && l.includes('"alert":true'))).toBe(true);
  });
});
