/** Small text helpers the lobby's components share (no DOM, so they are tested in Node). */

/** "1:05" from milliseconds (never negative). */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "12 minutes", "24 hours". */
export function duration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `${Math.round(minutes / 60)} hours`;
}

/** "…1234": the end of a snowflake, for players and channels the page has no name for. */
export function shortId(id: string): string {
  return `…${id.slice(-4)}`;
}

/** The first letter of a name, for avatars. */
export function initial(name: string): string {
  return (name.trim()[0] ?? "?").toUpperCase();
}

/** "14:05:09", in the player's time zone. */
export function clockTime(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function closingText(closesAt: number, now: number): string {
  return `Closing in ${countdown(closesAt - now)}: nobody is in voice. Join its voice channel to keep it.`;
}
