/**
 * Opus at 48 kHz stereo, 20 ms frames, through opusscript (WASM in its npm package: no FFmpeg,
 * no native build). One instance holds one encoder/decoder state; call `close()` to free it.
 */
import OpusScript from "opusscript";

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
/** Samples per channel in one 20 ms frame. */
export const FRAME_SAMPLES = 960;
/** Bytes of one 20 ms s16le stereo PCM frame. */
export const PCM_FRAME_BYTES = FRAME_SAMPLES * CHANNELS * 2;

export class OpusCodec {
  private readonly opus = new OpusScript(SAMPLE_RATE, CHANNELS, OpusScript.Application.AUDIO);
  private closed = false;

  /** One 20 ms s16le stereo PCM frame (3840 bytes) -> one Opus packet. */
  encode(pcm: Buffer): Buffer {
    if (pcm.length !== PCM_FRAME_BYTES) throw new RangeError(`a PCM frame is ${PCM_FRAME_BYTES} bytes (20 ms, 48 kHz, stereo, s16le); got ${pcm.length}`);
    return this.opus.encode(pcm, FRAME_SAMPLES);
  }

  /** One Opus packet -> s16le stereo PCM. */
  decode(packet: Buffer): Buffer {
    return this.opus.decode(packet);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opus.delete();
  }
}

/** RMS of s16le PCM as 0..1 (full-scale sine ~0.707). */
export function pcmLevel(pcm: Buffer): number {
  const n = pcm.length >> 1;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = pcm.readInt16LE(i * 2) / 32768;
    sum += s * s;
  }
  return Math.min(1, Math.sqrt(sum / n));
}
