import { describe, expect, it } from "vitest";
import { StreamCursor, streamCursor } from "@spell-coven/common";
import { sseComment, sseMessage, sseRetry } from "../../src/stream/sse-frames.ts";

describe("SSE framing", () => {
  it("writes id, event and one-line data, ended by a blank line", () => {
    expect(sseMessage({ id: "e:1", event: "voice.joined", data: '{"a":1}' })).toBe('id: e:1\nevent: voice.joined\ndata: {"a":1}\n\n');
    expect(sseMessage({ event: "ready", data: "{}" })).toBe("event: ready\ndata: {}\n\n");
    expect(sseRetry(2000)).toBe("retry: 2000\n\n");
    expect(sseComment("a\nb")).toBe(": a b\n\n"); // a newline cannot smuggle a field in
  });

  it("cursors round-trip and bad ones are refused", () => {
    expect(StreamCursor.parse(streamCursor("9b2c-41", 42))).toEqual({ epoch: "9b2c-41", seq: 42 });
    for (const bad of ["", "nocolon", "epoch:", "e:1:2x", "e:-1", `${"x".repeat(70)}:1`]) expect(StreamCursor.safeParse(bad).success, bad).toBe(false);
  });
});
