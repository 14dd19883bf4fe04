import type { StateChange } from "@spell-coven/client";
import { liveView } from "../messages.ts";
import { Link } from "./Link.tsx";

export interface HeaderProps {
  /** Absent while signed out. */
  player?: { name: string; connection: StateChange; onSignOut(): void };
}

export function Header({ player }: HeaderProps) {
  return (
    <header className="top">
      <Link to="/" className="brand">
        <span className="logo" aria-hidden="true">
          ✦
        </span>
        <span className="brand-name">Spell Coven</span>
        <span className="brand-sub">Lobby</span>
      </Link>
      {player && (
        <div className="who">
          <LiveBadge connection={player.connection} />
          <span className="me" id="me-name">
            {player.name}
          </span>
          <button type="button" className="btn btn-quiet" onClick={player.onSignOut}>
            Sign out
          </button>
        </div>
      )}
    </header>
  );
}

/** "Live" while the server answers; a warning as soon as it does not (before the socket closes). */
function LiveBadge({ connection }: { connection: StateChange }) {
  const view = liveView(connection);
  return (
    <span className="live" id="live" data-state={view.state} role="status">
      <span className="dot" aria-hidden="true" />
      <span id="live-text">{view.text}</span>
    </span>
  );
}
