/**
 * The SSE stream `GET /api/stream` (ARCHITECTURE.md): the same events as `/api/ws`, as
 * `text/event-stream`. Each event is `id: <epoch>:<seq>`, `event: <name>`, `data: <envelope>`;
 * the first message is `event: ready` (or `event: resync` when the client's cursor could not be
 * resumed) with the auth.ok envelope, presence included. An event addressed to other players is
 * `event: skip` with a SkipFrame, so the seq stays contiguous. A `:` comment every 15 s keeps proxies
 * from closing an idle stream.
 *
 * The long-lived JWT never goes in the URL: `POST /api/stream/ticket` (JWT) returns a ticket
 * bound to the player, valid until their token expires or an hour has passed, and usable only
 * for the stream. EventSource's own reconnects reuse it (with `Last-Event-ID`).
 */
import { z } from "zod";

export const StreamTicket = z.object({
  ticket: z.string(),
  /** Unix ms; after it the stream answers 204 and the client gets a new ticket. */
  expiresAt: z.number().int(),
  /** `/api/stream?ticket=...`, relative to the Worker. */
  url: z.string(),
});
export type StreamTicket = z.infer<typeof StreamTicket>;

/** SSE event names besides the public events: the first message of a stream. */
export const STREAM_READY = "ready";
export const STREAM_RESYNC = "resync";
/** A seq that is not for this player (a SkipFrame): it has an id, so the cursor moves past it. */
export const STREAM_SKIP = "skip";

/** `<epoch>:<seq>`, the id of each event on the stream and the cursor a client resumes from. */
export const StreamCursor = z
  .string()
  .max(100)
  .regex(/^[\w-]{1,64}:\d{1,15}$/, "must be <epoch>:<seq>")
  .transform((s) => {
    const i = s.lastIndexOf(":");
    return { epoch: s.slice(0, i), seq: Number(s.slice(i + 1)) };
  });

export const streamCursor = (epoch: string, seq: number) => `${epoch}:${seq}`;
