/** The presence store and the dropout detector alone: seq verdicts, snapshots vs resumes, transitions. */
import { describe, expect, it } from "vitest";
import type { AuthOk, EventEnvelope, VoiceFlags } from "@spell-coven/common";
import { PresenceStore, muteState } from "../src/presence.ts";
import { DropoutDetector } from "../src/dropout.ts";

const G = "1";
const ok = (o: Partial<AuthOk>): AuthOk => ({
  v: 1,
  type: "ack",
  event: "auth.ok",
  guildId: G,
  userId: "10",
  seq: 0,
  epoch: "e1",
  resumed: false,
  presence: {},
  expiresAt: null,
  maxLag: 500,
  ts: 0,
  ...o,
});
const joined = (seq: number, userId: string, channelId: string) =>
  ({ v: 1, type: "event", event: "voice.joined", payload: { guildId: G, userId, channelId }, ts: 0, seq }) as EventEnvelope;
const left = (seq: number, userId: string, channelId: string | null) =>
  ({ v: 1, type: "event", event: "voice.left", payload: { guildId: G, userId, channelId }, ts: 0, seq }) as EventEnvelope;

describe("PresenceStore", () => {
  it("takes the snapshot, then applies events in seq order; tells next, duplicate and gap apart", () => {
    const p = new PresenceStore();
    expect(p.check(1)).toBe("gap"); // nothing before auth
    expect(p.applyAuth(ok({ seq: 5, presence: { "100": ["11", "12"] } }))).toBe(true);
    expect(p.cursor).toEqual({ seq: 5, epoch: "e1" });
    expect(p.check(5)).toBe("duplicate");
    expect(p.check(7)).toBe("gap");
    expect(p.check(6)).toBe("next");
    expect(p.apply(joined(6, "13", "100"))).toBe(true);
    expect(p.apply(left(7, "11", "100"))).toBe(true);
    expect(p.apply(joined(8, "12", "200"))).toBe(true); // a move: the hub sends left first, but a lone join also moves
    expect(p.toJSON()).toEqual({ "100": ["13"], "200": ["12"] });
    expect(p.channelOf("12")).toBe("200");
    expect(p.cursor?.seq).toBe(8);
    expect(p.apply(joined(9, "12", "200"))).toBe(false); // already there
    expect(p.apply(left(10, "99", null))).toBe(false); // not in voice
    expect(p.cursor?.seq).toBe(10);
  });

  it("keeps what it holds on a resumed auth.ok and replaces it on a fresh snapshot", () => {
    const p = new PresenceStore();
    p.applyAuth(ok({ seq: 3, presence: { "100": ["11"] } }));
    p.apply(joined(4, "12", "100"));
    // resumed: the hub will replay 5.. after our cursor 4, whatever its own seq
    expect(p.applyAuth(ok({ seq: 9, resumed: true, presence: { "300": ["99"] } }))).toBe(false);
    expect(p.cursor).toEqual({ seq: 4, epoch: "e1" });
    expect(p.toJSON()).toEqual({ "100": ["11", "12"] });
    // not resumed (history gone, or another epoch): the snapshot is the truth
    expect(p.applyAuth(ok({ seq: 50, epoch: "e2", presence: { "300": ["99"] } }))).toBe(true);
    expect(p.cursor).toEqual({ seq: 50, epoch: "e2" });
    expect(p.toJSON()).toEqual({ "300": ["99"] });
  });

  it("returns the same frozen view until something changes", () => {
    const p = new PresenceStore();
    p.applyAuth(ok({ presence: { "100": ["11"] } }));
    const a = p.toJSON();
    expect(p.toJSON()).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    p.apply(joined(1, "12", "100"));
    expect(p.toJSON()).not.toBe(a);
  });
});

describe("PresenceStore: mute and deafen flags", () => {
  const NONE: VoiceFlags = { selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false };
  const flags = (seq: number, userId: string, channelId: string, f: Partial<VoiceFlags>) =>
    ({ v: 1, type: "event", event: "voice.flags", payload: { guildId: G, userId, channelId, ...NONE, ...f }, ts: 0, seq }) as EventEnvelope;

  it("takes them from the snapshot, follows voice.flags, and forgets them on a leave or a move", () => {
    const p = new PresenceStore();
    p.applyAuth(ok({ seq: 1, presence: { "100": ["11", "12"] }, voiceFlags: [{ userId: "11", ...NONE, selfMute: true }] }));
    expect(p.flagsOf("11")).toEqual({ ...NONE, selfMute: true });
    expect(p.flagsOf("12")).toEqual(NONE);
    // A flags change is not a presence change (who is where), but the flags view moves.
    const before = p.flagsJSON();
    expect(p.apply(flags(2, "12", "100", { serverDeaf: true }))).toBe(false);
    expect(p.flagsJSON()).not.toBe(before);
    expect(p.flagsJSON()).toEqual({ "11": { ...NONE, selfMute: true }, "12": { ...NONE, serverDeaf: true } });
    expect(Object.isFrozen(p.flagsJSON())).toBe(true);
    expect(p.cursor?.seq).toBe(2);
    const same = p.flagsJSON();
    p.apply(flags(3, "12", "100", { serverDeaf: true })); // the same again
    expect(p.flagsJSON()).toBe(same);
    p.apply(flags(4, "11", "100", {})); // unmuted
    expect(p.flagsJSON()).toEqual({ "12": { ...NONE, serverDeaf: true } });
    p.apply(left(5, "12", "100"));
    expect(p.flagsOf("12")).toEqual(NONE);
    p.apply(flags(6, "11", "100", { selfDeaf: true }));
    p.apply(joined(7, "11", "200")); // a lone join moves, and the stay's flags go with the old channel
    expect(p.flagsJSON()).toEqual({});
    p.apply(flags(8, "99", "100", { selfMute: true })); // not in voice here: not kept
    expect(p.flagsOf("99")).toEqual(NONE);
  });

  it("keeps its flags on a resume, replaces them on a fresh snapshot, and an old hub's auth.ok clears them", () => {
    const p = new PresenceStore();
    p.applyAuth(ok({ seq: 1, presence: { "100": ["11"] }, voiceFlags: [{ userId: "11", ...NONE, selfMute: true }] }));
    expect(p.applyAuth(ok({ seq: 1, resumed: true, presence: { "100": ["11"] } }))).toBe(false);
    expect(p.flagsOf("11").selfMute).toBe(true);
    p.applyAuth(ok({ seq: 9, epoch: "e2", presence: { "100": ["11"] }, voiceFlags: [{ userId: "11", ...NONE, serverMute: true }] }));
    expect(p.flagsOf("11")).toEqual({ ...NONE, serverMute: true });
    p.applyAuth(ok({ seq: 20, epoch: "e3", presence: { "100": ["11"] } }));
    expect(p.flagsJSON()).toEqual({});
  });

  it("says deafened over muted, and nothing when neither", () => {
    expect(muteState(NONE)).toBeNull();
    expect(muteState({ ...NONE, selfMute: true })).toBe("muted");
    expect(muteState({ ...NONE, serverMute: true })).toBe("muted");
    expect(muteState({ ...NONE, selfMute: true, serverDeaf: true })).toBe("deafened");
    expect(muteState({ ...NONE, selfDeaf: true })).toBe("deafened");
  });
});

describe("DropoutDetector", () => {
  it("reports leaving the room's voice channel once, and the return", () => {
    const d = new DropoutDetector();
    d.setUser("10");
    expect(d.update("100")).toBeNull(); // no room yet
    d.setRoom("100", null);
    expect(d.status).toBe("waiting");
    expect(d.update("200")).toBeNull(); // elsewhere, never was in the room's channel
    expect(d.update("100")).toBeNull(); // first arrival is not a "rejoin"
    expect(d.status).toBe("in-voice");
    expect(d.update(null)).toEqual({ kind: "dropout", info: { channelId: "100", nowIn: null } });
    expect(d.update(null)).toBeNull();
    expect(d.update("100")).toEqual({ kind: "rejoined", channelId: "100" });
    d.setRoom(null, "100");
    expect(d.update(null)).toBeNull();
    expect(d.status).toBe("none");
  });
});
