/**
 * The hub's string encoders for what it sends: built by hand (or with one JSON.stringify) on the
 * hot path instead of through the schemas, and checked against the schemas in common by
 * test/frames.test.ts, so they cannot drift from the contract.
 */
import { MAX_BATCH_EVENTS, type ErrorAck, type SignalName, type SignalPayload } from "@spell-coven/common";
import type { PublicEvent } from "../hub-module.ts";

/** One event envelope, serialized once for the history and every socket. */
export function eventFrame(e: PublicEvent, ts: number, seq: number): string {
  return JSON.stringify(
    e.traceId
      ? { v: 1, type: "event", event: e.event, payload: e.payload, ts, seq, traceId: e.traceId }
      : { v: 1, type: "event", event: e.event, payload: e.payload, ts, seq },
  );
}

/** Stands in for event `seq` for a client it is not addressed to (SkipFrame). */
export function skipFrame(seq: number, ts: number): string {
  return `{"v":1,"type":"skip","seq":${seq},"ts":${ts}}`;
}

/** Batch frames of at most MAX_BATCH_EVENTS from already-serialized events, without parsing them again. */
export function batchFrames(events: readonly string[]): string[] {
  const frames: string[] = [];
  for (let i = 0; i < events.length; i += MAX_BATCH_EVENTS) frames.push(`{"v":1,"type":"batch","events":[${events.slice(i, i + MAX_BATCH_EVENTS).join(",")}]}`);
  return frames;
}

export function signalFrame<S extends SignalName>(signal: S, payload: SignalPayload<S>, ts: number): string {
  return JSON.stringify({ v: 1, type: "signal", signal, payload, ts });
}

export function errorFrame(code: string, message: string, ts: number): string {
  return JSON.stringify({ v: 1, type: "ack", event: "error", payload: { code, message }, ts } satisfies ErrorAck);
}

/** `{"type":"ack","seq":N}` exactly as the client library sends it: parsed without JSON.parse. */
export const ACK_FAST = /^\{"type":"ack","seq":(\d{1,15})\}$/;
