import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { MAX_INTERNAL_BODY_BYTES, signHubRequest } from "@spell-coven/common";
import { GUILD_ID, OTHER_GUILD_ID, connect, events, postEvents, postSigned, request, uniqueId, voiceJoined } from "./helpers.ts";

const USER = "300000000000000001";
const CHANNEL = "400000000000000001";

describe("POST /api/internal/events", () => {
  it("accepts a signed batch and broadcasts each event once, in order", async () => {
    const client = await connect();
    const batch = [voiceJoined(USER, CHANNEL), voiceJoined("300000000000000002", CHANNEL)];
    const res = await postEvents(batch);
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(body.requestId).toBeTruthy();
    await client.next((m) => m.payload?.userId === "300000000000000002");
    const got = events(client).filter((m) => m.event === "voice.joined");
    expect(got.map((m) => m.payload.userId)).toEqual([USER, "300000000000000002"]);
    expect(got[1].seq).toBe(got[0].seq + 1);
    expect(got[0]).toMatchObject({ v: 1, type: "event", payload: { guildId: GUILD_ID, channelId: CHANNEL } });
  });

  it("applies a retried post once: same ids are counted as duplicates and not re-broadcast", async () => {
    const client = await connect();
    const batch = [voiceJoined("300000000000000011", CHANNEL)];
    expect(await (await postEvents(batch)).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await (await postEvents(batch)).json()).toMatchObject({ accepted: 0, duplicates: 1 });
    await client.next((m) => m.payload?.userId === "300000000000000011");
    // a later event proves the socket is live; the duplicate must not have arrived before it
    await postEvents([voiceJoined("300000000000000012", CHANNEL)]);
    await client.next((m) => m.payload?.userId === "300000000000000012");
    expect(events(client).filter((m) => m.payload.userId === "300000000000000011")).toHaveLength(1);
  });

  it("routes events of several served guilds to each guild's own hub", async () => {
    const a = await connect();
    const b = await connect({ guildId: OTHER_GUILD_ID });
    await postEvents([voiceJoined("300000000000000021", CHANNEL), voiceJoined("300000000000000022", CHANNEL, OTHER_GUILD_ID)]);
    await a.next((m) => m.payload?.userId === "300000000000000021");
    await b.next((m) => m.payload?.userId === "300000000000000022");
    expect(events(a).some((m) => m.payload.userId === "300000000000000022")).toBe(false);
    expect(events(b).some((m) => m.payload.userId === "300000000000000021")).toBe(false);
  });

  describe("rejects, with a stable code and nothing applied", () => {
    const body = () => JSON.stringify({ events: [voiceJoined("300000000000000031", CHANNEL)] });
    const expectRejected = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      const json = await res.json<any>();
      expect(json.error.code).toBe(code);
      expect(json.error.message.length).toBeGreaterThan(10);
      expect(json.error.requestId).toBeTruthy();
    };

    it("a missing signature", async () => {
      await expectRejected(await request("/api/internal/events", { method: "POST", body: body() }), 401, "SIGNATURE_MISSING");
    });

    it("a signature made with another secret", async () => {
      await expectRejected(await postSigned(body(), { secret: "not-the-hub-secret-at-all!!" }), 401, "SIGNATURE_INVALID");
    });

    it("a signature over a different body (tampering)", async () => {
      const headers = await signHubRequest(env.HUB_SECRET!, body());
      const tampered = JSON.stringify({ events: [voiceJoined("300000000000000099", CHANNEL)] });
      await expectRejected(await request("/api/internal/events", { method: "POST", body: tampered, headers }), 401, "SIGNATURE_INVALID");
    });

    it("a malformed signature header", async () => {
      const headers = { ...(await signHubRequest(env.HUB_SECRET!, body())), "X-Hub-Signature": "md5=abc" };
      await expectRejected(await request("/api/internal/events", { method: "POST", body: body(), headers }), 401, "SIGNATURE_MALFORMED");
    });

    it("a timestamp more than 60 s old (a replayed capture) or in the future", async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectRejected(await postSigned(body(), { nowSeconds: now - 61 }), 401, "TIMESTAMP_STALE");
      await expectRejected(await postSigned(body(), { nowSeconds: now + 61 }), 401, "TIMESTAMP_STALE");
      expect((await postSigned(body(), { nowSeconds: now - 30 })).status).toBe(200);
    });

    it("a body that is not JSON", async () => {
      await expectRejected(await postSigned("{not json"), 400, "INVALID_JSON");
    });

    it("events that fail the schema, naming the field", async () => {
      const bad = { events: [{ id: uniqueId(), guildId: GUILD_ID, event: "voice.joined", payload: { guildId: GUILD_ID, userId: "abc" } }] };
      const res = await postEvents(bad);
      await expectRejected(res.clone(), 400, "VALIDATION_FAILED");
      const details = (await res.json<any>()).error.details as { path: string }[];
      expect(details.map((d) => d.path)).toEqual(expect.arrayContaining(["events.0.payload.userId", "events.0.payload.channelId"]));
      await expectRejected(await postEvents({ events: [] }), 400, "VALIDATION_FAILED");
      await expectRejected(await postEvents({ events: [{ ...voiceJoined(USER, CHANNEL), event: "guild.nuked" }] }), 400, "VALIDATION_FAILED");
      const mismatched = voiceJoined(USER, CHANNEL);
      mismatched.payload.guildId = OTHER_GUILD_ID;
      await expectRejected(await postEvents([mismatched]), 400, "VALIDATION_FAILED");
    });

    it("an event for a guild this Worker does not serve", async () => {
      await expectRejected(await postEvents([voiceJoined(USER, CHANNEL, "999999999999999999")]), 403, "FORBIDDEN");
    });

    it("an oversized body, by declared length and by actual bytes", async () => {
      const big = "x".repeat(MAX_INTERNAL_BODY_BYTES + 1);
      await expectRejected(await postSigned(big), 413, "BODY_TOO_LARGE");
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode("y".repeat(MAX_INTERNAL_BODY_BYTES / 2)));
          controller.close();
        },
      });
      const headers = await signHubRequest(env.HUB_SECRET!, "irrelevant");
      await expectRejected(
        await request("/api/internal/events", { method: "POST", body: stream, headers, duplex: "half" } as RequestInit),
        413,
        "BODY_TOO_LARGE",
      );
    });
  });
});
