/**
 * Who connects to whom at a table, and who offers. Pure, so it is unit-tested on its own.
 *
 * Players form a mesh and send their camera; spectators only receive, from every player, and are
 * not connected to each other. The hub assigns the offerer (symmetric "perfect negotiation" left
 * dead links in Chromium 156; assigned roles did not): between two players the newcomer offers
 * to everyone already there; between a player and a spectator the player offers.
 */
export type TableRole = "player" | "spectator";

/** Whether the newcomer offers to `existing`, or null when the two are not connected at all. */
export function newcomerOffers(newcomer: TableRole, existing: TableRole): boolean | null {
  if (newcomer === "spectator" && existing === "spectator") return null;
  if (newcomer === "player") return true;
  return false; // a spectator joining: the player already there offers
}

/** Most spectators watching one table (a mesh: each costs every player one more upload). */
export const MAX_SPECTATORS = 8;
