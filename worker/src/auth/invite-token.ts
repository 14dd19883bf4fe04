/**
 * Room invites: `v1.<payload>.<mac>` (base64url), an HMAC-SHA256 over the payload with a key
 * derived from HUB_SECRET for this one purpose, so a leaked invite reveals nothing and no other
 * signature can be replayed as an invite. The payload binds the invite to one guild and room and
 * carries its expiry (24 h).
 */
import { z } from "zod";
import { Snowflake } from "@spell-coven/common";

export const INVITE_TTL_MS = 24 * 60 * 60_000;

const Payload = z.object({ g: Snowflake, c: Snowflake, exp: z.number().int(), by: z.string(), n: z.string() });
export type InviteClaims = { guildId: string; channelId: string; expiresAt: number; invitedBy: string };

export type InviteCheck = { ok: true; claims: InviteClaims } | { ok: false; code: "INVITE_INVALID" | "INVITE_EXPIRED" | "INVITE_WRONG_ROOM"; message: string };

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64url = (s: string): Uint8Array<ArrayBuffer> | null => {
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
};

const keys = new Map<string, Promise<CryptoKey>>();
function inviteKey(hubSecret: string): Promise<CryptoKey> {
  let key = keys.get(hubSecret);
  if (!key) {
    key = (async () => {
      const master = await crypto.subtle.importKey("raw", enc.encode(hubSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const derived = await crypto.subtle.sign("HMAC", master, enc.encode("spell-coven/room-invite/v1"));
      return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    })();
    keys.set(hubSecret, key);
  }
  return key;
}

export async function signInvite(hubSecret: string, claims: Omit<InviteClaims, "expiresAt">, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + INVITE_TTL_MS;
  const payload = b64url(enc.encode(JSON.stringify({ g: claims.guildId, c: claims.channelId, exp: expiresAt, by: claims.invitedBy, n: crypto.randomUUID().slice(0, 8) })));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await inviteKey(hubSecret), enc.encode(`v1.${payload}`)));
  return { token: `v1.${payload}.${b64url(mac)}`, expiresAt };
}

/** Checks signature first (constant-time, by WebCrypto), then expiry, then that it is for this room. */
export async function verifyInvite(hubSecret: string, token: string, expect: { guildId: string; channelId: string }, now = Date.now()): Promise<InviteCheck> {
  const invalid = { ok: false, code: "INVITE_INVALID", message: "This invite link is not valid (it may have been altered); ask for a new one." } as const;
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") return invalid;
  const mac = fromB64url(parts[2]!);
  if (!mac || !(await crypto.subtle.verify("HMAC", await inviteKey(hubSecret), mac, enc.encode(`v1.${parts[1]}`)))) return invalid;
  const raw = fromB64url(parts[1]!);
  let payload: z.infer<typeof Payload>;
  try {
    payload = Payload.parse(JSON.parse(new TextDecoder().decode(raw ?? new Uint8Array())));
  } catch {
    return invalid;
  }
  if (now >= payload.exp) return { ok: false, code: "INVITE_EXPIRED", message: "This invite has expired (invites last 24 hours); ask for a new one." };
  if (payload.g !== expect.guildId || payload.c !== expect.channelId) {
    return { ok: false, code: "INVITE_WRONG_ROOM", message: "This invite is for a different room." };
  }
  return { ok: true, claims: { guildId: payload.g, channelId: payload.c, expiresAt: payload.exp, invitedBy: payload.by } };
}
