/**
 * Small MLS wire helpers the DAVE delivery service needs beyond ts-mls: RFC 9420 §2.1.2 variable
 * length integers (for op 27's vectors) and the u64 big-endian identities DAVE uses for user ids
 * (credential identity) and channel ids (MLS group id).
 */

/** RFC 9420 variable-length vector length prefix (1, 2 or 4 bytes). */
export function encodeVarint(n: number): Buffer {
  if (n < 0x40) return Buffer.from([n]);
  if (n < 0x4000) {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(0x4000 | n, 0);
    return b;
  }
  if (n < 0x40000000) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((0x80000000 | n) >>> 0, 0);
    return b;
  }
  throw new RangeError(`MLS vector of ${n} bytes is too long`);
}

/** `opaque data<V>`: the varint length, then the bytes. */
export function vector(...items: Uint8Array[]): Buffer {
  const body = Buffer.concat(items);
  return Buffer.concat([encodeVarint(body.length), body]);
}

/** A snowflake as 8 bytes, big-endian (DAVE credential identities and group ids). */
export function snowflakeToU64BE(id: string): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(id), 0);
  return new Uint8Array(b);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
