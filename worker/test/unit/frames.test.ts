import { describe, expect, it } from "vitest";
import { BatchFrame, ClientAck, ErrorAck, EventEnvelope, MAX_BATCH_EVENTS, SignalEnvelope, SkipFrame } from "@spell-coven/common";
import { ACK_FAST, batchFrames, errorFrame, eventFrame, signalFrame, skipFrame } from "../../src/hub/fanout/frames.ts";

const G = "100000000000000001";

describe("the hub's fast encoders agree with the protocol schemas", () => {
  it("event frames are valid EventEnvelopes", () => {
    const frame = eventFrame({ event: "voice.joined", payload: { guildId: G, channelId: "2", userId: "3" } }, 1_700_000_000_000, 7);
    expect(EventEnvelope.parse(JSON.parse(frame))).toEqual({
      v: 1,
      type: "event",
      event: "voice.joined",
      payload: { guildId: G, channelId: "2", userId: "3" },
      ts: 1_700_000_000_000,
      seq: 7,
    });
  });

  it("an event's trace id is in its envelope (and the schema refuses one that is not W3C)", () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const frame = eventFrame({ event: "message.deleted", payload: { guildId: G, channelId: "2", messageIds: ["3", "4"] }, traceId }, 5, 8);
    expect(EventEnvelope.parse(JSON.parse(frame))).toMatchObject({ event: "message.deleted", seq: 8, traceId });
    expect(EventEnvelope.safeParse({ ...JSON.parse(frame), traceId: "not-a-trace" }).success).toBe(false);
    expect("traceId" in JSON.parse(eventFrame({ event: "room.deleted", payload: { guildId: G, channelId: "2" } }, 5, 9))).toBe(false);
  });

  it("signal frames of command.result are valid SignalEnvelopes", () => {
    const payload = {
      commandId: "c1",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      command: "sendMessage",
      channelId: "2",
      status: "refused",
      code: "RATE_LIMITED",
      retryAfterMs: 1200,
    } as const;
    expect(SignalEnvelope.parse(JSON.parse(signalFrame("command.result", payload, 5)))).toMatchObject({ signal: "command.result", payload });
  });

  it("batch frames hold at most MAX_BATCH_EVENTS valid envelopes each, in order", () => {
    const events = Array.from({ length: MAX_BATCH_EVENTS + 3 }, (_, i) =>
      eventFrame({ event: "room.deleted", payload: { guildId: G, channelId: String(i + 1) } }, 1, i + 1),
    );
    const frames = batchFrames(events).map((f) => BatchFrame.parse(JSON.parse(f)));
    expect(frames.map((f) => f.events.length)).toEqual([MAX_BATCH_EVENTS, 3]);
    const seqs = frames.flatMap((f) => f.events.map((e) => EventEnvelope.parse(e).seq));
    expect(seqs).toEqual(events.map((_, i) => i + 1));
  });

  it("skip frames are valid SkipFrames, alone and in a batch", () => {
    expect(SkipFrame.parse(JSON.parse(skipFrame(12, 5)))).toEqual({ v: 1, type: "skip", seq: 12, ts: 5 });
    const [batch] = batchFrames([eventFrame({ event: "room.deleted", payload: { guildId: G, channelId: "2" } }, 1, 11), skipFrame(12, 5)]);
    expect(BatchFrame.parse(JSON.parse(batch!)).events.map((e: any) => e.type)).toEqual(["event", "skip"]);
  });

  it("signal and error frames are valid SignalEnvelopes and ErrorAcks", () => {
    const signal = JSON.parse(signalFrame("voice.speaking", { channelId: "2", userId: "3", speaking: true, level: 0.5 }, 5));
    expect(SignalEnvelope.parse(signal)).toMatchObject({ type: "signal", signal: "voice.speaking" });
    expect("seq" in signal).toBe(false);
    expect(ErrorAck.parse(JSON.parse(errorFrame("BAD_MESSAGE", "Nope.", 5))).payload.code).toBe("BAD_MESSAGE");
  });

  it("the ack fast path matches exactly what a client sends and nothing looser", () => {
    const sent = JSON.stringify(ClientAck.parse({ type: "ack", seq: 42 }));
    expect(ACK_FAST.exec(sent)?.[1]).toBe("42");
    for (const other of ['{"type":"ack","seq":-1}', '{"type":"ack","seq":1.5}', '{ "type":"ack","seq":1}', '{"type":"ack","seq":1,"x":1}'])
      expect(ACK_FAST.test(other)).toBe(false);
  });
});
