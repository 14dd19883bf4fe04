/**
 * The table bot's audio cues, synthesised here (sine tones with short fades, encoded with
 * opusscript), never downloaded. Each cue is a list of 20 ms Opus packets, made once and cached.
 */
import type { BotCueName } from "@spell-coven/common";
import { FRAME_SAMPLES, OpusCodec, PCM_FRAME_BYTES, SAMPLE_RATE } from "./opus-codec.ts";

/** A cue: tones played one after another (frequency 0 = a pause). */
export interface CueSpec {
  notes: { frequencyHz: number; ms: number }[];
  amplitude: number;
}

/**
 * The named cues. room_closing holds its pitch (660 Hz) long enough for a listener's tone
 * detector, and is the one the hub's `room.closing` triggers.
 */
export const CUES: Record<BotCueName, CueSpec> = {
  room_closing: {
    notes: [
      { frequencyHz: 660, ms: 600 },
      { frequencyHz: 0, ms: 100 },
      { frequencyHz: 660, ms: 600 },
    ],
    amplitude: 0.4,
  },
  chime: {
    notes: [
      { frequencyHz: 880, ms: 200 },
      { frequencyHz: 1320, ms: 300 },
    ],
    amplitude: 0.3,
  },
  turn: {
    notes: [
      { frequencyHz: 523, ms: 150 },
      { frequencyHz: 784, ms: 250 },
    ],
    amplitude: 0.3,
  },
  alert: {
    notes: [
      { frequencyHz: 440, ms: 250 },
      { frequencyHz: 0, ms: 80 },
      { frequencyHz: 440, ms: 250 },
      { frequencyHz: 0, ms: 80 },
      { frequencyHz: 440, ms: 250 },
    ],
    amplitude: 0.4,
  },
};

/** s16le stereo PCM of a cue, in whole 20 ms frames, with 5 ms fades against clicks. */
export function cuePcm(spec: CueSpec): Buffer {
  const chunks: Buffer[] = [];
  const fade = Math.round(SAMPLE_RATE * 0.005);
  for (const note of spec.notes) {
    const samples = Math.round((SAMPLE_RATE * note.ms) / 1000);
    const buf = Buffer.alloc(samples * 4);
    if (note.frequencyHz > 0) {
      const step = (2 * Math.PI * note.frequencyHz) / SAMPLE_RATE;
      for (let i = 0; i < samples; i++) {
        const env = Math.min(1, i / fade, (samples - i) / fade);
        const s = Math.round(Math.sin(i * step) * spec.amplitude * env * 32767);
        buf.writeInt16LE(s, i * 4);
        buf.writeInt16LE(s, i * 4 + 2);
      }
    }
    chunks.push(buf);
  }
  const pcm = Buffer.concat(chunks);
  const frames = Math.ceil(pcm.length / PCM_FRAME_BYTES);
  const out = Buffer.alloc(frames * PCM_FRAME_BYTES);
  pcm.copy(out);
  return out;
}

const cache = new Map<BotCueName, Buffer[]>();

/** The Opus packets of a named cue (20 ms each). */
export function cuePackets(name: BotCueName): Buffer[] {
  let packets = cache.get(name);
  if (!packets) {
    const pcm = cuePcm(CUES[name]);
    const codec = new OpusCodec();
    try {
      packets = [];
      for (let off = 0; off < pcm.length; off += FRAME_SAMPLES * 4) packets.push(codec.encode(pcm.subarray(off, off + PCM_FRAME_BYTES)));
    } finally {
      codec.close();
    }
    cache.set(name, packets);
  }
  return packets;
}
