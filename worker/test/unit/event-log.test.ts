import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { EventLog } from "../../src/hub/event-log.ts";
import { HubMeta } from "../../src/hub/storage/hub-meta.ts";

/** A fresh object's SQLite for each test (the hub itself also lives there, on other tables). */
const freshStorage = <T>(fn: (sql: SqlStorage) => T) =>
  runInDurableObject(env.GUILD_HUB.getByName(`unit-${crypto.randomUUID()}`), (_i, state) => fn(state.storage.sql));

describe("event log", () => {
  it("gives strictly increasing seqs and replays exactly what follows a point", async () => {
    await freshStorage((sql) => {
      const log = new EventLog(sql, new HubMeta(sql), 2_000);
      const base = log.seq;
      for (let i = 1; i <= 5; i++) log.append((seq) => `e${seq - base}`);
      expect(log.seq).toBe(base + 5);
      expect(log.eventsAfter(base + 3, "1")).toEqual(["e4", "e5"]);
      expect(log.eventsAfter(base + 5, "1")).toEqual([]);
    });
  });

  it("keeps a bounded history: resume is possible only from what is still held, and only in the same epoch", async () => {
    await freshStorage((sql) => {
      const log = new EventLog(sql, new HubMeta(sql), 150);
      const base = log.seq;
      for (let i = 0; i < 300; i++) log.append((seq) => `e${seq}`);
      // Trimmed at each 100th event to the last `limit`: at seq 300, everything after 150 is held.
      expect(log.canResumeFrom(log.seq - 150, log.epoch)).toBe(true);
      expect(log.canResumeFrom(base, log.epoch)).toBe(false);
      expect(log.canResumeFrom(log.seq, "another-epoch")).toBe(false);
      expect(log.canResumeFrom(log.seq + 1, log.epoch)).toBe(false);
    });
  });

  it("keeps seq and epoch across a restart of the object", async () => {
    await freshStorage((sql) => {
      const first = new EventLog(sql, new HubMeta(sql));
      first.append(() => "x");
      first.append(() => "y");
      const again = new EventLog(sql, new HubMeta(sql));
      expect(again.seq).toBe(first.seq);
      expect(again.epoch).toBe(first.epoch);
      expect(again.eventsAfter(first.seq - 1, "1")).toEqual(["y"]);
    });
  });

  it("replays an event addressed to some players only to them; the others get a skip frame for its seq", async () => {
    await freshStorage((sql) => {
      const log = new EventLog(sql, new HubMeta(sql));
      const base = log.seq;
      log.append(() => "for everyone");
      const secret = log.append(() => "private table chat", ["11", "12"]);
      log.append(() => "for everyone again");
      expect(secret.audience).toEqual(new Set(["11", "12"]));
      expect(log.eventsAfter(base, "12")).toEqual(["for everyone", "private table chat", "for everyone again"]);
      const outsider = log.eventsAfter(base, "99");
      expect(outsider[0]).toBe("for everyone");
      expect(JSON.parse(outsider[1]!)).toMatchObject({ v: 1, type: "skip", seq: base + 2 });
      expect(outsider[1]).not.toContain("private");
      // Kept across a restart of the object.
      expect(new EventLog(sql, new HubMeta(sql)).eventsAfter(base + 1, "99")[0]).not.toContain("private");
    });
  });
});
