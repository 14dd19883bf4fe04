/**
 * HMAC signing of internal posts, with WebCrypto only so the Worker and Node share this file.
 *
 *   X-Hub-Timestamp: <unix seconds>
 *   X-Hub-Signature: sha256=<lowercase hex HMAC-SHA256(secret, "<ts>.<raw body>")>
 */
export const TIMESTAMP_HEADER = "X-Hub-Timestamp";
export const SIGNATURE_HEADER = "X-Hub-Signature";
/** Largest accepted distance between the signed timestamp and the verifier's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function importKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keyCache.set(secret, key);
  }
  return key;
}

/** Lowercase hex of some bytes (signatures, digests). */
export function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function signedBytes(timestamp: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const rest = typeof body === "string" ? encoder.encode(body) : body;
  const out = new Uint8Array(prefix.length + rest.length);
  out.set(prefix, 0);
  out.set(rest, prefix.length);
  return out;
}

/** Headers for a post of `body` signed now (or at `nowSeconds`). */
export async function signHubRequest(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<Record<string, string>> {
  const ts = String(nowSeconds);
  const mac = await crypto.subtle.sign("HMAC", await importKey(secret), signedBytes(ts, body));
  return { [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: `sha256=${toHex(mac)}` };
}

export type HubSignatureCheck =
  | { ok: true }
  | { ok: false; code: "SIGNATURE_MISSING" | "SIGNATURE_MALFORMED" | "TIMESTAMP_STALE" | "SIGNATURE_INVALID"; message: string };

/**
 * Verifies a signed post. The MAC comparison is WebCrypto's own `verify`, which is constant-time,
 * so no hand-written comparison of secrets happens here.
 */
export async function verifyHubRequest(
  secret: string,
  timestamp: string | null | undefined,
  signature: string | null | undefined,
  rawBody: Uint8Array | string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<HubSignatureCheck> {
  if (!timestamp || !signature) {
    return { ok: false, code: "SIGNATURE_MISSING", message: `Both ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} headers are required.` };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, code: "SIGNATURE_MALFORMED", message: `${TIMESTAMP_HEADER} must be Unix seconds.` };
  }
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
    return {
      ok: false,
      code: "TIMESTAMP_STALE",
      message: `${TIMESTAMP_HEADER} is more than ${MAX_CLOCK_SKEW_SECONDS} s from the server clock; check the sender's clock (NTP).`,
    };
  }
  const mac = signature.startsWith("sha256=") ? fromHex(signature.slice(7)) : null;
  if (mac?.length !== 32) {
    return { ok: false, code: "SIGNATURE_MALFORMED", message: `${SIGNATURE_HEADER} must be "sha256=" followed by 64 lowercase hex digits.` };
  }
  const valid = await crypto.subtle.verify("HMAC", await importKey(secret), mac, signedBytes(timestamp, rawBody));
  return valid ? { ok: true } : { ok: false, code: "SIGNATURE_INVALID", message: "Signature does not match; check that sender and Worker share HUB_SECRET." };
}
