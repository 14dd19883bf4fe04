import { describe, expect, it } from "vitest";
import type { VoiceFlags, VoiceMember } from "@spell-coven/common";
import { applyFlags, applyJoin, applyLeave, applySnapshot, type VoicePresence } from "../../src/hub/modules/presence/apply-voice.ts";

const G = "100000000000000001";

class MemoryPresence implements VoicePresence {
  readonly map = new Map<string, string>();
  channelOf = (u: string) => this.map.get(u);
  setVoice = (u: string, c: string) => void this.map.set(u, c);
  clearVoice = (u: string) => void this.map.delete(u);
  voiceMembers = (): VoiceMember[] => [...this.map].map(([userId, channelId]) => ({ userId, channelId }));
  readonly flags = new Map<string, VoiceFlags>();
  flagsOf = (u: string) => this.flags.get(u) ?? NONE;
  setFlags = (u: string, f: VoiceFlags) => void this.flags.set(u, f);
}
// The real store resets flags on a join and drops them on a leave; so does this one.
class FlagClearingPresence extends MemoryPresence {
  override setVoice = (u: string, c: string) => void (this.map.set(u, c), this.flags.delete(u));
  override clearVoice = (u: string) => void (this.map.delete(u), this.flags.delete(u));
}

const NONE: VoiceFlags = { selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false };
const flags = (userId: string, channelId: string, f: Partial<VoiceFlags>) => ({ guildId: G, channelId, userId, ...NONE, ...f });
const summary = (events: { event: string; payload: object }[]) =>
  events.map((e) => {
    const p = e.payload as Partial<VoiceFlags> & { userId: string; channelId: string | null };
    const set = (["selfMute", "selfDeaf", "serverMute", "serverDeaf"] as const).filter((k) => p[k]).join("+");
    return `${e.event}:${p.userId}:${p.channelId}${e.event === "voice.flags" ? `:${set || "none"}` : ""}`;
  });

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

  it("flags are published when they change, not when repeated; a report for someone not there joins them first", () => {
    const p = new FlagClearingPresence();
    applyJoin(p, G, "1", "10");
    expect(summary(applyFlags(p, G, flags("1", "10", { selfMute: true })))).toEqual(["voice.flags:1:10:selfMute"]);
    expect(applyFlags(p, G, flags("1", "10", { selfMute: true }))).toEqual([]);
    expect(summary(applyFlags(p, G, flags("1", "10", {})))).toEqual(["voice.flags:1:10:none"]);
    // The join was lost (an outage): the flags say where the user is, so the join comes first; a move too.
    expect(summary(applyFlags(p, G, flags("2", "10", { serverDeaf: true })))).toEqual(["voice.joined:2:10", "voice.flags:2:10:serverDeaf"]);
    expect(summary(applyFlags(p, G, flags("2", "11", { serverDeaf: true })))).toEqual(["voice.left:2:10", "voice.joined:2:11", "voice.flags:2:11:serverDeaf"]);
    // Leaving forgets them: back in voice, the user has none until told.
    applyLeave(p, G, "2");
    applyJoin(p, G, "2", "10");
    expect(p.flagsOf("2")).toEqual(NONE);
  });

  it("a snapshot with flags sets everyone's (none for those it leaves out); one without keeps them", () => {
    const p = new FlagClearingPresence();
    applyJoin(p, G, "muted", "10");
    applyFlags(p, G, flags("muted", "10", { selfMute: true }));
    applyJoin(p, G, "deaf", "10");
    applyFlags(p, G, flags("deaf", "10", { selfDeaf: true }));
    const states = [
      { userId: "muted", channelId: "10" },
      { userId: "deaf", channelId: "10" },
      { userId: "new", channelId: "12" },
    ];
    const entry = (userId: string, f: Partial<VoiceFlags>) => ({ userId, ...NONE, ...f });
    expect(summary(applySnapshot(p, G, states))).toEqual(["voice.joined:new:12"]);
    expect(p.flagsOf("muted").selfMute).toBe(true);
    const out = applySnapshot(p, G, states, [
      entry("deaf", { selfDeaf: true, serverMute: true }),
      entry("new", { serverMute: true }),
      entry("nobody", { selfMute: true }),
    ]);
    expect(summary(out)).toEqual(["voice.flags:muted:10:none", "voice.flags:deaf:10:selfDeaf+serverMute", "voice.flags:new:12:serverMute"]);
    expect(p.flags.has("nobody")).toBe(false);
    expect(applySnapshot(p, G, states, [entry("deaf", { selfDeaf: true, serverMute: true }), entry("new", { serverMute: true })])).toEqual([]);
  });
});
