/**
 * Room invites: signed tokens (signed-token.ts, purpose "room-invite") binding one guild and
 * room, with their expiry (24 h) and who invited.
 */
import { z } from "zod";
import { Snowflake } from "@spell-coven/common";
import { signToken, verifyToken } from "./signed-token.ts";

export const INVITE_TTL_MS = 24 * 60 * 60_000;
const PURPOSE = "room-invite";

const Payload = z.object({ g: Snowflake, c: Snowflake, exp: z.number().int(), by: z.string(), n: z.string() });
export type InviteClaims = { guildId: string; channelId: string; expiresAt: number; invitedBy: string };

export type InviteCheck = { ok: true; claims: InviteClaims } | { ok: false; code: "INVITE_INVALID" | "INVITE_EXPIRED" | "INVITE_WRONG_ROOM"; message: string };

export async function signInvite(hubSecret: string, claims: Omit<InviteClaims, "expiresAt">, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + INVITE_TTL_MS;
  const token = await signToken(hubSecret, PURPOSE, {
    g: claims.guildId,
    c: claims.channelId,
    exp: expiresAt,
    by: claims.invitedBy,
    n: crypto.randomUUID().slice(0, 8),
  });
  return { token, expiresAt };
}

/** Checks signature first, then expiry, then that it is for this room. */
export async function verifyInvite(hubSecret: string, token: string, expect: { guildId: string; channelId: string }, now = Date.now()): Promise<InviteCheck> {
  const payload = await verifyToken(hubSecret, PURPOSE, token, Payload);
  if (!payload) return { ok: false, code: "INVITE_INVALID", message: "This invite link is not valid (it may have been altered); ask for a new one." };
  if (now >= payload.exp) return { ok: false, code: "INVITE_EXPIRED", message: "This invite has expired (invites last 24 hours); ask for a new one." };
  if (payload.g !== expect.guildId || payload.c !== expect.channelId) {
    return { ok: false, code: "INVITE_WRONG_ROOM", message: "This invite is for a different room." };
  }
  return { ok: true, claims: { guildId: payload.g, channelId: payload.c, expiresAt: payload.exp, invitedBy: payload.by } };
}
