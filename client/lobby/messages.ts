/** What the lobby tells a player, in one place: error codes and connection states as sentences. */
import { RoomsApiError, type StateChange } from "../src/index.ts";

const ROOM_ERRORS: Record<string, string> = {
  ROOM_FULL: "This table is full.",
  ROOM_NOT_FOUND: "This table does not exist any more.",
  INVITE_REQUIRED: "This table is private: you need an invite link from one of its players.",
  INVITE_INVALID: "This invite link is not valid. Ask for a new one.",
  INVITE_EXPIRED: "This invite link has expired. Ask for a new one.",
  INVITE_WRONG_ROOM: "This invite link is for another table.",
  NOT_ROOM_CREATOR: "Only the player who created this table can end it.",
  NOT_ROOM_MEMBER: "Only players at this private table can invite others.",
  RATE_LIMITED: "Too many requests right now; wait a moment and try again.",
  DISCORD_UNAVAILABLE: "Discord is not answering right now; try again in a moment.",
  UNAUTHORIZED: "Your sign-in was not accepted; sign in again.",
  TOKEN_EXPIRED: "Your sign-in expired; sign in again.",
  NETWORK_ERROR: "Could not reach the server. Check your connection.",
};

export function roomErrorText(err: unknown): string {
  if (err instanceof RoomsApiError) {
    const text = ROOM_ERRORS[err.code] ?? err.message;
    return err.requestId && !ROOM_ERRORS[err.code] ? `${text} (request ${err.requestId})` : text;
  }
  return err instanceof Error ? err.message : String(err);
}

export interface BannerView {
  tone: "info" | "warn" | "error";
  text: string;
  action: "reconnect" | "signin" | null;
}

/** The connection banner, or null when there is nothing to say. */
export function bannerFor(s: StateChange, opts: { everOpen: boolean; now: number }): BannerView | null {
  switch (s.state) {
    case "open":
      return null;
    case "connecting":
      return opts.everOpen ? { tone: "info", text: "Reconnecting…", action: null } : null;
    case "reconnecting": {
      const wait = s.nextAttemptAt !== null ? Math.ceil((s.nextAttemptAt - opts.now) / 1000) : 0;
      const when = wait > 0 ? ` in ${wait} s` : "…";
      return { tone: "warn", text: `Connection lost. Reconnecting (attempt ${s.attempt} of ${s.maxAttempts})${when}`, action: null };
    }
    case "disconnected":
      if (!s.error) return null;
      if (s.error.kind === "fatal_close" && s.error.detail.code === 4003) {
        return { tone: "error", text: "Your sign-in was rejected. Please sign in again.", action: "signin" };
      }
      if (s.error.kind === "fatal_close") return { tone: "error", text: s.error.message, action: "signin" };
      return { tone: "error", text: `You're offline: we could not reach Spell Coven after ${s.maxAttempts} attempts.`, action: "reconnect" };
  }
}
