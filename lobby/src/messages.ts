/** What the lobby tells a player, in one place: failed actions and connection states as sentences. */
import { RoomsApiError, type StateChange } from "@spell-coven/client";
import { countdown } from "./format.ts";

/** A failed action as the page shows it: the server's own message, and when trying again makes sense. */
export interface ErrorView {
  text: string;
  /** Unix ms: "you can try again in m:ss" counts down to it (from Retry-After). */
  retryAt: number | null;
  requestId: string | null;
}

/** What a player can do about some codes; the server's message says what happened. */
const HINTS: Record<string, string> = {
  NOT_GUILD_MEMBER: "Join the Discord server first, then try again.",
  UNAUTHORIZED: "Sign in again.",
  TOKEN_EXPIRED: "Sign in again.",
  NETWORK_ERROR: "Check your connection and try again.",
};

export function errorView(err: unknown): ErrorView {
  if (err instanceof RoomsApiError) {
    const hint = HINTS[err.code];
    const text = hint && !err.message.includes(hint) ? `${err.message} ${hint}` : err.message;
    return { text, retryAt: err.retryAt ?? retryAtFromDetails(err.details), requestId: err.requestId };
  }
  return { text: err instanceof Error ? err.message : String(err), retryAt: null, requestId: null };
}

/** `details.retryAfterSeconds` / `retryAfterMs`, for answers that carry it in the body only. */
function retryAtFromDetails(details: unknown): number | null {
  const d = details as { retryAfterSeconds?: unknown; retryAfterMs?: unknown } | null | undefined;
  if (typeof d?.retryAfterSeconds === "number") return Date.now() + d.retryAfterSeconds * 1000;
  if (typeof d?.retryAfterMs === "number") return Date.now() + d.retryAfterMs;
  return null;
}

/** "You can try again in 4:05." / "You can try again now." */
export function retryText(retryAt: number, now: number): string {
  return retryAt > now ? `You can try again in ${countdown(retryAt - now)}.` : "You can try again now.";
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
      return s.responsive
        ? null
        : {
            tone: "warn",
            text: "Spell Coven is not answering. What you see may be out of date; the page reconnects by itself if this goes on.",
            action: "reconnect",
          };
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

/** The header's status pill: what `data-state` says and the words it shows. */
export function liveView(s: StateChange): { state: string; text: string } {
  if (s.state === "open") return s.responsive ? { state: "open", text: "Live" } : { state: "unresponsive", text: "Not answering" };
  if (s.state === "disconnected") return { state: "disconnected", text: "Offline" };
  return { state: s.state, text: s.state === "reconnecting" ? "Reconnecting" : "Connecting" };
}
