import { describe, expect, it } from "vitest";
import { GUILD_ID, chatMessagePayload, mintToken, postEvents, request, voiceJoined } from "./helpers.ts";
import { createRoom, newPlayer } from "./rooms-helpers.ts";

const ch = "4400000000000000001";
const user = (n: number) => `34000000000000${String(n).padStart(4, "0")}`;

async function ticketFor(userId: string, claims = {}): Promise<{ ticket: string; url: string; expiresAt: number }> {
  const res = await request("/api/stream/ticket", { method: "POST", headers: { Authorization: `Bearer ${await mintToken(userId, claims)}` } });
  expect(res.status).toBe(201);
  return res.json();
}

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: number;
}

/** Reads an SSE response as a browser would, message by message. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: SseMessage[] = [];
  let buffer = "";
  let done = false;
  const pump = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return void (done = true);
      buffer += value;
      let i: number;
      while ((i = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const m: SseMessage = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) m.comment = line.slice(1).trim();
          else {
            const [field, ...rest] = line.split(": ");
            const value = rest.join(": ");
            if (field === "retry") m.retry = Number(value);
            else (m as Record<string, string>)[field!] = value;
          }
        }
        messages.push(m);
      }
    }
  })();
  return {
    messages,
    get done() {
      return done;
    },
    async next(match: (m: SseMessage) => boolean, timeoutMs = 5_000): Promise<SseMessage> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(match);
        if (found) return found;
        if (done || Date.now() > deadline) throw new Error(`no matching SSE message; got ${JSON.stringify(messages).slice(0, 400)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    cancel: () =>
      reader
        .cancel()
        .catch(() => {})
        .then(() => pump.catch(() => {})),
  };
}
const events = (s: ReturnType<typeof sseReader>) => s.messages.filter((m) => m.event && m.event !== "ready" && m.event !== "resync");

describe("GET /api/stream (SSE)", () => {
  it("streams the same events as /api/ws, each with id <epoch>:<seq>, after a ready with presence", async () => {
    await postEvents([voiceJoined(user(1), ch)]);
    const { url } = await ticketFor(user(9));
    const res = await request(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
    const sse = sseReader(res);
    expect((await sse.next((m) => m.retry !== undefined)).retry).toBeGreaterThan(0);
    const ready = JSON.parse((await sse.next((m) => m.event === "ready")).data!);
    expect(ready).toMatchObject({ event: "auth.ok", userId: user(9), guildId: GUILD_ID });
    expect(ready.presence[ch]).toContain(user(1));
    await postEvents([voiceJoined(user(2), ch)]);
    const joined = await sse.next((m) => m.event === "voice.joined" && m.data!.includes(user(2)));
    const envelope = JSON.parse(joined.data!);
    expect(joined.id).toBe(`${ready.epoch}:${envelope.seq}`);
    expect(envelope).toMatchObject({ v: 1, type: "event", event: "voice.joined", payload: { userId: user(2), channelId: ch } });
    await sse.cancel();
  });

  it("resumes from Last-Event-ID without a gap or a duplicate; the header wins over the query", async () => {
    const { url } = await ticketFor(user(10));
    const first = sseReader(await request(url));
    const ready = JSON.parse((await first.next((m) => m.event === "ready")).data!);
    await postEvents([voiceJoined(user(11), ch)]);
    const seen = await first.next((m) => m.event === "voice.joined" && m.data!.includes(user(11)));
    await first.cancel(); // the connection drops
    await postEvents([voiceJoined(user(12), ch), voiceJoined(user(13), ch)]); // missed meanwhile
    const again = sseReader(await request(`${url}&lastEventId=${ready.epoch}:0`, { headers: { "Last-Event-ID": seen.id! } }));
    const resumed = await again.next((m) => m.event === "ready");
    expect(JSON.parse(resumed.data!).resumed).toBe(true);
    await again.next((m) => m.event === "voice.joined" && m.data!.includes(user(13)));
    const got = events(again).map((m) => JSON.parse(m.data!).payload.userId);
    expect(got).toEqual([user(12), user(13)]);
    await again.cancel();
  });

  it("an event for other players only (a private table's chat) is a skip with its id: the cursor moves past it, nothing of it is sent", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Stream Secret", private: true })).json<any>();
    const { url } = await ticketFor(user(18));
    const sse = sseReader(await request(url));
    const ready = JSON.parse((await sse.next((m) => m.event === "ready")).data!);
    const payload = chatMessagePayload(room.channelId, { content: "not for the stream", contentAvailable: true });
    await postEvents([{ id: `m:${crypto.randomUUID()}`, guildId: GUILD_ID, event: "message.created", payload }, voiceJoined(user(19), ch)]);
    const after = await sse.next((m) => m.event === "voice.joined" && m.data!.includes(user(19)));
    const skip = await sse.next((m) => m.event === "skip");
    const frame = JSON.parse(skip.data!);
    expect(frame).toMatchObject({ v: 1, type: "skip" });
    expect(skip.id).toBe(`${ready.epoch}:${frame.seq}`);
    expect(JSON.parse(after.data!).seq).toBe(frame.seq + 1);
    expect(JSON.stringify(sse.messages)).not.toContain("not for the stream");
    await sse.cancel();
  });

  it("a cursor the hub no longer holds gets resync with a fresh snapshot", async () => {
    const { url } = await ticketFor(user(14));
    const sse = sseReader(await request(`${url}&lastEventId=${encodeURIComponent("some-old-epoch:5")}`));
    const resync = await sse.next((m) => m.event === "resync");
    expect(JSON.parse(resync.data!)).toMatchObject({ event: "auth.ok", resumed: false, presence: expect.any(Object) });
    await sse.cancel();
  });

  it("sends heartbeat comments while nothing happens", async () => {
    const { url } = await ticketFor(user(15));
    const sse = sseReader(await request(url));
    await sse.next((m) => m.comment === "heartbeat", 3_000); // STREAM_HEARTBEAT_MS is 300 in tests
    await sse.cancel();
  });

  it("answers 204, never an error status, to a bad, forged or expired ticket, so EventSource stops and the client gets a new one", async () => {
    const { ticket } = await ticketFor(user(16));
    const [v, payload, mac] = ticket.split(".");
    const forged = `${v}.${btoa(JSON.stringify({ u: user(99), g: GUILD_ID, exp: Date.now() + 9e6 })).replace(/=+$/, "")}.${mac}`;
    for (const t of ["", "garbage", forged, `${v}.${payload}.${mac!.slice(0, -2)}xx`]) {
      const res = await request(`/api/stream?ticket=${encodeURIComponent(t)}`);
      expect(res.status, t.slice(0, 20)).toBe(204);
    }
    const shortLived = await ticketFor(user(17), { expiresIn: "2s" });
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await request(shortLived.url)).status).toBe(204);
  });

  it("a ticket needs a valid JWT, and lives no longer than it", async () => {
    const res = await request("/api/stream/ticket", { method: "POST" });
    expect(res.status).toBe(401);
    const jwt = await mintToken(user(18), { expiresIn: "5m" });
    const t = await (await request("/api/stream/ticket", { method: "POST", headers: { Authorization: `Bearer ${jwt}` } })).json<any>();
    expect(t.expiresAt - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    expect(t.url).not.toContain(jwt.split(".")[2]); // the JWT itself never goes in a URL
    expect(t.url).not.toContain(jwt.split(".")[1]);
  });

  it("ends the stream when the ticket's time is up (the hub closes the bridge), so EventSource reconnects", async () => {
    const { url } = await ticketFor(user(19), { expiresIn: "2s" });
    const sse = sseReader(await request(url));
    await sse.next((m) => m.event === "ready");
    const deadline = Date.now() + 6_000;
    while (!sse.done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(sse.done).toBe(true);
  }, 10_000);
});
