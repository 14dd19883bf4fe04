/**
 * Proof with a real client: @discordjs/rest (unmodified) against the simulator's REST API. It must
 * succeed, retry what Discord says to retry, and wait on the buckets the headers announce.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DiscordAPIError, REST } from "@discordjs/rest";
import { ChannelType, OverwriteType, Routes, type APIGuildVoiceChannel } from "discord-api-types/v10";
import { DEMO_CHANNELS, DEMO_GUILD_ID, startSimulator, type LocalDiscord } from "../src/index.ts";

let sim: LocalDiscord;
let rest: REST;

beforeEach(async () => {
  sim = await startSimulator();
  rest = new REST({ api: sim.apiRoot }).setToken(sim.botToken);
});

afterEach(async () => {
  await sim.close();
});

describe("@discordjs/rest against the simulator", () => {
  it("creates a voice room under a category and deletes it, with an audit-log reason", async () => {
    const channel = (await rest.post(Routes.guildChannels(DEMO_GUILD_ID), {
      body: {
        name: "Table 3",
        type: ChannelType.GuildVoice,
        user_limit: 4,
        parent_id: DEMO_CHANNELS.gameRooms,
        permission_overwrites: [{ id: DEMO_GUILD_ID, type: OverwriteType.Role, deny: "1024" }],
      },
      reason: "room for alice & bob",
    })) as APIGuildVoiceChannel;
    expect(channel).toMatchObject({ name: "Table 3", user_limit: 4, parent_id: DEMO_CHANNELS.gameRooms });
    const deleted = (await rest.delete(Routes.channel(channel.id), { reason: "room ended" })) as APIGuildVoiceChannel;
    expect(deleted.id).toBe(channel.id);
    expect(sim.requests().map((r) => r.auditLogReason)).toEqual(["room for alice & bob", "room ended"]);
  });

  it("surfaces Discord errors as DiscordAPIError with code and field errors", async () => {
    const error = await rest.post(Routes.guildChannels(DEMO_GUILD_ID), { body: { type: ChannelType.GuildVoice } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50035, status: 400, rawError: { errors: { name: { _errors: [{ code: "BASE_TYPE_REQUIRED" }] } } } });
  });

  it("waits on tight route and global limits instead of failing: 20 parallel requests, zero 429s", async () => {
    sim.setRateLimits({ routeLimit: 2, routeWindowMs: 500, globalPerSecond: 10 });
    // Discord never announces the global limit; a client is configured with it.
    rest = new REST({ api: sim.apiRoot, globalRequestsPerSecond: 10 }).setToken(sim.botToken);
    const started = Date.now();
    const calls = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? rest.post(Routes.channelMessages(i % 4 === 0 ? DEMO_CHANNELS.general : DEMO_CHANNELS.lobby), { body: { content: `message ${i}` } })
        : rest.post(Routes.channelTyping(i % 4 === 1 ? DEMO_CHANNELS.general : DEMO_CHANNELS.lobby)),
    );
    await Promise.all(calls);
    const statuses = sim.requests().map((r) => r.status);
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    expect(statuses).toHaveLength(20);
    // 4 buckets of 5 requests at 2 per 500 ms: at least two full windows of waiting.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("retries a 5xx and waits out a shared 429 from failNext", async () => {
    sim.failNext(2, 502, /gateway/);
    sim.failNext(1, 429, /typing/, 1);
    expect(await rest.get(Routes.gatewayBot())).toMatchObject({ url: sim.gatewayUrl });
    await rest.post(Routes.channelTyping(DEMO_CHANNELS.general));
    expect(sim.requests().map((r) => r.status)).toEqual([502, 502, 200, 429, 204]);
  });
});
