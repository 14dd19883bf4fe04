/**
 * zlib-stream transport compression (Discord "Encoding and Compression"): one inflate context
 * shared by the whole connection; a gateway message is complete when the received bytes end with
 * the Z_SYNC_FLUSH suffix 00 00 ff ff. Until then frames are buffered.
 *
 * Inflation is synchronous (the zlib handle's own sync path, as `zlib.inflateSync` uses it) so a
 * message is decoded in the same tick it arrives: no stream events, no promises per message.
 */
import zlib from "node:zlib";

interface SyncInflate extends zlib.Inflate {
  _processChunk(chunk: Buffer, flushFlag: number): Buffer;
}

/** True when this Node exposes the synchronous inflate path we rely on (Node 18-24 do). */
export function syncInflateAvailable(): boolean {
  const probe = zlib.createInflate() as Partial<SyncInflate> & zlib.Inflate;
  const ok = typeof probe._processChunk === "function";
  probe.close();
  return ok;
}

export class ZlibStreamDecoder {
  private inflate: SyncInflate;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;

  constructor() {
    this.inflate = zlib.createInflate({ chunkSize: 64 * 1024 }) as SyncInflate;
    // Errors surface as exceptions from push(); keep the stream from emitting unhandled 'error'.
    this.inflate.on("error", () => {});
  }

  /**
   * Feeds one WebSocket frame. Returns the decoded text of a whole gateway message when the frame
   * completes one, else null. Throws on corrupt data (the caller drops the connection).
   */
  push(data: Buffer): string | null {
    if (this.closed) throw new Error("decoder closed");
    const n = data.length;
    const complete = n >= 4 && data[n - 4] === 0x00 && data[n - 3] === 0x00 && data[n - 2] === 0xff && data[n - 1] === 0xff;
    if (!complete) {
      this.pending.push(data);
      this.pendingBytes += n;
      // A gateway message is at most a few MB (a huge GUILD_CREATE); refuse unbounded growth.
      if (this.pendingBytes > 64 * 1024 * 1024) throw new Error("zlib-stream message exceeds 64 MiB without a flush marker");
      return null;
    }
    let input = data;
    if (this.pending.length) {
      this.pending.push(data);
      input = Buffer.concat(this.pending, this.pendingBytes + n);
      this.pending = [];
      this.pendingBytes = 0;
    }
    const out = this.inflate._processChunk(input, zlib.constants.Z_SYNC_FLUSH);
    return out.toString("utf8");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.inflate.close();
  }
}

/** Compressor used by tests and the benchmark to play the server side of zlib-stream. */
export class ZlibStreamEncoder {
  private deflate = zlib.createDeflate() as unknown as SyncInflate;
  encode(text: string | Buffer): Buffer {
    return this.deflate._processChunk(typeof text === "string" ? Buffer.from(text) : text, zlib.constants.Z_SYNC_FLUSH);
  }
  close(): void {
    (this.deflate as unknown as zlib.Deflate).close();
  }
}
