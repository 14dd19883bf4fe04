import { describe, expect, it } from "vitest";
import type { Room } from "@spell-coven/common";
import { PresenceStore } from "../src/presence.ts";
import { RoomsState } from "../src/rooms-state.ts";

const room = (channelId: string, members: string[]): Room => ({
  guildId: "1060000000000000001",
  channelId,
  name: `Table ${channelId}`,
  creatorId: members[0] ?? "1",
  private: false,
  userLimit: 4,
  members,
  voice: [],
  createdAt: Number(channelId),
  lastActivityAt: Number(channelId),
  closingAt: null,
});

describe("RoomsState seats", () => {
  it("room.seated adds a seat once; room.unseated takes it away, and a new list value is made only on change", () => {
    const state = new RoomsState();
    const presence = new PresenceStore();
    state.setAll([room("1", ["10"]), room("2", ["20"])]);
    expect(state.addMember("1", "11")).toBe(true);
    expect(state.addMember("1", "11")).toBe(false);
    const before = state.list(presence);
    expect(before[0]!.members).toEqual(["10", "11"]);
    expect(state.removeMember("1", "10")).toBe(true);
    const after = state.list(presence);
    expect(after).not.toBe(before);
    expect(after[0]!.members).toEqual(["11"]);
    expect(state.removeMember("1", "10")).toBe(false); // not seated there any more
    expect(state.removeMember("9", "10")).toBe(false); // unknown room
    expect(state.list(presence)).toBe(after);
  });
});
