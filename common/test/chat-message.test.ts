/**
 * The one Discord message -> table chat translation (gateway-node's dispatches and the Worker's
 * history alike): what the page shows, withheld content said honestly, reactions bounded.
 */
import { describe, expect, it } from "vitest";
import { ChatHistoryMessage, ChatMessagePayload, MAX_CHAT_REACTIONS, chatEmoji, chatMessage, chatReactionCounts } from "../src/index.ts";

const G = "1060000000000000001";
const base = {
  id: "1060000000000000900",
  channel_id: "1060000000000000203",
  author: { id: "1060000000000000102", username: "bob", global_name: "Bob the Brave", avatar: "a1b2" },
  content: "gg",
  timestamp: "2026-12-01T12:00:00.000Z",
  edited_timestamp: null,
  attachments: [{}, {}],
  embeds: [{ title: "not forwarded" }],
};

describe("chatMessage", () => {
  it("keeps what the page shows, within the schema's bounds", () => {
    const p = chatMessage({ ...base, content: "x".repeat(5000), nonce: 12345, message_reference: { message_id: "1060000000000000899" } }, G, true)!;
    expect(ChatMessagePayload.parse(p)).toEqual(p);
    expect(p).toMatchObject({
      guildId: G,
      messageId: base.id,
      author: { id: base.author.id, username: "bob", displayName: "Bob the Brave", avatar: "a1b2", bot: false },
      contentAvailable: true,
      attachments: 2,
      replyTo: "1060000000000000899",
      nonce: "12345",
      mentionsEveryone: false,
    });
    expect(p.content).toHaveLength(4000);
    expect(JSON.stringify(p)).not.toContain("not forwarded");
  });

  it("empty content without the intent is withheld, not blank; with the intent it is real; webhooks count as bots", () => {
    expect(chatMessage({ ...base, content: "" }, G, false)!.contentAvailable).toBe(false);
    expect(chatMessage({ ...base, content: "" }, G, true)!.contentAvailable).toBe(true);
    expect(chatMessage({ ...base, webhook_id: "1" }, G, true)!.author.bot).toBe(true);
  });

  it("a partial update (no author or no timestamp) gives nothing to show", () => {
    const { author: _a, ...noAuthor } = base;
    expect(chatMessage(noAuthor, G, true)).toBeNull();
    expect(chatMessage({ ...base, timestamp: undefined }, G, true)).toBeNull();
  });
});

describe("chatReactionCounts", () => {
  it("Discord's count per emoji, in Discord's order; custom and animated emoji kept; zero counts dropped", () => {
    const counts = chatReactionCounts([
      { count: 3, emoji: { id: null, name: "👍🏽" } },
      { count: 0, emoji: { id: null, name: "🎲" } },
      { count: 1, emoji: { id: "123456789012345678", name: "dragon", animated: true } },
    ]);
    expect(counts).toEqual([
      { emoji: { id: null, name: "👍🏽" }, count: 3 },
      { emoji: { id: "123456789012345678", name: "dragon", animated: true }, count: 1 },
    ]);
    expect(chatReactionCounts(undefined)).toEqual([]);
  });

  it("at most 20, as the history schema allows", () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ count: i + 1, emoji: { id: String(100000000000000000n + BigInt(i)), name: `e${i}` } }));
    const counts = chatReactionCounts(many);
    expect(counts).toHaveLength(MAX_CHAT_REACTIONS);
    const message = { ...chatMessage(base, G, true)!, reactions: counts };
    expect(ChatHistoryMessage.parse(message).reactions).toHaveLength(20);
  });

  it("emoji names are cut to the schema's 64 characters", () => {
    expect(chatEmoji({ id: null, name: "a".repeat(100) }).name).toHaveLength(64);
    expect(chatEmoji({ id: null, name: null })).toEqual({ id: null, name: null });
  });
});
