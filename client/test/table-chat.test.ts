/**
 * TableChat on fake timers against a stand-in client: the merge of history and live events
 * (ordered, no duplicates), local echoes replaced by Discord's message through the nonce,
 * reactions deduplicated per (message, emoji, who), typing expiry and throttle, refusals with
 * their retry time, retries with the same command id, the HTTP fallback, and the history reload
 * after a reconnect that could not resume.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AuthOk, ChatHistory, ChatMessagePayload, ClientMessage, EventName, EventPayload, SignalPayload } from "@spell-coven/common";
import { TypedEmitter, type ClientEvents } from "../src/events.ts";
import { RoomsApi } from "../src/rooms-api.ts";
import { TableChat } from "../src/table-chat.ts";

const GUILD = "1060000000000000001";
const CH = "1070000000000000001";
const ME = "2000000000000000001";
const BOB = "2000000000000000002";
const DISCORD_USER = "2000000000000000009";
const BOT = "2000000000000000100";

type Call = { method: string; url: string; headers: Record<string, string>; body: unknown };

/** A client that records what it sends; `connected` decides whether the socket takes it. */
class FakeClient extends TypedEmitter<ClientEvents> {
  connected = true;
  readonly userId = ME;
  readonly state = "open" as const;
  readonly sent: ClientMessage[] = [];
  readonly calls: Call[] = [];
  /** Answers for HTTP calls, by "METHOD path-prefix"; a function may throw for a network error. */
  answer: (call: Call) => Response = () => json(404, { error: { code: "NOT_FOUND", message: "no such route" } });
  readonly api = new RoomsApi({
    baseUrl: "http://hub.test",
    getToken: async () => "token",
    fetch: async (input, init) => {
      const call: Call = {
        method: init?.method ?? "GET",
        url: String(input).replace("http://hub.test", ""),
        headers: (init?.headers ?? {}) as Record<string, string>,
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
      };
      this.calls.push(call);
      return this.answer(call);
    },
  });

  send(message: ClientMessage): boolean {
    if (!this.connected) return false;
    this.sent.push(message);
    return true;
  }

  event<E extends EventName>(name: E, payload: EventPayload<E>): void {
    (this.emit as (n: string, ...a: unknown[]) => void)(name, payload, { v: 1, type: "event", event: name, payload, ts: Date.now(), seq: 1 });
  }

  result(payload: Omit<SignalPayload<"command.result">, "traceId" | "channelId"> & { channelId?: string }): void {
    this.emit("signal", { v: 1, type: "signal", signal: "command.result", payload: { traceId: "a".repeat(32), channelId: CH, ...payload }, ts: Date.now() });
  }

  auth(resumed: boolean): void {
    this.emit("auth", { resumed } as AuthOk);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

function message(id: string, over: Partial<ChatMessagePayload> = {}): ChatMessagePayload {
  return {
    guildId: GUILD,
    channelId: CH,
    messageId: id,
    author: { id: DISCORD_USER, username: "dora", displayName: "Dora", avatar: null, bot: false },
    content: `message ${id}`,
    contentAvailable: true,
    timestamp: new Date(1_700_000_000_000 + Number(id.slice(-3)) * 1000).toISOString(),
    editedTimestamp: null,
    attachments: 0,
    replyTo: null,
    mentionsEveryone: false,
    nonce: null,
    ...over,
  };
}

const siteMessage = (id: string, sentBy: string, content: string, nonce: string | null = null) =>
  message(id, { author: { id: BOT, username: "spell-coven", displayName: null, avatar: null, bot: true }, sentBy, content, nonce });

const history = (messages: ChatHistory["messages"], hasMore = false): ChatHistory => ({ channelId: CH, messages, hasMore });

/** Lets the fake fetch's answer (a real Response body read) settle: setImmediate is not faked. */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

let client: FakeClient;
let chat: TableChat;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  client = new FakeClient();
});
afterEach(() => {
  chat?.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe("TableChat messages", () => {
  it("merges the history and live events in id order without duplicates; edits and deletes apply; edits of unknown messages are ignored", async () => {
    client.answer = () =>
      json(
        200,
        history(
          [
            { ...message("1100000000000000102"), reactions: [] },
            { ...message("1100000000000000104"), reactions: [] },
          ],
          true,
        ),
      );
    chat = new TableChat(client, CH);
    client.event("message.created", message("1100000000000000105"));
    await flush();
    expect(client.calls[0]!.url).toBe(`/api/tables/${CH}/messages?limit=50`);
    expect(chat.getSnapshot().lines.map((l) => l.messageId)).toEqual(["1100000000000000102", "1100000000000000104", "1100000000000000105"]);
    expect(chat.getSnapshot().history).toMatchObject({ status: "loaded", hasMore: true });

    // The same message again (a replay), one in between, another channel's: one line each, in order.
    client.event("message.created", message("1100000000000000104"));
    client.event("message.created", message("1100000000000000103"));
    client.event("message.created", message("1100000000000000106", { channelId: "1070000000000000002" }));
    const snap = chat.getSnapshot();
    expect(snap.lines.map((l) => l.messageId)).toEqual(["1100000000000000102", "1100000000000000103", "1100000000000000104", "1100000000000000105"]);
    expect(chat.getSnapshot()).toBe(snap); // unchanged: the same snapshot

    client.event("message.updated", message("1100000000000000103", { content: "fixed", editedTimestamp: new Date().toISOString() }));
    client.event("message.updated", message("1100000000000000001", { content: "too old to show" }));
    expect(chat.getSnapshot().lines[1]).toMatchObject({ content: "fixed", edited: true });
    expect(chat.getSnapshot().lines).toHaveLength(4);

    client.event("message.deleted", { guildId: GUILD, channelId: CH, messageIds: ["1100000000000000102", "1100000000000000105"] });
    expect(chat.getSnapshot().lines.map((l) => l.messageId)).toEqual(["1100000000000000103", "1100000000000000104"]);

    // Older: before the oldest shown; hasMore from the page.
    client.answer = () => json(200, history([{ ...message("1100000000000000101"), reactions: [] }], false));
    await chat.loadOlder();
    expect(client.calls[1]!.url).toBe(`/api/tables/${CH}/messages?before=1100000000000000103&limit=50`);
    expect(chat.getSnapshot().lines.map((l) => l.messageId)).toEqual(["1100000000000000101", "1100000000000000103", "1100000000000000104"]);
    expect(chat.getSnapshot().history.hasMore).toBe(false);
    await chat.loadOlder(); // nothing more to load
    expect(client.calls).toHaveLength(2);
  });

  it("withheld content is marked so; a site message names its player and is mine when I wrote it", async () => {
    chat = new TableChat(client, CH);
    await flush();
    client.event("message.created", message("1100000000000000201", { content: "", contentAvailable: false, attachments: 2 }));
    client.event("message.created", siteMessage("1100000000000000202", ME, "hello"));
    client.event("message.created", siteMessage("1100000000000000203", BOB, "hi"));
    const [withheld, mine, bobs] = chat.getSnapshot().lines;
    expect(withheld).toMatchObject({ contentAvailable: false, attachments: 2, sentBy: null, mine: false });
    expect(mine).toMatchObject({ sentBy: ME, content: "hello", mine: true });
    expect(bobs).toMatchObject({ sentBy: BOB, mine: false });
  });

  it("a send shows at once as an echo and is replaced by Discord's message carrying its nonce", async () => {
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.send("  gg!  ");
    expect(client.sent).toEqual([{ type: "chat.send", channelId: CH, content: "gg!", commandId: id, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
    expect(chat.getSnapshot().lines).toEqual([
      expect.objectContaining({ key: `local:${id}`, content: "gg!", mine: true, command: expect.objectContaining({ status: "pending" }) }),
    ]);
    client.result({ commandId: id, command: "sendMessage", status: "accepted" });
    expect(chat.getSnapshot().commands[id]!.status).toBe("accepted");
    client.event("message.created", siteMessage("1100000000000000301", ME, "gg!", id));
    const lines = chat.getSnapshot().lines;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ messageId: "1100000000000000301", command: null, mine: true });
    expect(chat.getSnapshot().commands).toEqual({});
    // A late "sent" for it changes nothing.
    client.result({ commandId: id, command: "sendMessage", status: "sent", messageId: "1100000000000000301" });
    expect(chat.getSnapshot().lines).toHaveLength(1);
  });

  it("sent before its message arrives: the echo waits, then goes when the message with that id comes", async () => {
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.send("hi");
    client.result({ commandId: id, command: "sendMessage", status: "sent", messageId: "1100000000000000401" });
    expect(chat.getSnapshot().lines[0]!.command).toMatchObject({ status: "sent", messageId: "1100000000000000401" });
    await vi.advanceTimersByTimeAsync(120_000); // sent is an outcome: no timeout turns it into a failure
    expect(chat.getSnapshot().lines[0]!.command!.status).toBe("sent");
    client.event("message.created", siteMessage("1100000000000000401", ME, "hi")); // no nonce (from the history, say)
    expect(chat.getSnapshot().lines.map((l) => l.key)).toEqual(["1100000000000000401"]);
  });

  it("text Discord would refuse is refused at once and never sent", async () => {
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.send("x".repeat(1976));
    expect(client.sent).toEqual([]);
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "refused", code: "VALIDATION_FAILED", message: expect.stringMatching(/1975/) });
    expect(chat.getSnapshot().lines).toEqual([]); // refused: not an echo (the composer keeps the text)
  });
});

describe("TableChat refusals and retries", () => {
  it("a refused send carries the code and when to retry; retry sends the same command id", async () => {
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.send("one more");
    client.result({
      commandId: id,
      command: "sendMessage",
      status: "refused",
      code: "RATE_LIMITED",
      message: "You are sending too fast; retry in 3 s.",
      retryAfterMs: 2500,
    });
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "refused", code: "RATE_LIMITED", retryAt: Date.now() + 2500, text: "one more" });
    expect(chat.getSnapshot().lines).toEqual([]);
    vi.advanceTimersByTime(2500);
    chat.retry(id);
    expect(client.sent.map((m) => (m as { commandId?: string }).commandId)).toEqual([id, id]);
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "pending", attempts: 2, code: null, retryAt: null });
  });

  it("no answer at all: failed with NO_ANSWER after the timeout; with the socket gone, the retry goes over HTTP with the same id", async () => {
    chat = new TableChat(client, CH, { answerTimeoutMs: 5_000 });
    await flush();
    const id = chat.send("anyone?");
    await vi.advanceTimersByTimeAsync(4_999);
    expect(chat.getSnapshot().commands[id]!.status).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "failed", code: "NO_ANSWER" });
    expect(chat.getSnapshot().lines[0]!.command!.status).toBe("failed"); // the echo stays, with Retry

    // The hub did get it after all (duplicate): accepted, its outcome follows as command.result.
    client.connected = false;
    client.answer = () => json(202, { commandId: id, traceId: "b".repeat(32), status: "duplicate" });
    chat.retry(id);
    await flush();
    const call = client.calls.at(-1)!;
    expect(call).toMatchObject({ method: "POST", url: `/api/tables/${CH}/messages`, body: { content: "anyone?", commandId: id } });
    expect(call.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(chat.getSnapshot().commands[id]!.status).toBe("accepted");
    client.event("message.created", siteMessage("1100000000000000501", ME, "anyone?", id));
    expect(chat.getSnapshot().commands).toEqual({});
  });

  it("a command that failed at Discord is retried with its id over the socket, and the hub's answer settles it", async () => {
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.send("x");
    client.result({
      commandId: id,
      command: "sendMessage",
      status: "failed",
      code: "DISCORD_UNAVAILABLE",
      message: "Discord is having trouble; try again shortly.",
    });
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "failed", code: "DISCORD_UNAVAILABLE" });
    chat.retry(id);
    expect(client.sent.map((m) => (m as { commandId?: string }).commandId)).toEqual([id, id]);
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "pending", attempts: 2, code: null });
    client.result({ commandId: id, command: "sendMessage", status: "accepted" });
    expect(chat.getSnapshot().commands[id]!.status).toBe("accepted");
  });

  it("without a socket the HTTP route is used: 429 honours Retry-After, 403 is refused with its code, a network error fails", async () => {
    client.connected = false;
    chat = new TableChat(client, CH);
    await flush();
    // The token is awaited before each fetch: the answer depends on what is sent.
    client.answer = (call) => {
      const content = (call.body as { content: string }).content;
      if (content === "a")
        return json(429, { error: { code: "RATE_LIMITED", message: "You are sending too fast; retry in 4 s.", requestId: "r1" } }, { "Retry-After": "4" });
      if (content === "b") return json(403, { error: { code: "NOT_ROOM_MEMBER", message: "Only players seated at this table can write in its chat." } });
      throw new TypeError("fetch failed");
    };
    const limited = chat.send("a");
    const notSeated = chat.send("b");
    const offline = chat.send("c");
    await flush();
    const c = chat.getSnapshot().commands;
    expect(c[limited]).toMatchObject({ status: "refused", code: "RATE_LIMITED", retryAt: Date.now() + 4000 });
    expect(c[notSeated]).toMatchObject({ status: "refused", code: "NOT_ROOM_MEMBER" });
    expect(c[offline]).toMatchObject({ status: "failed", code: "NETWORK_ERROR" });
  });

  it("a reaction over HTTP URL-encodes the emoji (multi-codepoint and custom name:id) and carries its command id", async () => {
    const m = "1100000000000000551";
    client.answer = (call) =>
      call.method === "GET"
        ? json(200, history([{ ...message(m), reactions: [] }]))
        : json(202, { commandId: "x", traceId: "b".repeat(32), status: "accepted" });
    client.connected = false;
    chat = new TableChat(client, CH);
    await flush();
    const skin = chat.react(m, "👍🏽")!;
    chat.react(m, "mox:123456789012345678");
    await flush();
    const puts = client.calls.filter((c) => c.method === "PUT");
    expect(puts.map((c) => c.url)).toEqual([
      `/api/tables/${CH}/messages/${m}/reactions/%F0%9F%91%8D%F0%9F%8F%BD`,
      `/api/tables/${CH}/messages/${m}/reactions/mox%3A123456789012345678`,
    ]);
    expect(puts[0]!.headers["Idempotency-Key"]).toBe(skin);
    expect(chat.getSnapshot().commands[skin]!.status).toBe("accepted");
  });

  it("unchanged lines stay the same objects (rows re-render only when they change)", async () => {
    client.answer = () =>
      json(
        200,
        history([
          { ...message("1100000000000000561"), reactions: [] },
          { ...message("1100000000000000562"), reactions: [] },
        ]),
      );
    chat = new TableChat(client, CH);
    await flush();
    const [one, two] = chat.getSnapshot().lines;
    client.event("typing.started", { guildId: GUILD, channelId: CH, userId: BOB, at: Date.now() });
    client.event("message.reaction.added", { guildId: GUILD, channelId: CH, messageId: "1100000000000000562", userId: BOB, emoji: { id: null, name: "🔥" } });
    const after = chat.getSnapshot().lines;
    expect(after[0]).toBe(one);
    expect(after[1]).not.toBe(two);
    expect(after[1]!.reactions).toHaveLength(1);
  });
});

describe("TableChat reactions", () => {
  it("counts each (message, emoji, who) once; the history's counts are the base; a site reaction is the player's; the bot's removal takes every site player's", async () => {
    const m = "1100000000000000601";
    client.answer = () => json(200, history([{ ...message(m), reactions: [{ emoji: { id: null, name: "👍" }, count: 2 }] }]));
    chat = new TableChat(client, CH);
    await flush();
    const chips = () => chat.getSnapshot().lines[0]!.reactions;
    expect(chips()).toEqual([{ emoji: "👍", count: 2, mine: false, pending: false }]);

    const add = (userId: string, name: string, sentBy?: string) =>
      client.event("message.reaction.added", { guildId: GUILD, channelId: CH, messageId: m, userId, emoji: { id: null, name }, ...(sentBy ? { sentBy } : {}) });
    add(DISCORD_USER, "🔥");
    add(DISCORD_USER, "🔥"); // the same again (a replay)
    add(BOT, "🔥", BOB);
    expect(chips()).toEqual([
      { emoji: "👍", count: 2, mine: false, pending: false },
      { emoji: "🔥", count: 2, mine: false, pending: false },
    ]);

    // Mine: pending at once, sent over the socket, confirmed by the event naming me.
    expect(chat.react(m, "🔥")).toMatch(/^[0-9a-f]{20}$/);
    expect(chips()[1]).toEqual({ emoji: "🔥", count: 3, mine: true, pending: true });
    expect(client.sent.at(-1)).toMatchObject({ type: "chat.react", channelId: CH, messageId: m, emoji: "🔥" });
    expect(chat.react(m, "🔥")).toBeNull(); // already mine
    add(BOT, "🔥", ME);
    expect(chips()[1]).toEqual({ emoji: "🔥", count: 3, mine: true, pending: false });
    expect(chat.getSnapshot().commands).toEqual({});

    // The bot's 🔥 removed in Discord: bob's and mine go, dora's stays.
    client.event("message.reaction.removed", { guildId: GUILD, channelId: CH, messageId: m, userId: BOT, emoji: { id: null, name: "🔥" } });
    expect(chips()[1]).toEqual({ emoji: "🔥", count: 1, mine: false, pending: false });
    // Someone the history counted without naming takes their 👍 back.
    client.event("message.reaction.removed", { guildId: GUILD, channelId: CH, messageId: m, userId: DISCORD_USER, emoji: { id: null, name: "👍" } });
    expect(chips()[0]!.count).toBe(1);
    // A custom emoji is keyed as name:id, as react() takes it.
    client.event("message.reaction.added", {
      guildId: GUILD,
      channelId: CH,
      messageId: m,
      userId: DISCORD_USER,
      emoji: { id: "123456789012345678", name: "mox" },
    });
    expect(chips().map((c) => c.emoji)).toContain("mox:123456789012345678");
  });

  it("the bot's reaction without a name (a hub that does not say who) is the player's own when they asked for it: counted once", async () => {
    const m = "1100000000000000651";
    client.answer = () => json(200, history([{ ...message(m), reactions: [] }]));
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.react(m, "👍")!;
    client.event("message.reaction.added", { guildId: GUILD, channelId: CH, messageId: m, userId: BOT, emoji: { id: null, name: "👍" } });
    client.result({ commandId: id, command: "addReaction", status: "sent", messageId: m });
    client.event("message.reaction.added", { guildId: GUILD, channelId: CH, messageId: m, userId: DISCORD_USER, emoji: { id: null, name: "👍" } });
    expect(chat.getSnapshot().lines[0]!.reactions).toEqual([{ emoji: "👍", count: 2, mine: true, pending: false }]);
    // Now known as the bot: its removal in Discord takes the player's too.
    client.event("message.reaction.removed", { guildId: GUILD, channelId: CH, messageId: m, userId: BOT, emoji: { id: null, name: "👍" } });
    expect(chat.getSnapshot().lines[0]!.reactions).toEqual([{ emoji: "👍", count: 1, mine: false, pending: false }]);
  });

  it("a refused reaction is taken back and keeps its retry time; sent confirms it even without an event", async () => {
    const m = "1100000000000000701";
    client.answer = () => json(200, history([{ ...message(m), reactions: [] }]));
    chat = new TableChat(client, CH);
    await flush();
    const id = chat.react(m, "👍🏽")!;
    client.result({
      commandId: id,
      command: "addReaction",
      status: "refused",
      code: "RATE_LIMITED",
      message: "This table's chat is busy; retry in 1 s.",
      retryAfterMs: 800,
    });
    expect(chat.getSnapshot().lines[0]!.reactions).toEqual([]);
    expect(chat.getSnapshot().commands[id]).toMatchObject({ status: "refused", retryAt: Date.now() + 800 });
    chat.retry(id);
    expect(chat.getSnapshot().lines[0]!.reactions).toEqual([{ emoji: "👍🏽", count: 1, mine: true, pending: true }]);
    client.result({ commandId: id, command: "addReaction", status: "sent", messageId: m });
    expect(chat.getSnapshot().lines[0]!.reactions).toEqual([{ emoji: "👍🏽", count: 1, mine: true, pending: false }]);
    expect(() => chat.react(m, "not an emoji")).toThrow(RangeError);
  });
});

describe("TableChat typing", () => {
  it("shows who types for 10 s (never me), renewed by a new event, ended by their message", async () => {
    chat = new TableChat(client, CH);
    await flush();
    const typing = (userId: string) => client.event("typing.started", { guildId: GUILD, channelId: CH, userId, at: Date.now() });
    typing(BOB);
    typing(ME);
    typing(DISCORD_USER);
    expect(chat.getSnapshot().typing).toEqual([BOB, DISCORD_USER]);
    await vi.advanceTimersByTimeAsync(6_000);
    typing(BOB); // still typing: renewed
    await vi.advanceTimersByTimeAsync(4_000);
    expect(chat.getSnapshot().typing).toEqual([BOB]);
    await vi.advanceTimersByTimeAsync(5_999);
    expect(chat.getSnapshot().typing).toEqual([BOB]);
    await vi.advanceTimersByTimeAsync(1);
    expect(chat.getSnapshot().typing).toEqual([]);
    typing(BOB);
    client.event("message.created", siteMessage("1100000000000000801", BOB, "done"));
    expect(chat.getSnapshot().typing).toEqual([]);
  });

  it("sends typing at most once per 8 s while the player types; over HTTP without a socket, honouring Retry-After", async () => {
    chat = new TableChat(client, CH);
    await flush();
    for (let i = 0; i < 20; i++) {
      chat.typing();
      await vi.advanceTimersByTimeAsync(500); // a keystroke every half second for 10 s
    }
    expect(client.sent.filter((m) => m.type === "chat.typing")).toHaveLength(2); // at 0 s and at 8 s

    client.connected = false;
    await vi.advanceTimersByTimeAsync(8_000);
    client.answer = () => json(429, { error: { code: "RATE_LIMITED", message: "slow down" } }, { "Retry-After": "30" });
    chat.typing();
    await flush();
    expect(client.calls.at(-1)).toMatchObject({ method: "POST", url: `/api/tables/${CH}/typing` });
    expect(client.calls.at(-1)!.headers["Idempotency-Key"]).toMatch(/^[0-9a-f]{20}$/);
    const calls = client.calls.length;
    await vi.advanceTimersByTimeAsync(20_000);
    chat.typing(); // 20 s later, still within the server's 30 s
    await vi.advanceTimersByTimeAsync(10_000);
    chat.typing();
    await flush();
    expect(client.calls.length).toBe(calls + 1);
  });
});

describe("TableChat history", () => {
  it("reloads the latest page after a reconnect that could not resume (not after a resume); deleted-meanwhile messages go", async () => {
    client.answer = () =>
      json(
        200,
        history([
          { ...message("1100000000000000901"), reactions: [] },
          { ...message("1100000000000000902"), reactions: [] },
        ]),
      );
    chat = new TableChat(client, CH);
    await flush();
    client.auth(true);
    await flush();
    expect(client.calls).toHaveLength(1);
    // While away 902 was deleted and 903 written.
    client.answer = () =>
      json(
        200,
        history([
          { ...message("1100000000000000901"), reactions: [] },
          { ...message("1100000000000000903"), reactions: [] },
        ]),
      );
    client.auth(false);
    await flush();
    expect(client.calls).toHaveLength(2);
    expect(chat.getSnapshot().lines.map((l) => l.messageId)).toEqual(["1100000000000000901", "1100000000000000903"]);
  });

  it("a refused history page says why and waits for Retry-After before asking again", async () => {
    client.answer = () => json(429, { error: { code: "RATE_LIMITED", message: "Too many history requests." } }, { "Retry-After": "5" });
    chat = new TableChat(client, CH);
    await flush();
    expect(chat.getSnapshot().history).toMatchObject({ status: "error", error: { code: "RATE_LIMITED", retryAt: Date.now() + 5000 } });
    await chat.loadOlder();
    expect(client.calls).toHaveLength(1);
    vi.advanceTimersByTime(5000);
    client.answer = () => json(200, history([{ ...message("1100000000000000951"), reactions: [] }]));
    await chat.loadOlder();
    expect(client.calls).toHaveLength(2);
    expect(chat.getSnapshot().history).toMatchObject({ status: "loaded", error: null });
    expect(chat.getSnapshot().lines).toHaveLength(1);
  });

  it("close() stops listening and leaves no timers", async () => {
    chat = new TableChat(client, CH);
    await flush();
    chat.send("pending");
    client.event("typing.started", { guildId: GUILD, channelId: CH, userId: BOB, at: Date.now() });
    chat.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(client.listenerCount("message.created")).toBe(0);
  });
});
