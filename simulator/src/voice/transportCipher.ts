/**
 * Discord's two voice transport encryption modes, implemented independently of the client's own
 * code: AES-256-GCM from node:crypto, XChaCha20-Poly1305 from @noble/ciphers (Node has no XChaCha).
 * Nonces are a 4-byte big-endian counter padded with zeros to 12 (GCM) or 24 (XChaCha) bytes.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";

/** The modes the simulator offers, in the order Ready lists them (the client takes the first it supports). */
export const TRANSPORT_MODES = ["aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"] as const;
export type TransportMode = (typeof TRANSPORT_MODES)[number];

export function isTransportMode(mode: unknown): mode is TransportMode {
  return typeof mode === "string" && (TRANSPORT_MODES as readonly string[]).includes(mode);
}

const TAG_BYTES = 16;

export class TransportCipher {
  constructor(
    readonly mode: TransportMode,
    private readonly key: Uint8Array,
  ) {
    if (key.length !== 32) throw new RangeError("A voice secret key is 32 bytes");
  }

  /** Ciphertext followed by the 16-byte tag. */
  seal(plaintext: Uint8Array, aad: Uint8Array, counter: number): Buffer {
    if (this.mode === "aead_aes256_gcm_rtpsize") {
      const cipher = createCipheriv("aes-256-gcm", this.key, nonce(counter, 12), { authTagLength: TAG_BYTES });
      cipher.setAAD(aad);
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    }
    return Buffer.from(xchacha20poly1305(this.key, nonce(counter, 24), aad).encrypt(plaintext));
  }

  /** Returns the plaintext, or null when authentication fails. */
  open(sealed: Uint8Array, aad: Uint8Array, counter: number): Buffer | null {
    if (sealed.length < TAG_BYTES) return null;
    try {
      if (this.mode === "aead_aes256_gcm_rtpsize") {
        const decipher = createDecipheriv("aes-256-gcm", this.key, nonce(counter, 12), { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
      }
      return Buffer.from(xchacha20poly1305(this.key, nonce(counter, 24), aad).decrypt(sealed));
    } catch {
      return null;
    }
  }
}

function nonce(counter: number, length: number): Buffer {
  const n = Buffer.alloc(length);
  n.writeUInt32BE(counter >>> 0, 0);
  return n;
}
