/**
 * `GET /api/rtc/ice-servers`: the ICE servers a browser at a table uses for board video
 * (`RTCConfiguration.iceServers`). With Cloudflare's TURN service configured they carry
 * short-lived credentials; the client calls `setConfiguration()` with fresh ones before
 * `expiresAt`.
 */
import { z } from "zod";

export const IceServer = z.object({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

export const IceServersResult = z.object({
  iceServers: z.array(IceServer),
  /** Unix ms after which the credentials no longer work; null when they do not expire. */
  expiresAt: z.number().int().nullable(),
  /** Where they came from: Cloudflare TURN, the configured static list, or none (loopback runs). */
  source: z.enum(["cloudflare", "static", "none"]),
});
export type IceServersResult = z.infer<typeof IceServersResult>;
