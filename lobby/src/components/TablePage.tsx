import { useCallback, useRef } from "react";
import type { ClientSnapshot } from "@spell-coven/client";
import { BoardVideo } from "../table/BoardVideo.tsx";
import { ChatPanel } from "../table/ChatPanel.tsx";
import { Link } from "./Link.tsx";
import { TableCard } from "./TableCard.tsx";

/** A table as a page of its own (`/table/<channelId>`): the table, its players' boards live, and its chat. */
export function TablePage({ snap, channelId }: { snap: ClientSnapshot; channelId: string }) {
  const room = snap.rooms?.find((r) => r.channelId === channelId);
  // The rooms as they are when the call ends (a `left` event's reason is read from them).
  const latest = useRef(snap.rooms);
  latest.current = snap.rooms;
  const rooms = useCallback(() => latest.current, []);
  return (
    <div className="table-page">
      <p>
        <Link to="/" className="back">
          ← All tables
        </Link>
      </p>
      {snap.rooms === null ? (
        <p className="muted empty">Loading the table…</p>
      ) : room ? (
        <>
          <TableCard room={room} me={snap.userId} current={room.channelId === snap.currentRoom} variant="page" />
          {snap.userId && <BoardVideo key={room.channelId} room={room} me={snap.userId} rooms={rooms} />}
          {snap.userId && <ChatPanel key={`chat-${room.channelId}`} room={room} me={snap.userId} />}
        </>
      ) : (
        <div className="card" data-testid="table-gone">
          <h1>This table is not open</h1>
          <p className="muted">It has ended, or the link is wrong. Pick another table in the lobby.</p>
        </div>
      )}
    </div>
  );
}
