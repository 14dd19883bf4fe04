import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { getConfig, type Env } from "../src/env.ts";
import { iceServersFor } from "../src/rtc/ice-servers.ts";
import { env } from "cloudflare:workers";
import { request } from "./helpers.ts";
import { api, createRoom, errorOf, newPlayer } from "./rooms-helpers.ts";

const iceServers = (as: string, channelId: string) => api("GET", `/api/rtc/ice-servers?channelId=${channelId}`, as);

describe("GET /api/rtc/ice-servers", () => {
  it("hands out Cloudflare TURN credentials for a table, without port-53 URLs, with their expiry", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Ice" })).json<any>();
    const res = await iceServers(owner, room.channelId);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await res.json<any>();
    expect(body.source).toBe("cloudflare");
    const urls = body.iceServers.flatMap((s: any) => s.urls);
    expect(urls).toContain("turns:turn.cloudflare.test:443?transport=tcp");
    expect(urls.some((u: string) => u.includes(":53"))).toBe(false);
    expect(body.iceServers[1]).toMatchObject({ username: "user-ttl-3600", credential: "secret-credential" });
    expect(body.expiresAt - Date.now()).toBeGreaterThan(3500_000);
    expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(3600_000);
    // A spectator of a public table may have them too.
    expect((await iceServers(await newPlayer(), room.channelId)).status).toBe(200);
  });

  it("refuses outsiders of private tables, unknown tables and requests without a table or token", async () => {
    const owner = await newPlayer();
    const secret = await (await createRoom(owner, { name: "Private Ice", private: true })).json<any>();
    const outsider = await iceServers(await newPlayer(), secret.channelId);
    expect(outsider.status).toBe(403);
    expect((await errorOf(outsider)).code).toBe("NOT_ROOM_MEMBER");
    expect((await iceServers(owner, secret.channelId)).status).toBe(200);
    expect((await errorOf(await iceServers(owner, "199999999999999999"))).code).toBe("ROOM_NOT_FOUND");
    expect((await errorOf(await api("GET", "/api/rtc/ice-servers", owner))).code).toBe("VALIDATION_FAILED");
    const anonymous = await request(`/api/rtc/ice-servers?channelId=${secret.channelId}`);
    expect(anonymous.status).toBe(401);
  });

  it("says plainly when the TURN service fails, and never leaks the API token", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Ice Fail" })).json<any>();
    await fetch(`${inject("turnApiBase").replace(/\/v1$/, "")}/fail-next`, { method: "POST" });
    const res = await iceServers(owner, room.channelId);
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe("TURN_UNAVAILABLE");
    expect(text).not.toContain("test-turn-api-token");
  });

  it("without TURN: the configured static list, or none for loopback runs", async () => {
    const base = { ...(env as unknown as Env), TURN_KEY_ID: "", TURN_KEY_API_TOKEN: "" };
    const none = await iceServersFor(getConfig({ ...base }));
    expect(none).toEqual({ iceServers: [], expiresAt: null, source: "none" });
    const stat = await iceServersFor(
      getConfig({ ...base, STATIC_ICE_SERVERS: JSON.stringify([{ urls: "stun:stun.example.test:3478" }, { urls: "stun:stun.example.test:53" }]) }),
    );
    expect(stat).toEqual({ iceServers: [{ urls: ["stun:stun.example.test:3478"] }], expiresAt: null, source: "static" });
    expect(() => getConfig({ ...base, STATIC_ICE_SERVERS: "not json" })).toThrow(/STATIC_ICE_SERVERS/);
  });
});
