import type { StateChange } from "@spell-coven/client";
import { useNow } from "../hooks/useNow.ts";
import { bannerFor } from "../messages.ts";

/** The connection banner: reconnecting (with its countdown), offline, not answering, signed out. */
export function ConnectionBanner({
  connection,
  everOpen,
  onReconnect,
  onSignIn,
}: {
  connection: StateChange;
  everOpen: boolean;
  onReconnect(): void;
  onSignIn(): void;
}) {
  const now = useNow(connection.state === "reconnecting");
  const view = bannerFor(connection, { everOpen, now });
  return (
    <div className="banner" role="status" aria-live="polite" data-testid="connection-banner" data-tone={view?.tone} hidden={!view}>
      {view && <p>{view.text}</p>}
      {view?.action && (
        <button type="button" className="btn" onClick={view.action === "signin" ? onSignIn : onReconnect}>
          {view.action === "signin" ? "Sign in again" : "Reconnect"}
        </button>
      )}
    </div>
  );
}
