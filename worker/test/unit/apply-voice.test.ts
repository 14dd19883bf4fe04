import { describe, expect, it } from "vitest";
import type { VoiceMember } from "@spell-coven/common";
import { applyJoin, applyLeave, applySnapshot, type VoicePresence } from "../../src/hub/modules/presence/apply-voice.ts";

const G = "100000000000000001";

class MemoryPresence implements VoicePresence {
  readonly map = new Map<string, string>();
  channelOf = (u: string) => this.map.get(u);
  setVoice = (u: string, c: string) => void this.map.set(u, c);
  clearVoice = (u: string) => void this.map.delete(u);
  voiceMembers = (): VoiceMember[] => [...this.map].map(([userId, channelId]) => ({ userId, channelId }));
}

describe("applying voice reports", () => {
  it("a join yields voice.joined once; a repeated join yields nothing", () => {
    const p = new MemoryPresence();
    expect(applyJoin(p, G, "1", "10")).toEqual([{ event: "voice.joined", payload: { guildId: G, channelId: "10", userId: "1" } }]);
    expect(applyJoin(p, G, "1", "10")).toEqual([]);
  });

  it("a join into another channel is a move: the missing leave comes first", () => {
    const p = new MemoryPresence();
    applyJoin(p, G, "1", "10");
    expect(applyJoin(p, G, "1", "11").map((e) => [e.event, e.payload.channelId])).toEqual([
      ["voice.left", "10"],
      ["voice.joined", "11"],
    ]);
    expect(p.channelOf("1")).toBe("11");
  });

  it("a leave names the channel the hub had, whatever the sender said; a leave for nobody yields nothing", () => {
    const p = new MemoryPresence();
    applyJoin(p, G, "1", "10");
    expect(applyLeave(p, G, "1")).toEqual([{ event: "voice.left", payload: { guildId: G, channelId: "10", userId: "1" } }]);
    expect(applyLeave(p, G, "1")).toEqual([]);
  });

  it("a snapshot yields exactly the leaves, moves and joins that reach it", () => {
    const p = new MemoryPresence();
    applyJoin(p, G, "stays", "10");
    applyJoin(p, G, "gone", "10");
    applyJoin(p, G, "moves", "10");
    const out = applySnapshot(p, G, [
      { userId: "stays", channelId: "10" },
      { userId: "moves", channelId: "12" },
      { userId: "new", channelId: "12" },
    ]).map((e) => `${e.event}:${(e.payload as { userId: string }).userId}:${e.payload.channelId}`);
    expect(out).toEqual(["voice.left:gone:10", "voice.left:moves:10", "voice.joined:moves:12", "voice.joined:new:12"]);
    expect(applySnapshot(p, G, p.voiceMembers())).toEqual([]);
  });
});
