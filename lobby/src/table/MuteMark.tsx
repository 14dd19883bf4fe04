/**
 * Whether a player is muted or deafened in Discord: an icon and the word, for a board tile
 * ("tag") or a small mark beside a name in the table card ("chip": the word is for screen readers
 * only). The title says who did it: the player, or a moderator for the whole server.
 */
import { useSyncExternalStore } from "react";
import { muteState, type SpellCovenClient, type VoiceFlags, type VoiceFlagsView } from "@spell-coven/client";

// Drawn here, not in Icon.tsx: 24×24 outlines of a microphone and headphones, struck through.
const PATHS = {
  muted:
    "M12 2a3 3 0 0 1 3 3v5.2l-6-6V5a3 3 0 0 1 3-3zM3.7 2.3 2.3 3.7 9 10.4V11a3 3 0 0 0 3 3c.2 0 .4 0 .6-.1l1.6 1.6c-.7.3-1.4.5-2.2.5a5 5 0 0 1-5-5H5a7 7 0 0 0 6 6.9V21h2v-3.1c1-.1 1.9-.5 2.7-1l4.6 4.6 1.4-1.4zM19 11h-2c0 .6-.1 1.2-.3 1.8l1.5 1.5c.5-1 .8-2.1.8-3.3z",
  deafened:
    "M12 3a9 9 0 0 0-5.9 2.2l1.4 1.4A7 7 0 0 1 19 12v1h-2.2l4.2 4.2V12a9 9 0 0 0-9-9zM3.7 2.3 2.3 3.7l2.3 2.3A9 9 0 0 0 3 12v6a3 3 0 0 0 3 3h3v-8H5v-1c0-1.2.3-2.4.9-3.4L15 17.7V21h3c.3 0 .6 0 .8-.1l1.5 1.5 1.4-1.4z",
} as const;

const WORDS = { muted: "Muted", deafened: "Deafened" } as const;

/** The title: whose doing it is (a server mute or deafen is a moderator's, for every channel). */
function why(state: "muted" | "deafened", f: VoiceFlags): string {
  const byServer = state === "deafened" ? f.serverDeaf : f.serverMute;
  const self = state === "deafened" ? f.selfDeaf : f.selfMute;
  const what = state === "deafened" ? "deafened (cannot hear or speak)" : "muted (cannot be heard)";
  if (byServer && self) return `Self- and server-${what} in Discord`;
  return byServer ? `Server-${what} by a moderator in Discord` : `${what[0]!.toUpperCase()}${what.slice(1)} in Discord`;
}

/** Nothing when no flag is set (`flags` undefined, or all false). */
export function MuteMark({ flags, variant }: { flags: VoiceFlags | undefined; variant: "tag" | "chip" }) {
  const state = flags ? muteState(flags) : null;
  if (!flags || state === null) return null;
  const title = why(state, flags);
  const icon = (
    <svg className="icon" viewBox="0 0 24 24" width="14" height="14" aria-hidden="true">
      <path d={PATHS[state]} fill="currentColor" />
    </svg>
  );
  if (variant === "chip") {
    return (
      <span className="mute-mark" data-testid="chip-mute" data-state={state} title={title}>
        {icon}
        <span className="sr-only">{WORDS[state].toLowerCase()}</span>
      </span>
    );
  }
  return (
    <span className="tag tag-mute" data-testid="mute" data-state={state} title={title}>
      {icon}
      {WORDS[state]}
    </span>
  );
}

/** Who in voice is muted or deafened, live (the client's snapshot; the same object until it changes). */
export function useVoiceFlags(client: SpellCovenClient): VoiceFlagsView {
  const read = () => client.getSnapshot().voiceFlags;
  return useSyncExternalStore(client.subscribe, read, read);
}
