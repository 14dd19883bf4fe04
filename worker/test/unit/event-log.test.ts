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
      expect(log.eventsAfter(base + 3)).toEqual(["e4", "e5"]);
      expect(log.eventsAfter(base + 5)).toEqual([]);
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
      expect(again.eventsAfter(first.seq - 1)).toEqual(["y"]);
    });
  });
});
