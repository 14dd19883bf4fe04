import type { ClientSnapshot } from "@spell-coven/client";
import { Link } from "./Link.tsx";
import { TableCard } from "./TableCard.tsx";

/** A table as a page of its own (`/table/<channelId>`): the place its live board will go. */
export function TablePage({ snap, channelId }: { snap: ClientSnapshot; channelId: string }) {
  const room = snap.rooms?.find((r) => r.channelId === channelId);
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
        <TableCard room={room} me={snap.userId} current={room.channelId === snap.currentRoom} variant="page" />
      ) : (
        <div className="card" data-testid="table-gone">
          <h1>This table is not open</h1>
          <p className="muted">It has ended, or the link is wrong. Pick another table in the lobby.</p>
        </div>
      )}
    </div>
  );
}
