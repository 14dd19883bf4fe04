import { createContext, useContext } from "react";
import type { SpellCovenClient } from "@spell-coven/client";
import type { LobbyConfig } from "./config.ts";

/** What every signed-in component needs: the one client of this sign-in and the page's settings. */
export interface LobbyContextValue {
  client: SpellCovenClient;
  config: LobbyConfig;
  /** Tables this page is ending itself: their room.deleted is not news to the player. */
  endingByMe: Set<string>;
}

export const LobbyContext = createContext<LobbyContextValue | null>(null);

export function useLobby(): LobbyContextValue {
  const value = useContext(LobbyContext);
  if (!value) throw new Error("useLobby() outside a signed-in lobby");
  return value;
}
