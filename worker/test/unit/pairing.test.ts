import { describe, expect, it } from "vitest";
import { newcomerOffers } from "../../src/hub/modules/tables/pairing.ts";
import { SignalBudget } from "../../src/hub/modules/tables/signal-budget.ts";

describe("table pairing", () => {
  it("the newcomer player offers to everyone; a player offers to a spectator; spectators are not connected", () => {
    expect(newcomerOffers("player", "player")).toBe(true);
    expect(newcomerOffers("player", "spectator")).toBe(true);
    expect(newcomerOffers("spectator", "player")).toBe(false);
    expect(newcomerOffers("spectator", "spectator")).toBeNull();
  });
});

describe("signal budget", () => {
  it("allows a burst, then refills at its rate", () => {
    const budget = new SignalBudget(3, 10);
    const ws = {} as WebSocket;
    expect([0, 0, 0, 0].map((t) => budget.take(ws, t))).toEqual([true, true, true, false]);
    expect(budget.take(ws, 50)).toBe(false); // half a token
    expect(budget.take(ws, 100)).toBe(true); // 100 ms at 10/s: one token
    expect(budget.take({} as WebSocket, 100)).toBe(true); // per socket
  });
});
