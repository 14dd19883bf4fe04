import { describe, expect, it } from "vitest";
import { RoomsApiError, type StateChange } from "@spell-coven/client";
import { bannerFor, errorView, liveView, retryText } from "../src/messages.ts";
import { parseRoute } from "../src/route.ts";

const open: StateChange = { state: "open", attempt: 0, maxAttempts: 5, nextAttemptAt: null, lastClose: null, error: null, responsive: true };

describe("what the lobby says", () => {
  it("a refused action shows the server's message and, from Retry-After, when to try again", () => {
    const before = Date.now();
    const view = errorView(new RoomsApiError(429, "RATE_LIMITED", "You can create 5 rooms per 10 minutes; try again in 412 s.", "req-1", undefined, 412));
    expect(view.text).toBe("You can create 5 rooms per 10 minutes; try again in 412 s.");
    expect(view.requestId).toBe("req-1");
    expect(view.retryAt).toBeGreaterThanOrEqual(before + 412_000);
    expect(retryText(view.retryAt!, view.retryAt! - 65_000)).toBe("You can try again in 1:05.");
    expect(retryText(view.retryAt!, view.retryAt!)).toBe("You can try again now.");
  });

  it("retry time from the error's details when there is no Retry-After; a hint where the player can act", () => {
    const view = errorView(new RoomsApiError(409, "IDEMPOTENCY_IN_PROGRESS", "Still running.", null, { retryAfterSeconds: 2 }));
    expect(view.retryAt).toBeGreaterThan(Date.now());
    expect(errorView(new RoomsApiError(403, "NOT_GUILD_MEMBER", "You are not a member of this server.")).text).toBe(
      "You are not a member of this server. Join the Discord server first, then try again.",
    );
    expect(errorView(new Error("boom"))).toEqual({ text: "boom", retryAt: null, requestId: null });
  });

  it("'Live' only while the server answers", () => {
    expect(liveView(open)).toEqual({ state: "open", text: "Live" });
    expect(liveView({ ...open, responsive: false })).toEqual({ state: "unresponsive", text: "Not answering" });
    expect(bannerFor({ ...open, responsive: false }, { everOpen: true, now: 0 })).toMatchObject({ tone: "warn", action: "reconnect" });
    expect(bannerFor(open, { everOpen: true, now: 0 })).toBeNull();
    expect(liveView({ ...open, state: "reconnecting", attempt: 1 })).toEqual({ state: "reconnecting", text: "Reconnecting" });
  });

  it("routes: the lobby, a table's page, anything else", () => {
    expect(parseRoute("/")).toEqual({ page: "lobby" });
    expect(parseRoute("/table/1060000000000000203")).toEqual({ page: "table", channelId: "1060000000000000203" });
    expect(parseRoute("/table/1060000000000000203/")).toEqual({ page: "table", channelId: "1060000000000000203" });
    expect(parseRoute("/table/abc")).toEqual({ page: "not-found", path: "/table/abc" });
  });
});
