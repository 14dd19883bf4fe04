/**
 * Transport compression `zlib-stream`: one deflate context for the whole connection; each
 * payload is written and flushed with Z_SYNC_FLUSH so every WebSocket message ends with
 * 00 00 ff ff and the client can inflate it with its one shared inflate context.
 */
import { constants, createDeflate, type Deflate } from "node:zlib";

const SYNC_FLUSH_SUFFIX = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export class ZlibStreamEncoder {
  private readonly deflate: Deflate = createDeflate({ chunkSize: 65_535 });
  private chunks: Buffer[] = [];
  /** Encodes run one at a time so compressed frames leave in the order payloads were sent. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.deflate.on("data", (chunk: Buffer) => this.chunks.push(chunk));
  }

  encode(text: string): Promise<Buffer> {
    const result = this.queue.then(() => this.encodeNow(text));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.deflate.close();
  }

  private encodeNow(text: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.deflate.write(text, (error) => error && reject(error));
      this.deflate.flush(constants.Z_SYNC_FLUSH, () => this.collect(resolve, reject));
    });
  }

  /** Output can reach the 'data' listener a tick after the flush callback; wait for the suffix. */
  private collect(resolve: (frame: Buffer) => void, reject: (error: Error) => void): void {
    if (this.deflate.destroyed) {
      reject(new Error("zlib-stream encoder closed"));
      return;
    }
    const frame = Buffer.concat(this.chunks);
    if (!frame.subarray(-4).equals(SYNC_FLUSH_SUFFIX)) {
      setImmediate(() => this.collect(resolve, reject));
      return;
    }
    this.chunks = [];
    resolve(frame);
  }
}
