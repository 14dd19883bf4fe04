import type { ClientSnapshot } from "@spell-coven/client";
import { useDirectory } from "../directory.ts";
import { Icon } from "./Icon.tsx";
import { TableCard } from "./TableCard.tsx";

/** The guild's tables, then who is in voice elsewhere (channels that are not tables). */
export function TableList({ snap }: { snap: ClientSnapshot }) {
  const { rooms } = snap;
  return (
    <section className="rooms" aria-labelledby="rooms-heading">
      <div className="section-head">
        <h2 id="rooms-heading">Tables</h2>
        <span className="muted">{rooms ? `${rooms.length} open` : ""}</span>
      </div>
      <div className="room-list" data-testid="rooms">
        {rooms === null ? (
          <p className="muted empty">Loading tables…</p>
        ) : rooms.length === 0 ? (
          <p className="muted empty" data-testid="no-rooms">
            No tables yet. Start one and invite your playgroup.
          </p>
        ) : (
          rooms.map((room) => <TableCard key={room.channelId} room={room} me={snap.userId} current={room.channelId === snap.currentRoom} variant="card" />)
        )}
      </div>
      <Elsewhere snap={snap} />
    </section>
  );
}

function Elsewhere({ snap }: { snap: ClientSnapshot }) {
  const names = useDirectory();
  const roomIds = new Set((snap.rooms ?? []).map((r) => r.channelId));
  const others = Object.entries(snap.presence).filter(([id, users]) => !roomIds.has(id) && users.length > 0);
  if (others.length === 0) return null;
  return (
    <div className="elsewhere">
      <h3>Elsewhere in voice</h3>
      <ul className="elsewhere-list">
        {others.map(([id, users]) => (
          <li key={id} data-channel-id={id}>
            <span className="channel">
              <Icon name="speaker" />
              {names.channelName(id) ?? `Voice channel …${id.slice(-4)}`}
            </span>
            <span className="muted">{users.map((u) => names.userName(u) + (u === snap.userId ? " (you)" : "")).join(", ")}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
