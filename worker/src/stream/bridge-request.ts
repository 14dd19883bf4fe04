/**
 * The Worker -> GuildHub request that opens an SSE stream's bridge socket. The stream route
 * verified the player's ticket, so the hub takes the player from these headers; it accepts them
 * only on this path, which no public route forwards (`/api/ws` upgrades arrive with their own
 * path), so a client cannot pose as a bridge.
 */
import { z } from "zod";
import { Snowflake } from "@spell-coven/common";

export const BRIDGE_PATH = "/internal/stream-bridge";

const BridgeHeaders = z.object({
  guildId: Snowflake,
  userId: z.string().min(1).max(200),
  expiresAt: z.coerce.number().int().positive(),
  resume: z
    .string()
    .regex(/^[\w-]{1,64}:\d{1,15}$/)
    .optional(),
});
export type BridgeClaims = { guildId: string; userId: string; expiresAt: number; resume?: { epoch: string; seq: number } };

export function bridgeRequest(claims: BridgeClaims): Request {
  const headers = new Headers({
    Upgrade: "websocket",
    "X-Guild-Id": claims.guildId,
    "X-Stream-User": claims.userId,
    "X-Stream-Expires": String(claims.expiresAt),
  });
  if (claims.resume) headers.set("X-Stream-Resume", `${claims.resume.epoch}:${claims.resume.seq}`);
  return new Request(`https://guild-hub${BRIDGE_PATH}`, { headers });
}

/** The claims of a bridge request, or null when `request` is not one. */
export function readBridgeRequest(request: Request): BridgeClaims | null {
  if (new URL(request.url).pathname !== BRIDGE_PATH) return null;
  const parsed = BridgeHeaders.safeParse({
    guildId: request.headers.get("X-Guild-Id"),
    userId: request.headers.get("X-Stream-User"),
    expiresAt: request.headers.get("X-Stream-Expires"),
    resume: request.headers.get("X-Stream-Resume") ?? undefined,
  });
  if (!parsed.success) return null;
  const { resume, ...rest } = parsed.data;
  if (!resume) return rest;
  const i = resume.lastIndexOf(":");
  return { ...rest, resume: { epoch: resume.slice(0, i), seq: Number(resume.slice(i + 1)) } };
}
