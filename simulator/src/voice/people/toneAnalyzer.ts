/**
 * What a listener heard from one speaker: packets, Opus decode failures, and over the recent
 * audible frames the dominant frequency (from zero crossings, exact enough for a pure tone) and
 * the RMS level in dBFS. Silence (the 5 frames the player sends at the end) is counted but does
 * not move the frequency.
 */
import OpusScript from "opusscript";
import { CHANNELS, SAMPLE_RATE } from "./toneSource.ts";

/** Frames analysed: the last 0.5 s of audible audio. */
const WINDOW_FRAMES = 25;
/** Below this RMS (about -50 dBFS) a frame counts as silence. */
const SILENCE_RMS = 100;

export interface HeardSpeaker {
  packets: number;
  audibleFrames: number;
  decodeErrors: number;
  /** Dominant frequency over the recent audible frames, or null before any. */
  frequencyHz: number | null;
  /** RMS level of the recent audible frames in dBFS, or null before any. */
  levelDbfs: number | null;
}

export class ToneAnalyzer {
  private readonly decoder = new OpusScript(SAMPLE_RATE, CHANNELS, OpusScript.Application.AUDIO);
  private readonly window: Int16Array[] = [];
  private packets = 0;
  private audibleFrames = 0;
  private decodeErrors = 0;

  push(opus: Buffer): void {
    this.packets++;
    let pcm: Buffer;
    try {
      pcm = this.decoder.decode(opus);
    } catch {
      // DAVE ciphertext handed to the application (E2EE not ready yet) lands here.
      this.decodeErrors++;
      return;
    }
    const left = new Int16Array(pcm.length / 4);
    let sumSquares = 0;
    for (let i = 0; i < left.length; i++) {
      const sample = pcm.readInt16LE(i * 4);
      left[i] = sample;
      sumSquares += sample * sample;
    }
    if (left.length === 0 || Math.sqrt(sumSquares / left.length) < SILENCE_RMS) return;
    this.audibleFrames++;
    this.window.push(left);
    if (this.window.length > WINDOW_FRAMES) this.window.shift();
  }

  result(): HeardSpeaker {
    const base = { packets: this.packets, audibleFrames: this.audibleFrames, decodeErrors: this.decodeErrors };
    const samples = this.window.reduce((n, f) => n + f.length, 0);
    if (samples === 0) return { ...base, frequencyHz: null, levelDbfs: null };
    let crossings = 0;
    let sumSquares = 0;
    let previous = 0;
    for (const frame of this.window) {
      for (const sample of frame) {
        if ((previous < 0 && sample >= 0) || (previous >= 0 && sample < 0)) crossings++;
        previous = sample;
        sumSquares += sample * sample;
      }
    }
    const seconds = samples / SAMPLE_RATE;
    const rms = Math.sqrt(sumSquares / samples);
    return { ...base, frequencyHz: Math.round(crossings / 2 / seconds), levelDbfs: Math.round(20 * Math.log10(rms / 32_768) * 10) / 10 };
  }

  close(): void {
    this.decoder.delete();
  }
}
