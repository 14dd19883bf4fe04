/**
 * zlib-stream transport compression (Discord "Encoding and Compression"): one inflate context
 * shared by the whole connection; a gateway message is complete when the received bytes end with
 * the Z_SYNC_FLUSH suffix 00 00 ff ff. Until then frames are buffered.
 *
 * Two decoders with the same contract (messages come out in order through `onText`):
 * - SyncZlibStreamDecoder inflates in the same tick the frame arrives, driving the zlib handle's
 *   synchronous write directly (what `zlib.inflateSync` does, minus closing the context after one
 *   call). No stream events, promises or thread-pool hops per message: the fast path. It relies on
 *   Node internals (`_handle.writeSync`, `_writeState`), so `syncZlibAvailable()` self-tests it on a
 *   known two-message vector at startup;
 * - StreamZlibStreamDecoder is the public-API fallback (zlib Transform stream, like discord.js's
 *   ZlibNative), used when that self-test fails.
 */
import zlib from "node:zlib";

export interface GatewayDecoder {
  /** Feeds one WebSocket frame; complete messages are passed to `onText` in order. Throws (sync decoder) or calls `onError` on corrupt data. */
  push(data: Buffer): void;
  close(): void;
}

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;

function endsWithFlush(d: Buffer): boolean {
  const n = d.length;
  return n >= 4 && d[n - 4] === 0x00 && d[n - 3] === 0x00 && d[n - 2] === 0xff && d[n - 1] === 0xff;
}

/** Gathers frames until one ends with the flush marker. */
class FrameBuffer {
  private parts: Buffer[] = [];
  private bytes = 0;
  /** Returns the whole compressed message when `data` completes one, else null. */
  add(data: Buffer): Buffer | null {
    if (!endsWithFlush(data)) {
      this.parts.push(data);
      this.bytes += data.length;
      if (this.bytes > MAX_MESSAGE_BYTES) throw new Error("zlib-stream message exceeds 64 MiB without a flush marker");
      return null;
    }
    if (this.parts.length === 0) return data;
    this.parts.push(data);
    const all = Buffer.concat(this.parts, this.bytes + data.length);
    this.parts = [];
    this.bytes = 0;
    return all;
  }
  clear(): void {
    this.parts = [];
    this.bytes = 0;
  }
}

interface ZlibInternals {
  _handle: { writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void } | null;
  _writeState: Uint32Array;
  destroyed: boolean;
}

/**
 * Runs `input` through a zlib stream's context synchronously with Z_SYNC_FLUSH, keeping the
 * context open. Returns the output as a Buffer view (valid until the next call) or a new Buffer.
 */
class SyncZlib {
  private readonly out = Buffer.allocUnsafe(CHUNK);
  private readonly z: ZlibInternals;
  constructor(private readonly stream: zlib.Inflate | zlib.Deflate) {
    this.z = stream as unknown as ZlibInternals;
    stream.on("error", () => {}); // errors are thrown from process()
  }
  process(input: Buffer): Buffer {
    const handle = this.z._handle;
    if (!handle) throw new Error("zlib context is closed");
    const state = this.z._writeState;
    const out = this.out;
    let inOff = 0;
    let availIn = input.length;
    let parts: Buffer[] | null = null;
    let total = 0;
    for (;;) {
      handle.writeSync(zlib.constants.Z_SYNC_FLUSH, input, inOff, availIn, out, 0, CHUNK);
      if (this.z.destroyed || !this.z._handle) throw new Error("zlib-stream data is corrupt");
      const availOutAfter = state[0]!;
      const availInAfter = state[1]!;
      const have = CHUNK - availOutAfter;
      if (availOutAfter !== 0) {
        if (parts === null) return out.subarray(0, have);
        parts.push(Buffer.from(out.subarray(0, have)));
        return Buffer.concat(parts, total + have);
      }
      // Output buffer full: keep it and go again for the rest.
      (parts ??= []).push(Buffer.from(out));
      total += have;
      if (total > MAX_MESSAGE_BYTES) throw new Error("inflated gateway message exceeds 64 MiB");
      inOff += availIn - availInAfter;
      availIn = availInAfter;
    }
  }
  close(): void {
    this.stream.close();
  }
}

export class SyncZlibStreamDecoder implements GatewayDecoder {
  private readonly frames = new FrameBuffer();
  private readonly zlib = new SyncZlib(zlib.createInflate({ chunkSize: CHUNK }));
  constructor(private readonly onText: (text: string) => void) {}
  push(data: Buffer): void {
    const msg = this.frames.add(data);
    if (msg === null) return;
    const out = this.zlib.process(msg);
    this.onText(out.toString("utf8"));
  }
  close(): void {
    this.frames.clear();
    this.zlib.close();
  }
}

export class StreamZlibStreamDecoder implements GatewayDecoder {
  private readonly frames = new FrameBuffer();
  private readonly inflate = zlib.createInflate({ chunkSize: CHUNK, flush: zlib.constants.Z_SYNC_FLUSH });
  private out: Buffer[] = [];
  private closed = false;
  constructor(
    private readonly onText: (text: string) => void,
    onError: (err: Error) => void,
  ) {
    this.inflate.on("data", (c: Buffer) => this.out.push(c));
    this.inflate.on("error", (err) => {
      if (!this.closed) onError(err);
    });
  }
  push(data: Buffer): void {
    const msg = this.frames.add(data);
    if (msg === null) return;
    // A write's output is emitted before its callback: the callback sees exactly this message.
    this.inflate.write(msg, () => {
      if (this.closed) return;
      const text = Buffer.concat(this.out).toString("utf8");
      this.out = [];
      this.onText(text);
    });
  }
  close(): void {
    this.closed = true;
    this.frames.clear();
    this.inflate.destroy();
  }
}

// Two messages compressed with one shared context; the second cannot be inflated alone.
const VECTOR = ["eJyqVsovULIyNNBRSlGyqlbKSE0sKklKTSyJz8wrSS0qS8xRsjIxNDI1qK0FAAAA//8=", "qoaoNCSsEgAAAP//"];
let syncOk: boolean | null = null;

/** Self-test of the synchronous path on this Node (cached). */
export function syncZlibAvailable(): boolean {
  if (syncOk !== null) return syncOk;
  try {
    const got: string[] = [];
    const d = new SyncZlibStreamDecoder((t) => got.push(t));
    for (const v of VECTOR) d.push(Buffer.from(v, "base64"));
    d.close();
    syncOk = got[0] === '{"op":10,"d":{"heartbeat_interval":41250}}' && got[1] === '{"op":11,"d":{"heartbeat_interval":41250}}';
  } catch {
    syncOk = false;
  }
  return syncOk;
}

/** The fastest decoder this Node supports. */
export function createZlibStreamDecoder(onText: (text: string) => void, onError: (err: Error) => void): GatewayDecoder {
  return syncZlibAvailable() ? new SyncZlibStreamDecoder(onText) : new StreamZlibStreamDecoder(onText, onError);
}

/** The server side of zlib-stream (tests and the benchmark play Discord with it). */
export class ZlibStreamEncoder {
  private readonly zlib = new SyncZlib(zlib.createDeflate({ chunkSize: CHUNK }));
  encode(text: string | Buffer): Buffer {
    return Buffer.from(this.zlib.process(typeof text === "string" ? Buffer.from(text) : text));
  }
  close(): void {
    this.zlib.close();
  }
}
