/**
 * What the table page says about cameras, voice and peers, in plain language (kept apart from the
 * components so the wording is tested on its own: lobby/test/board-messages.test.ts).
 */
import type { PeerQuality } from "@spell-coven/client";

/** Why the own camera is not showing, from getUserMedia's error (a DOMException name). */
export function cameraProblem(err: unknown): string {
  const name = err instanceof Error || (typeof err === "object" && err !== null && "name" in err) ? String((err as { name: unknown }).name) : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Camera permission was denied, so the others can't see your board. Allow the camera for this site in your browser's address bar, then turn the camera on again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Plug one in (or pick another below), then turn the camera on again. You can still watch the other boards.";
    case "NotReadableError":
    case "AbortError":
      return "Your camera is busy: another app or tab is using it. Close that, then turn the camera on again.";
    default:
      return `Your camera could not be started${err instanceof Error && err.message ? ` (${err.message})` : ""}. Try again, or pick another camera.`;
  }
}

/** A peer whose connection failed and did not come back after the rebuilds. */
export function unreachable(name: string): string {
  return `We can't reach ${name}'s browser. A firewall or network may be blocking video between you; still trying.`;
}

export type VoiceStatus = "in-voice" | "moving" | "moved" | "join-voice" | "failed";

/** The line about getting into the table's voice channel (null: nothing to say). */
export function voiceLine(status: VoiceStatus, message?: string): string | null {
  switch (status) {
    case "moving":
      return "Moving you into the table's voice channel…";
    case "moved":
    case "in-voice":
      return "You're in the table's voice channel.";
    case "join-voice":
      return "You're not in a voice channel yet. Join voice in Discord: once you're in any voice channel of the server, you'll be brought to this table.";
    case "failed":
      return message ?? "We couldn't move you into the table's voice channel. Join it in Discord yourself.";
  }
}

export type LeftReason = "elsewhere" | "seat" | "ended" | "other";

/** Why the page is out of the call. `ended` is said by the lobby's own notice (null here). */
export function leftLine(reason: LeftReason): string | null {
  switch (reason) {
    case "elsewhere":
      return "You opened this table in another tab or device, so the video moved there.";
    case "seat":
      return "You gave up your seat, so you're out of this table's video.";
    case "ended":
      return null;
    case "other":
      return "You left this table's video.";
  }
}

/** The compact quality line of a tile: "VP8 · 640×360 · 15 fps · 480 kb/s · 0 lost · 3 ms". */
export function qualityLine(q: PeerQuality | null): string {
  if (!q || q.codec === null) return "Connecting…";
  const parts = [q.codec.replace(/^video\//, "")];
  if (q.width && q.height) parts.push(`${q.width}×${q.height}`);
  if (q.fps !== null) parts.push(`${Math.round(q.fps)} fps`);
  if (q.kbps !== null) parts.push(`${q.kbps} kb/s`);
  parts.push(`${q.packetsLost} lost`);
  if (q.rttMs !== null) parts.push(`${q.rttMs} ms`);
  return parts.join(" · ");
}
