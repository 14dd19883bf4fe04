import { describe, expect, it } from "vitest";
import { Deadlines, earliestDeadline, type AlarmStorage, type DeadlineOwner } from "../../src/hub/deadlines.ts";

class FakeAlarm implements AlarmStorage {
  at: number | null = null;
  sets = 0;
  async getAlarm() {
    return this.at;
  }
  async setAlarm(at: number) {
    this.at = at;
    this.sets++;
  }
}

describe("deadlines: one alarm for every module", () => {
  it("finds the earliest deadline of all owners, or none", () => {
    const owners: DeadlineOwner[] = [
      { name: "a", nextDeadline: () => 300 },
      { name: "b", nextDeadline: () => null },
      { name: "c", nextDeadline: () => 200 },
      { name: "d" },
    ];
    expect(earliestDeadline(owners, 0)).toBe(200);
    expect(earliestDeadline([{ name: "x", nextDeadline: () => null }], 0)).toBeNull();
  });

  it("only brings the alarm forward, never later, and replaces one in the past", async () => {
    let now = 1_000;
    const alarm = new FakeAlarm();
    const d = new Deadlines(
      alarm,
      [],
      () => {},
      () => now,
    );
    await d.by(5_000);
    expect(alarm.at).toBe(5_000);
    await d.by(9_000);
    expect(alarm.at).toBe(5_000);
    await d.by(2_000);
    expect(alarm.at).toBe(2_000);
    now = 3_000; // the alarm at 2,000 is stale
    await d.by(8_000);
    expect(alarm.at).toBe(8_000);
    await d.by(null);
    expect(alarm.at).toBe(8_000);
    await d.by(10); // in the past: as soon as possible, never before now
    expect(alarm.at).toBe(3_001);
  });

  it("on fire, runs every owner (one failing does not stop the others) and re-arms at the earliest remaining deadline", async () => {
    const now = 10_000;
    const alarm = new FakeAlarm();
    const ran: string[] = [];
    const errors: string[] = [];
    const owners: DeadlineOwner[] = [
      {
        name: "broken",
        onDeadline: () => {
          ran.push("broken");
          throw new Error("boom");
        },
        nextDeadline: () => now + 500,
      },
      { name: "rooms", onDeadline: async () => void ran.push("rooms"), nextDeadline: () => now + 100 },
      { name: "idle" },
    ];
    const d = new Deadlines(
      alarm,
      owners,
      (owner) => errors.push(owner),
      () => now,
    );
    await d.fire();
    expect(ran).toEqual(["broken", "rooms"]);
    expect(errors).toEqual(["broken"]);
    expect(alarm.at).toBe(now + 100);
  });
});
