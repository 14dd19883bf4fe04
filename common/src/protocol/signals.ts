/**
 * Signals: ephemeral, addressed hub -> client messages (ARCHITECTURE.md, "events and signals").
 * Unlike events they carry no `seq`, are never stored or replayed and never count toward the
 * slow-consumer lag; a client that reconnects asks again for what it needs. One payload schema
 * per signal, keyed by name, shared by the hub (producer) and the client library (consumer).
 */
import { z } from "zod";
import { Snowflake } from "../snowflake.ts";
import { CommandResultPayload } from "./chat.ts";

/** Opaque id the hub gives one socket at one table. */
export const PeerId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a peer id given by the hub");

/** A session description as RTCPeerConnection produces it (SDP capped: a video offer is ~4-8 KB). */
export const SessionDescription = z.object({
  type: z.enum(["offer", "answer"]),
  sdp: z
    .string()
    .min(1)
    .max(16 * 1024),
});
export type SessionDescription = z.infer<typeof SessionDescription>;
/** One ICE candidate (`RTCIceCandidateInit`); `null` marks the end of candidates. */
export const IceCandidate = z.object({
  candidate: z.string().max(1024),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidate>;
/** Generation of a peer pair: bumped when the pair is rebuilt; older signals are dropped. */
export const PairGeneration = z.number().int().nonnegative().max(1_000_000);

export const TablePeer = z.object({
  peerId: PeerId,
  userId: z.string().min(1).max(200),
  role: z.enum(["player", "spectator"]),
  camera: z.boolean(),
});

/** Payload schema of each signal, keyed by signal name. */
export const SignalPayloads = {
  /** Who is at the table you joined, and which peer you are. */
  "table.state": z.object({ channelId: Snowflake, you: PeerId, peers: z.array(TablePeer).max(64) }),
  /** Build a connection to `peer`: the newcomer offers to everyone already at the table. */
  "rtc.connect": z.object({ channelId: Snowflake, peer: PeerId, role: z.enum(["offerer", "answerer"]), gen: PairGeneration }),
  /** An offer, answer or candidate from `from` (stamped by the hub, never taken from the sender). */
  "rtc.signal": z.object({
    channelId: Snowflake,
    from: PeerId,
    gen: PairGeneration,
    description: SessionDescription.optional(),
    candidate: IceCandidate.nullable().optional(),
  }),
  /** `from` asks to rebuild the pair as generation `gen`. */
  "rtc.reset": z.object({ channelId: Snowflake, from: PeerId, gen: PairGeneration }),
  "table.left": z.object({ channelId: Snowflake, peerId: PeerId }),
  /**
   * Getting a player into the table's voice channel: already there, being moved by the bot, moved,
   * waiting for them to join any voice channel (then they are brought over), or failed (`message`
   * says why and what to do).
   */
  "table.voice": z.object({
    channelId: Snowflake,
    status: z.enum(["in-voice", "moving", "moved", "join-voice", "failed"]),
    message: z.string().max(300).optional(),
  }),
  /** From rtc-node while its bot is at the table. `level` is 0..1. */
  "voice.speaking": z.object({ channelId: Snowflake, userId: Snowflake, speaking: z.boolean(), level: z.number().min(0).max(1).optional() }),
  /**
   * What became of a chat command, to its sender's sockets only: accepted (it goes to Discord),
   * sent (with the Discord message id), refused (a local limit or rule: `code`, `retryAfterMs`) or
   * failed (Discord refused or could not be reached).
   */
  "command.result": CommandResultPayload,
} as const;
export type SignalName = keyof typeof SignalPayloads;
export type SignalPayload<S extends SignalName> = z.infer<(typeof SignalPayloads)[S]>;
export const SignalNames = Object.keys(SignalPayloads) as SignalName[];

function signalSchema<S extends SignalName>(signal: S) {
  return z.object({ v: z.literal(1), type: z.literal("signal"), signal: z.literal(signal), payload: SignalPayloads[signal], ts: z.number() });
}

/** One signal envelope of name `S` (all of them when `S` is left out). */
export type SignalEnvelope<S extends SignalName = SignalName> = { [K in S]: z.infer<ReturnType<typeof signalSchema<K>>> }[S];

export const SignalEnvelope = z.discriminatedUnion(
  "signal",
  SignalNames.map(signalSchema) as unknown as [ReturnType<typeof signalSchema>, ...ReturnType<typeof signalSchema>[]],
) as unknown as z.ZodType<SignalEnvelope>;
