/**
 * A thin React binding, as an example of using the client: re-renders on every change of the
 * client's state (connection, presence, rooms, dropout). React is a peer of this entry point
 * only; the core (`@spell-coven/client`) does not import it.
 *
 *   const { state, presence, rooms } = useSpellCoven(client);
 */
import { useSyncExternalStore } from "react";
import type { ClientSnapshot, SpellCovenClient, TableChat, TableChatSnapshot } from "./index.ts";

export function useSpellCoven(client: SpellCovenClient): ClientSnapshot {
  return useSyncExternalStore(client.subscribe, client.getSnapshot, client.getSnapshot);
}

/** A table's chat as React state: re-renders on every message, reaction, typing change and command outcome. */
export function useTableChat(chat: TableChat): TableChatSnapshot {
  return useSyncExternalStore(chat.subscribe, chat.getSnapshot, chat.getSnapshot);
}

export type { ClientSnapshot, TableChatSnapshot } from "./index.ts";
