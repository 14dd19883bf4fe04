/**
 * Table chat dispatches (ENABLE_MESSAGE_EVENTS): messages, edits, deletes, reactions and typing of
 * voice channels reach the hub trimmed, honest about withheld content, each with the trace id
 * started when its dispatch arrived (also sent as the post's traceparent); and the latency
 * histograms fill.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { allReady, startHarness, until, type Harness } from "./helpers/harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
const G = DEMO_GUILD_ID;
const V = DEMO_CHANNELS.table1;

describe("message events", () => {
  it("text in a voice channel: created, updated, reactions, typing, bulk delete; text channels are not forwarded", async () => {
    h = await startHarness({ config: { enableMessageEvents: true } });
    const hub = h.hub;
    await until(() => allReady(h!), 8000, "ready");
    h.sim.postMessage(DEMO_CHANNELS.general, DEMO_USERS.bob, "not a table");
    const m = h.sim.postMessage(V, DEMO_USERS.bob, "my secret plan");
    h.sim.editMessage(V, m.id, "my edited plan");
    h.sim.addReaction(V, m.id, DEMO_USERS.alice, "👍🏽");
    h.sim.addReaction(V, m.id, DEMO_USERS.bob, "dragon:123456789012345678");
    h.sim.removeReaction(V, m.id, DEMO_USERS.bob, "dragon:123456789012345678");
    h.sim.startTyping(V, DEMO_USERS.alice);
    const other = h.sim.postMessage(V, DEMO_USERS.alice, "x");
    h.sim.bulkDeleteMessages(V, [m.id, other.id]);
    await hub.waitFor(() => hub.ofType("message.deleted").length === 1, 8000, "the bulk delete");
    const chat = hub.events.filter((e) => e.event.startsWith("message.") || e.event === "typing.started");
    expect(chat.map((e) => e.event)).toEqual([
      "message.created",
      "message.updated",
      "message.reaction.added",
      "message.reaction.added",
      "message.reaction.removed",
      "typing.started",
      "message.created",
      "message.deleted",
    ]);
    const [created] = hub.ofType("message.created");
    // No MESSAGE_CONTENT intent: Discord sends the content empty, and the payload says so.
    expect(created!.payload).toMatchObject({
      guildId: G,
      channelId: V,
      messageId: m.id,
      content: "",
      contentAvailable: false,
      author: { id: DEMO_USERS.bob, bot: false },
      attachments: 0,
      nonce: null,
    });
    expect(hub.ofType("message.reaction.added")[0]!.payload).toEqual({
      guildId: G,
      channelId: V,
      messageId: m.id,
      userId: DEMO_USERS.alice,
      emoji: { id: null, name: "👍🏽" },
    });
    expect(hub.ofType("message.reaction.removed")[0]!.payload.emoji).toEqual({ id: "123456789012345678", name: "dragon" });
    expect(hub.ofType("message.deleted")[0]!.payload.messageIds).toEqual([m.id, other.id]);
    expect(hub.ofType("typing.started")[0]!.payload).toMatchObject({ userId: DEMO_USERS.alice, channelId: V });
    // One trace id per dispatch, each different, and posts carry one of theirs as traceparent.
    const traces = chat.map((e) => e.traceId);
    for (const t of traces) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(traces).size).toBe(traces.length);
    expect(hub.traceparents.some((tp) => traces.some((t) => tp.startsWith(`00-${t}-`)))).toBe(true);
    for (const tp of hub.traceparents) expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // Voice events get trace ids too.
    h.sim.joinVoice(G, DEMO_USERS.bob, V);
    await hub.waitFor(() => hub.ofType("voice.joined").length === 1, 8000, "the join");
    expect(hub.ofType("voice.joined")[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);

    const metrics = await (await fetch(`http://127.0.0.1:${h.node.healthPort}/metrics`)).text();
    const count = (name: string) => Number(new RegExp(`^${name}_count (\\d+)`, "m").exec(metrics)?.[1] ?? 0);
    expect(count("gateway_dispatch_to_post_seconds")).toBeGreaterThanOrEqual(chat.length);
    expect(count("gateway_hub_post_duration_seconds")).toBeGreaterThanOrEqual(1);
  });

  it("with MESSAGE_CONTENT_INTENT the content arrives; without ENABLE_MESSAGE_EVENTS nothing does", async () => {
    h = await startHarness({ config: { enableMessageEvents: true, messageContent: true } });
    await until(() => allReady(h!), 8000, "ready");
    h.sim.postMessage(V, DEMO_USERS.bob, "visible plan");
    await h.hub.waitFor(() => h!.hub.ofType("message.created").length === 1, 8000, "the message");
    expect(h.hub.ofType("message.created")[0]!.payload).toMatchObject({ content: "visible plan", contentAvailable: true });
    await h.close();

    h = await startHarness();
    await until(() => allReady(h!), 8000, "ready");
    h.sim.postMessage(V, DEMO_USERS.bob, "unseen");
    h.sim.joinVoice(G, DEMO_USERS.bob, V);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1, 8000, "the join");
    expect(h.hub.events.some((e) => e.event.startsWith("message."))).toBe(false);
  });
});
