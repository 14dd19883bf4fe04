/**
 * ChatHistoryReader with a scripted Discord: who may read, oldest first, site messages named as
 * live events name them, one Discord call for identical requests in flight, and Discord's
 * failures as stable codes.
 */
import { describe, expect, it } from "vitest";
import { createLogger, siteMessageContent } from "@spell-coven/common";
import { DiscordApiError, DiscordNetworkError, DiscordRateLimitError } from "@spell-coven/common/rest";
import type { RESTGetAPIChannelMessagesResult } from "discord-api-types/v10";
import { ChatHistoryReader } from "../../src/hub/modules/commands/chat-history.ts";

const BOT = "1060000000000000001";
const CH = "1060000000000000203";
const SEATED = "200000000000000011";
const OUTSIDER = "200000000000000012";
const ctx = { method: "GET", route: "/channels/:id/messages", requestId: "r1", attempts: 1 };

function message(id: string, authorId: string, content: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    channel_id: CH,
    author: { id: authorId, username: authorId === BOT ? "Spell Coven" : "bob", global_name: null, avatar: null, ...(authorId === BOT ? { bot: true } : {}) },
    content,
    timestamp: "2026-12-01T12:00:00.000Z",
    edited_timestamp: null,
    attachments: [],
    embeds: [],
    ...extra,
  };
}

function reader(opts: { private?: boolean; answer?: () => Promise<unknown> } = {}) {
  const calls: { channelId: string; opts: unknown }[] = [];
  const counted: string[] = [];
  const r = new ChatHistoryReader({
    count: (outcome, code) => counted.push(code ? `${outcome}:${code}` : outcome),
    rooms: { get: (id: string) => (id === CH ? ({ channelId: CH, private: opts.private ?? false, members: [SEATED] } as never) : null) },
    audience: { canRead: (_c: string, userId: string) => !opts.private || userId === SEATED },
    guildId: () => "1060000000000000100",
    discord: () => ({
      getMessages: async (channelId: string, o: unknown) => {
        calls.push({ channelId, opts: o });
        return (await (opts.answer ?? (async () => []))()) as RESTGetAPIChannelMessagesResult;
      },
    }),
    botUserId: BOT,
    log: createLogger("ERROR"),
  });
  return { r, calls, counted };
}

describe("who may read", () => {
  it("an unknown table is ROOM_NOT_FOUND; a private table refuses outsiders with a message saying what to do; nothing is asked of Discord", async () => {
    const { r, calls, counted } = reader({ private: true });
    expect(await r.read(SEATED, "1060000000000000999", { limit: 50 })).toMatchObject({ ok: false, code: "ROOM_NOT_FOUND", status: 404 });
    expect(await r.read(OUTSIDER, CH, { limit: 50 })).toEqual({
      ok: false,
      code: "NOT_ROOM_MEMBER",
      status: 403,
      message: "This table is private: take a seat to read its chat.",
    });
    expect(calls).toEqual([]);
    expect((await r.read(SEATED, CH, { limit: 50 })).ok).toBe(true);
    expect(counted).toEqual(["refused:ROOM_NOT_FOUND", "refused:NOT_ROOM_MEMBER", "read"]);
  });
});

describe("the page", () => {
  it("oldest first; site messages name their player and show the text alone; reactions counted; hasMore on a full page", async () => {
    const { r, calls } = reader({
      answer: async () => [
        message("1060000000000000903", BOT, siteMessageContent(SEATED, "my turn"), { reactions: [{ count: 2, me: true, emoji: { id: null, name: "🎲" } }] }),
        message("1060000000000000902", "1060000000000000102", "from Discord"),
        // Someone else writing the same shape is not the site.
        message("1060000000000000901", "1060000000000000102", `<@${SEATED}>: not the site`),
      ],
    });
    const out = await r.read(SEATED, CH, { limit: 3, before: "1060000000000000999" });
    expect(calls).toEqual([{ channelId: CH, opts: { limit: 3, before: "1060000000000000999" } }]);
    if (!out.ok) throw new Error(out.message);
    expect(out.value.hasMore).toBe(true);
    expect(out.value.messages.map((m) => m.messageId)).toEqual(["1060000000000000901", "1060000000000000902", "1060000000000000903"]);
    const [other, discord, site] = out.value.messages;
    expect(site).toMatchObject({
      content: "my turn",
      sentBy: SEATED,
      author: { id: BOT, bot: true },
      reactions: [{ emoji: { id: null, name: "🎲" }, count: 2 }],
    });
    expect(discord).toMatchObject({ content: "from Discord", contentAvailable: true, reactions: [] });
    expect(discord!.sentBy).toBeUndefined();
    expect(other!.sentBy).toBeUndefined();
    // The bot's own message that is not a site message stays as it is.
    const plain = await reader({ answer: async () => [message("1060000000000000901", BOT, "Table closes in 30 s")] }).r.read(SEATED, CH, { limit: 50 });
    expect(plain.ok && plain.value.messages[0]).toMatchObject({ content: "Table closes in 30 s", author: { id: BOT } });
    expect(plain.ok && plain.value.messages[0]!.sentBy).toBeUndefined();
  });

  it("empty content without attachments is withheld (no MESSAGE_CONTENT intent); with an attachment it is real", async () => {
    const { r } = reader({
      answer: async () => [
        message("1060000000000000902", "1060000000000000102", "", { attachments: [{}] }),
        message("1060000000000000901", "1060000000000000102", ""),
      ],
    });
    const out = await r.read(SEATED, CH, { limit: 50 });
    if (!out.ok) throw new Error(out.message);
    expect(out.value.hasMore).toBe(false);
    expect(out.value.messages.map((m) => m.contentAvailable)).toEqual([false, true]);
  });
});

describe("one Discord call for identical requests in flight", () => {
  it("five players opening the page at once: one call, five answers; another page is its own call; done calls are not reused", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { r, calls, counted } = reader({
      answer: async () => {
        await gate;
        return [message("1060000000000000901", "1060000000000000102", "hello")];
      },
    });
    const same = Array.from({ length: 5 }, () => r.read(SEATED, CH, { limit: 50 }));
    const older = r.read(SEATED, CH, { limit: 50, before: "1060000000000000901" });
    expect(r.pending).toBe(2);
    release();
    const answers = await Promise.all(same);
    await older;
    expect(calls).toHaveLength(2);
    expect(counted.sort()).toEqual(["read", "read", "shared", "shared", "shared", "shared"]);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(r.pending).toBe(0);
    await r.read(SEATED, CH, { limit: 50 });
    expect(calls).toHaveLength(3);
  });
});

describe("Discord's failures as stable codes", () => {
  const failing = (err: unknown) => reader({ answer: async () => Promise.reject(err) }).r.read(SEATED, CH, { limit: 50 });

  it("rate limited beyond the REST client's waits: 429 DISCORD_RATE_LIMITED with when to retry", async () => {
    const err = new DiscordRateLimitError({ ...ctx, retryAfterMs: 12_345.2, scope: "shared", reason: "test" });
    expect(await failing(err)).toMatchObject({ ok: false, code: "DISCORD_RATE_LIMITED", status: 429, retryAfterMs: 12_346 });
  });

  it("the bot may not see the channel: 403 DISCORD_FORBIDDEN", async () => {
    const err = new DiscordApiError({ ...ctx, status: 403, body: { code: 50001, message: "Missing Access" }, discordRequestId: null });
    expect(await failing(err)).toMatchObject({ ok: false, code: "DISCORD_FORBIDDEN", status: 403, message: expect.stringMatching(/View Channel/) });
  });

  it("5xx after the retries, or no answer at all: 502 DISCORD_UNAVAILABLE with a retry hint", async () => {
    const down = new DiscordApiError({ ...ctx, attempts: 3, status: 503, body: { code: 0, message: "503: Service Unavailable" }, discordRequestId: null });
    expect(await failing(down)).toMatchObject({ ok: false, code: "DISCORD_UNAVAILABLE", status: 502, retryAfterMs: 5000 });
    const unreachable = new DiscordNetworkError({ ...ctx, timedOut: true, timeoutMs: 15_000, cause: new Error("timeout") });
    expect(await failing(unreachable)).toMatchObject({ ok: false, code: "DISCORD_UNAVAILABLE", status: 502 });
  });

  it("a failure is not kept: the next request asks Discord again", async () => {
    let n = 0;
    const { r, calls, counted } = reader({
      answer: async () => {
        if (n++ === 0) throw new DiscordNetworkError({ ...ctx, timedOut: false, timeoutMs: 15_000, cause: new Error("reset") });
        return [];
      },
    });
    expect((await r.read(SEATED, CH, { limit: 50 })).ok).toBe(false);
    expect((await r.read(SEATED, CH, { limit: 50 })).ok).toBe(true);
    expect(calls).toHaveLength(2);
    expect(counted).toEqual(["failed:DISCORD_UNAVAILABLE", "read"]);
  });
});
