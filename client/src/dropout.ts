/**
 * The player's own voice dropout: they are in a room (its voice channel is `room`), were in its
 * voice channel, and are not any more (left voice, or moved elsewhere). An app shows a notice
 * ("you dropped out of voice; rejoin") and hides it on `rejoined`. Judged from the presence store,
 * so it holds through reconnects: a fresh snapshot without the player counts as a dropout too.
 */
import type { DropoutInfo } from "./events.ts";

export type DropoutStatus =
  /** No room set. */
  | "none"
  /** In a room, not yet seen in its voice channel. */
  | "waiting"
  | "in-voice"
  /** Was in the room's voice channel and left it. */
  | "dropped";

export type DropoutChange = { kind: "dropout"; info: DropoutInfo } | { kind: "rejoined"; channelId: string };

export class DropoutDetector {
  #userId: string | null = null;
  #room: string | null = null;
  #status: DropoutStatus = "none";

  get room(): string | null {
    return this.#room;
  }

  get status(): DropoutStatus {
    return this.#status;
  }

  /** The signed-in player (from auth.ok). */
  setUser(userId: string | null): void {
    if (userId === this.#userId) return;
    this.#userId = userId;
    this.#status = this.#room ? "waiting" : "none";
  }

  /**
   * The room the player is in (null: none). Starts from where they are now, without reporting
   * anything: joining a room while out of voice is not a dropout.
   */
  setRoom(channelId: string | null, whereNow: string | null): void {
    this.#room = channelId;
    this.#status = channelId === null ? "none" : whereNow === channelId ? "in-voice" : "waiting";
  }

  /** Feeds the player's current voice channel (from presence); returns what changed, if anything. */
  update(whereNow: string | null): DropoutChange | null {
    const room = this.#room;
    if (room === null || this.#userId === null) return null;
    const inRoom = whereNow === room;
    if (this.#status === "in-voice" && !inRoom) {
      this.#status = "dropped";
      return { kind: "dropout", info: { channelId: room, nowIn: whereNow } };
    }
    if (this.#status !== "in-voice" && inRoom) {
      const wasDropped = this.#status === "dropped";
      this.#status = "in-voice";
      return wasDropped ? { kind: "rejoined", channelId: room } : null;
    }
    return null;
  }
}
