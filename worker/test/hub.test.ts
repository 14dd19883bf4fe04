import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { CloseCodes } from "@spell-coven/common";
import {
  GUILD_ID,
  ORIGIN,
  connect,
  events,
  mintAlgNone,
  mintHs256WithPublicKey,
  mintToken,
  mintWithUnknownKey,
  openSocket,
  postEvents,
  request,
  uniqueId,
  voiceJoined,
  voiceLeft,
} from "./helpers.ts";
import { MAX_CLIENT_LAG } from "../src/hub/limits.ts";

const ch = (n: number) => `41000000000000000${n}`;
const user = (n: number) => `31000000000000${String(n).padStart(4, "0")}`;
const hub = () => env.GUILD_HUB.getByName(GUILD_ID);

describe("GET /api/ws upgrade", () => {
  it("refuses plain HTTP, unknown guilds and foreign browser origins before reaching the hub", async () => {
    const plain = await request("/api/ws");
    expect(plain.status).toBe(426);
    expect((await plain.json<any>()).error.code).toBe("UPGRADE_REQUIRED");
    const unknown = await request("/api/ws?guildId=123456789012345678", { headers: { Upgrade: "websocket" } });
    expect(unknown.status).toBe(404);
    expect((await unknown.json<any>()).error.code).toBe("UNKNOWN_GUILD");
    const foreign = await request("/api/ws", { headers: { Upgrade: "websocket", Origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect((await foreign.json<any>()).error.code).toBe("ORIGIN_NOT_ALLOWED");
    const allowed = await openSocket({ origin: ORIGIN });
    allowed.ws.close(1000);
  });
});

describe("authentication", () => {
  it("answers auth.ok with the current presence so a fresh client is in sync at once", async () => {
    await postEvents([voiceJoined(user(1), ch(1)), voiceJoined(user(2), ch(1)), voiceJoined(user(3), ch(2))]);
    const c = await connect({ userId: user(9) });
    expect(c.ok).toMatchObject({ v: 1, type: "ack", event: "auth.ok", guildId: GUILD_ID, userId: user(9), resumed: false, maxLag: MAX_CLIENT_LAG });
    expect(c.ok.presence[ch(1)]).toEqual(expect.arrayContaining([user(1), user(2)]));
    expect(c.ok.presence[ch(2)]).toContain(user(3));
    expect(c.ok.seq).toBeGreaterThanOrEqual(3);
    expect(c.ok.expiresAt).toBeGreaterThan(Date.now());
  });

  const rejected: [string, () => Promise<string>, number][] = [
    ["garbage", async () => "not-a-jwt", CloseCodes.AuthFailed],
    ["an expired token", () => mintToken(user(1), { expiresIn: Math.floor(Date.now() / 1000) - 120 }), CloseCodes.TokenExpired],
    ["a token for another audience", () => mintToken(user(1), { aud: "someone-else" }), CloseCodes.AuthFailed],
    ["a token from another issuer", () => mintToken(user(1), { iss: "https://evil.example" }), CloseCodes.AuthFailed],
    ["a token signed with an unknown key", () => mintWithUnknownKey(), CloseCodes.AuthFailed],
    ['an "alg: none" token', async () => mintAlgNone(), CloseCodes.AuthFailed],
    ["an HS256 token keyed with the public key", () => mintHs256WithPublicKey(), CloseCodes.AuthFailed],
  ];
  for (const [what, token, code] of rejected) {
    it(`closes on ${what} with ${code} and a readable reason`, async () => {
      const s = await openSocket();
      s.send({ type: "auth", token: await token() });
      const closed = await s.closed;
      expect(closed.code).toBe(code);
      expect(closed.reason.length).toBeGreaterThan(5);
      expect(events(s)).toHaveLength(0);
    });
  }

  it("closes with 4002 when the first message is not an auth message", async () => {
    for (const first of ["hello", JSON.stringify({ type: "ack", seq: 1 }), JSON.stringify({ type: "auth" })]) {
      const s = await openSocket();
      s.send(first);
      expect((await s.closed).code).toBe(CloseCodes.ProtocolError);
    }
  });

  it("closes with 4001 when no auth message arrives in time", async () => {
    const s = await openSocket();
    const closed = await s.closed; // WS_AUTH_TIMEOUT_MS is 400 in tests; the hub's alarm fires it
    expect(closed.code).toBe(CloseCodes.AuthTimeout);
  });

  it("closes with 4004 when the token expires while connected", async () => {
    const c = await connect({ token: await mintToken(user(4), { expiresIn: "2s" }) });
    expect(c.ok.event).toBe("auth.ok");
    const closed = await c.closed;
    expect(closed.code).toBe(CloseCodes.TokenExpired);
  }, 10_000);

  it("after auth, answers bad messages with an error ack and keeps the socket", async () => {
    const c = await connect();
    c.send("{oops");
    const err = await c.next((m) => m.event === "error");
    expect(err.payload.code).toBe("BAD_MESSAGE");
    c.send({ type: "auth", token: "x" });
    expect((await c.next((m) => m.payload?.code === "ALREADY_AUTHENTICATED")).type).toBe("ack");
    await postEvents([voiceJoined(user(5), ch(3))]);
    await c.next((m) => m.payload?.userId === user(5));
  });
});

describe("broadcast and presence", () => {
  it("delivers one event to many sockets with the same seq and identical bytes", async () => {
    const clients = await Promise.all(Array.from({ length: 60 }, (_, i) => connect({ userId: user(100 + i) })));
    await postEvents([voiceJoined(user(99), ch(4))]);
    const got = await Promise.all(clients.map((c) => c.next((m) => m.payload?.userId === user(99))));
    expect(new Set(got.map((m) => JSON.stringify(m))).size).toBe(1);
    for (const c of clients) c.ws.close(1000);
  });

  it("turns a join into another channel into leave + join, and ignores a repeated join", async () => {
    const c = await connect();
    await postEvents([
      voiceJoined(user(10), ch(5)),
      voiceJoined(user(10), ch(5)),
      voiceJoined(user(10), ch(6)),
      voiceLeft(user(10), ch(6)),
      voiceLeft(user(10), null),
    ]);
    await c.next((m) => m.event === "voice.left" && m.payload.channelId === ch(6));
    await postEvents([voiceJoined(user(11), ch(5))]);
    await c.next((m) => m.payload?.userId === user(11));
    const mine = events(c)
      .filter((m) => m.payload.userId === user(10))
      .map((m) => `${m.event}:${m.payload.channelId}`);
    expect(mine).toEqual([`voice.joined:${ch(5)}`, `voice.left:${ch(5)}`, `voice.joined:${ch(6)}`, `voice.left:${ch(6)}`]);
  });

  it("repairs drift from a presence snapshot by broadcasting only the differences", async () => {
    await postEvents([voiceJoined(user(20), ch(7)), voiceJoined(user(21), ch(7))]);
    const c = await connect();
    const snapshot = {
      id: uniqueId("snap"),
      guildId: GUILD_ID,
      event: "presence.snapshot" as const,
      payload: {
        guildId: GUILD_ID,
        voiceStates: [
          ...Object.entries(c.ok.presence as Record<string, string[]>).flatMap(([channelId, users]) =>
            users.filter((u) => u !== user(20) && u !== user(21)).map((userId) => ({ userId, channelId })),
          ),
          { userId: user(21), channelId: ch(8) }, // moved while the sidecar was away
          { userId: user(22), channelId: ch(7) }, // joined while the sidecar was away
        ],
      },
    };
    await postEvents([snapshot]);
    await c.next((m) => m.payload?.userId === user(22));
    expect(events(c).map((m) => `${m.event}:${m.payload.userId}:${m.payload.channelId}`)).toEqual([
      `voice.left:${user(20)}:${ch(7)}`,
      `voice.left:${user(21)}:${ch(7)}`,
      `voice.joined:${user(21)}:${ch(8)}`,
      `voice.joined:${user(22)}:${ch(7)}`,
    ]);
  });
});

describe("batch frames", () => {
  it("sends a client that asked for batches one frame per post, and others one message per event", async () => {
    const batched = await connect({ batch: true });
    const single = await connect();
    await postEvents([voiceJoined(user(80), ch(1)), voiceJoined(user(81), ch(1)), voiceJoined(user(82), ch(1))]);
    const frame = await batched.next((m) => m.type === "batch");
    expect(frame.events.map((e: any) => e.seq)).toEqual([batched.ok.seq + 1, batched.ok.seq + 2, batched.ok.seq + 3]);
    expect(frame.events.map((e: any) => e.payload.userId)).toEqual([user(80), user(81), user(82)]);
    await single.next((m) => m.payload?.userId === user(82));
    expect(events(single).map((m) => m.payload.userId)).toEqual([user(80), user(81), user(82)]);
    expect(batched.messages.filter((m) => m.type === "batch")).toHaveLength(1);
    expect(batched.messages.filter((m) => m.type === "event")).toHaveLength(0);
  });

  it("replays a resume as batch frames for a batching client", async () => {
    const first = await connect({ batch: true });
    first.ws.close(1000);
    await first.closed;
    await postEvents([voiceJoined(user(83), ch(2))]);
    await postEvents([voiceLeft(user(83), ch(2))]);
    const again = await connect({ batch: true, resume: { seq: first.ok.seq, epoch: first.ok.epoch } });
    const frame = await again.next((m) => m.type === "batch");
    expect(frame.events.map((e: any) => `${e.seq}:${e.event}`)).toEqual([`${first.ok.seq + 1}:voice.joined`, `${first.ok.seq + 2}:voice.left`]);
  });
});

describe("closing", () => {
  it("completes the closing handshake when a client leaves (the client sees 1000, not 1006)", async () => {
    const c = await connect();
    c.ws.close(1000, "bye");
    const started = Date.now();
    expect((await c.closed).code).toBe(1000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("resume", () => {
  it("replays exactly the missed events, in order, after a reconnect", async () => {
    const first = await connect();
    const { seq, epoch } = first.ok;
    first.ws.close(1000);
    await first.closed;
    await postEvents([voiceJoined(user(30), ch(1)), voiceJoined(user(31), ch(1)), voiceLeft(user(30), ch(1))]);
    const again = await connect({ resume: { seq, epoch } });
    expect(again.ok.resumed).toBe(true);
    await again.next((m) => m.event === "voice.left" && m.payload.userId === user(30));
    const replayed = events(again);
    expect(replayed.map((m) => m.seq)).toEqual([seq + 1, seq + 2, seq + 3]);
    expect(replayed.map((m) => m.event)).toEqual(["voice.joined", "voice.joined", "voice.left"]);
  });

  it("sends a fresh snapshot instead when the resume point is from another epoch or in the future", async () => {
    const c = await connect();
    const otherEpoch = await connect({ resume: { seq: c.ok.seq, epoch: "some-old-epoch" } });
    expect(otherEpoch.ok.resumed).toBe(false);
    const future = await connect({ resume: { seq: c.ok.seq + 1000, epoch: c.ok.epoch } });
    expect(future.ok.resumed).toBe(false);
    expect(events(future)).toHaveLength(0);
  });

  it("sends a fresh snapshot when the gap is older than the history kept", async () => {
    const before = await connect();
    await runInDurableObject(hub(), (_inst, state) => {
      state.storage.sql.exec("DELETE FROM events WHERE seq <= ?", before.ok.seq + 1);
    });
    await postEvents([voiceJoined(user(40), ch(2)), voiceJoined(user(41), ch(2))]);
    const late = await connect({ resume: { seq: before.ok.seq - 1, epoch: before.ok.epoch } });
    expect(late.ok.resumed).toBe(false);
    expect(late.ok.presence[ch(2)]).toEqual(expect.arrayContaining([user(40), user(41)]));
  });
});

describe("durability", () => {
  it("keeps seq, epoch and presence when the object is evicted and restarted", async () => {
    await postEvents([voiceJoined(user(50), ch(9))]);
    const before = await connect();
    before.ws.close(1000);
    await evictDurableObject(hub());
    const after = await connect();
    expect(after.ok.epoch).toBe(before.ok.epoch);
    expect(after.ok.seq).toBe(before.ok.seq);
    expect(after.ok.presence[ch(9)]).toContain(user(50));
    await postEvents([voiceJoined(user(51), ch(9))]);
    const next = await after.next((m) => m.payload?.userId === user(51));
    expect(next.seq).toBe(before.ok.seq + 1);
  });

  it("keeps authenticated sockets across hibernation: they still receive events", async () => {
    const c = await connect();
    await evictDurableObject(hub(), { webSockets: "hibernate" });
    await postEvents([voiceJoined(user(60), ch(3))]);
    const m = await c.next((m) => m.payload?.userId === user(60));
    expect(m.seq).toBe(c.ok.seq + 1);
    c.send({ type: "ack", seq: m.seq });
  });
});

describe("slow consumers", () => {
  const churn = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) =>
      i % 2 === 0 ? voiceJoined(user(1000 + ((offset + i) % 50)), ch(1)) : voiceLeft(user(1000 + ((offset + i - 1) % 50)), ch(1)),
    );

  it(`closes a client more than ${MAX_CLIENT_LAG} events behind its acks, and keeps one that acks`, async () => {
    const slow = await connect();
    const fast = await connect();
    let sent = 0;
    for (const n of [250, 250, 2, 2]) {
      await postEvents(churn(n, sent));
      sent += n;
      const last = await fast.next((m) => m.type === "event" && m.seq === fast.ok.seq + sent);
      fast.send({ type: "ack", seq: last.seq });
      await fast.next((m) => m.type === "event", 50).catch(() => {}); // let the ack land
    }
    const closed = await slow.closed;
    expect(closed.code).toBe(CloseCodes.SlowConsumer);
    expect(closed.reason).toMatch(/resume/);
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("does not take a client that kept up for a slow consumer after the object hibernated (acks live in memory)", async () => {
    const c = await connect();
    let sent = 0;
    for (const n of [250, 250, 250]) {
      await postEvents(churn(n, sent));
      sent += n;
      const last = await c.next((m) => m.type === "event" && m.seq === c.ok.seq + sent);
      c.send({ type: "ack", seq: last.seq });
    }
    await c.next((m) => m.type === "event", 50).catch(() => {}); // let the last ack land
    await evictDurableObject(env.GUILD_HUB.getByName(GUILD_ID), { webSockets: "hibernate" });
    await postEvents([voiceJoined(user(1998), ch(2))]);
    await c.next((m) => m.payload?.userId === user(1998));
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("does not count a batch still being broadcast against a client: one full batch of 500 is fine", async () => {
    const c = await connect();
    await postEvents(churn(40, 0)); // received but not yet acknowledged: a normal client's state
    await c.next((m) => m.type === "event" && m.seq === c.ok.seq + 40);
    await postEvents(churn(500, 40));
    const last = await c.next((m) => m.type === "event" && m.seq === c.ok.seq + 540);
    c.send({ type: "ack", seq: last.seq });
    await postEvents([voiceJoined(user(1999), ch(2))]);
    await c.next((m) => m.payload?.userId === user(1999));
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe("alarm", () => {
  it("is idempotent: running it again with nothing due closes nobody", async () => {
    const c = await connect();
    await runDurableObjectAlarm(hub());
    await runDurableObjectAlarm(hub());
    await postEvents([voiceJoined(user(70), ch(1))]);
    await c.next((m) => m.payload?.userId === user(70));
  });
});
