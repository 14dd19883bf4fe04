/**
 * A short WAV clip as a stream of 20 ms Opus packets (48 kHz stereo), for simulated people who
 * should say something other than a tone. Accepts 16-bit PCM WAV, mono or stereo, at any sample
 * rate (resampled linearly to 48 kHz: good enough for speech in tests).
 */
import { Readable } from "node:stream";
import OpusScript from "opusscript";
import { CHANNELS, FRAME_SAMPLES, SAMPLE_RATE } from "./toneSource.ts";

/** Longest clip accepted (48 kHz stereo PCM grows to about 11 MB a minute). */
export const MAX_WAV_SECONDS = 60;

/** Parses a PCM16 WAV into 48 kHz interleaved stereo samples; throws a RangeError saying what is wrong. */
export function decodeWav(wav: Buffer): Int16Array {
  if (wav.length < 12 || wav.toString("ascii", 0, 4) !== "RIFF" || wav.toString("ascii", 8, 12) !== "WAVE") throw new RangeError("not a RIFF/WAVE file");
  let format: { channels: number; rate: number; bits: number; codec: number } | null = null;
  let data: Buffer | null = null;
  for (let offset = 12; offset + 8 <= wav.length; ) {
    const id = wav.toString("ascii", offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = wav.subarray(offset + 8, Math.min(wav.length, offset + 8 + size));
    if (id === "fmt " && body.length >= 16)
      format = { codec: body.readUInt16LE(0), channels: body.readUInt16LE(2), rate: body.readUInt32LE(4), bits: body.readUInt16LE(14) };
    if (id === "data") data = body;
    offset += 8 + size + (size % 2);
  }
  if (!format || !data) throw new RangeError("WAV file without fmt or data chunk");
  if (format.codec !== 1 || format.bits !== 16) throw new RangeError("only 16-bit PCM WAV is supported");
  if (format.channels < 1 || format.channels > 2) throw new RangeError("only mono or stereo WAV is supported");
  if (format.rate < 8000 || format.rate > 192_000) throw new RangeError(`unsupported sample rate ${format.rate}`);
  const inFrames = Math.floor(data.length / (2 * format.channels));
  if (inFrames / format.rate > MAX_WAV_SECONDS) throw new RangeError(`WAV clip longer than ${MAX_WAV_SECONDS} s`);
  const outFrames = Math.floor((inFrames * SAMPLE_RATE) / format.rate);
  const out = new Int16Array(outFrames * CHANNELS);
  const sample = (frame: number, channel: number) => data!.readInt16LE((frame * format!.channels + Math.min(channel, format!.channels - 1)) * 2);
  for (let i = 0; i < outFrames; i++) {
    const position = (i * format.rate) / SAMPLE_RATE;
    const at = Math.min(inFrames - 1, Math.floor(position));
    const next = Math.min(inFrames - 1, at + 1);
    const fraction = position - at;
    for (let c = 0; c < CHANNELS; c++) out[i * CHANNELS + c] = Math.round(sample(at, c) * (1 - fraction) + sample(next, c) * fraction);
  }
  return out;
}

export class WavSource extends Readable {
  private readonly encoder = new OpusScript(SAMPLE_RATE, CHANNELS, OpusScript.Application.AUDIO);
  private readonly samples: Int16Array;
  private position = 0;

  constructor(wav: Buffer) {
    super({ objectMode: true, highWaterMark: 2 });
    this.samples = decodeWav(wav);
  }

  override _read(): void {
    const frameLength = FRAME_SAMPLES * CHANNELS;
    if (this.position >= this.samples.length) {
      this.push(null);
      return;
    }
    const pcm = Buffer.alloc(frameLength * 2); // the last frame is padded with silence
    const chunk = this.samples.subarray(this.position, this.position + frameLength);
    Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).copy(pcm);
    this.position += frameLength;
    this.push(this.encoder.encode(pcm, FRAME_SAMPLES));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.encoder.delete();
    callback(error);
  }
}
