/**
 * Small signed tokens of the Worker's own: `v1.<payload>.<mac>` (base64url), an HMAC-SHA256 over
 * the payload with a key derived from HUB_SECRET for one purpose, so a token of one kind (a room
 * invite, a stream ticket) can never be replayed as another, and a leaked one reveals no key.
 */
import type { z } from "zod";

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const fromB64url = (s: string): Uint8Array<ArrayBuffer> | null => {
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
};

const keys = new Map<string, Promise<CryptoKey>>();
function purposeKey(hubSecret: string, purpose: string): Promise<CryptoKey> {
  const id = `${purpose}\u0000${hubSecret}`;
  let key = keys.get(id);
  if (!key) {
    key = (async () => {
      const master = await crypto.subtle.importKey("raw", enc.encode(hubSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const derived = await crypto.subtle.sign("HMAC", master, enc.encode(`spell-coven/${purpose}/v1`));
      return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    })();
    keys.set(id, key);
  }
  return key;
}

/** Signs `payload` (any JSON) for `purpose`. */
export async function signToken(hubSecret: string, purpose: string, payload: unknown): Promise<string> {
  const body = b64url(enc.encode(JSON.stringify(payload)));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await purposeKey(hubSecret, purpose), enc.encode(`v1.${body}`)));
  return `v1.${body}.${b64url(mac)}`;
}

/**
 * The payload of a token signed for `purpose`, checked against `schema`; null when the format,
 * the signature (checked first, in constant time by WebCrypto) or the schema does not hold.
 * Expiry is the caller's to judge (its message differs per kind).
 */
export async function verifyToken<S extends z.ZodType>(hubSecret: string, purpose: string, token: string, schema: S): Promise<z.infer<S> | null> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") return null;
  const mac = fromB64url(parts[2]!);
  if (!mac || !(await crypto.subtle.verify("HMAC", await purposeKey(hubSecret, purpose), mac, enc.encode(`v1.${parts[1]}`)))) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(fromB64url(parts[1]!) ?? new Uint8Array())));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
