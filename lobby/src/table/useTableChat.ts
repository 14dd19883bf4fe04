/**
 * A table's chat (TableChat from the client library) for as long as the table page is open,
 * as React state. Created a tick after mounting, so React's StrictMode double mount in
 * development does not load the history twice. Not created while `enabled` is false (a private
 * table the player may not read: asking for its history would only be refused).
 */
import { useEffect, useState, useSyncExternalStore } from "react";
import { TableChat, type SpellCovenClient, type TableChatSnapshot } from "@spell-coven/client";

const noSubscription = () => () => {};
const noSnapshot = () => null;

export function useTableChat(client: SpellCovenClient, channelId: string, enabled: boolean): { chat: TableChat | null; snap: TableChatSnapshot | null } {
  const [chat, setChat] = useState<TableChat | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let created: TableChat | null = null;
    const timer = setTimeout(() => {
      created = new TableChat(client, channelId);
      setChat(created);
    }, 0);
    return () => {
      clearTimeout(timer);
      created?.close();
      setChat(null);
    };
  }, [client, channelId, enabled]);
  const snap = useSyncExternalStore(chat ? chat.subscribe : noSubscription, chat ? chat.getSnapshot : noSnapshot, chat ? chat.getSnapshot : noSnapshot);
  return { chat, snap };
}
