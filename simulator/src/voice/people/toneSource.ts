/**
 * A sine tone as a stream of Opus packets (48 kHz, stereo, 20 ms), for
 * `createAudioResource(source, { inputType: StreamType.Opus })`: an object-mode Readable of one
 * packet per read, which the AudioPlayer pulls every 20 ms. Encoded with opusscript (WASM), so
 * no FFmpeg or native build is needed.
 */
import { Readable } from "node:stream";
import OpusScript from "opusscript";

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
/** Samples per channel in one 20 ms frame. */
export const FRAME_SAMPLES = 960;

export interface ToneOptions {
  frequencyHz: number;
  /** Peak amplitude, 0..1. Default 0.5. */
  amplitude?: number;
  /** Stop after this long (the player then sends its 5 silence frames). Default: until stop(). */
  durationMs?: number;
}

export class ToneSource extends Readable {
  private readonly encoder = new OpusScript(SAMPLE_RATE, CHANNELS, OpusScript.Application.AUDIO);
  private phase = 0;
  private framesLeft: number;
  private readonly step: number;
  private readonly amplitude: number;

  constructor(readonly options: ToneOptions) {
    super({ objectMode: true, highWaterMark: 2 });
    if (!(options.frequencyHz > 0 && options.frequencyHz < SAMPLE_RATE / 2)) throw new RangeError("frequencyHz must be between 0 and 24000");
    this.step = (2 * Math.PI * options.frequencyHz) / SAMPLE_RATE;
    this.amplitude = Math.min(1, Math.max(0, options.amplitude ?? 0.5)) * 32_767;
    this.framesLeft = options.durationMs === undefined ? Infinity : Math.ceil(options.durationMs / 20);
  }

  /** Ends the tone after the current frame. */
  stop(): void {
    this.framesLeft = 0;
  }

  override _read(): void {
    if (this.framesLeft <= 0) {
      this.push(null);
      return;
    }
    this.framesLeft--;
    const pcm = Buffer.alloc(FRAME_SAMPLES * CHANNELS * 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const sample = Math.round(Math.sin(this.phase) * this.amplitude);
      this.phase += this.step;
      pcm.writeInt16LE(sample, i * 4);
      pcm.writeInt16LE(sample, i * 4 + 2);
    }
    this.phase %= 2 * Math.PI;
    this.push(this.encoder.encode(pcm, FRAME_SAMPLES));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.encoder.delete();
    callback(error);
  }
}
