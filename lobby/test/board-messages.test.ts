import { describe, expect, it } from "vitest";
import type { PeerQuality } from "@spell-coven/client";
import { cameraProblem, leftLine, qualityLine, unreachable, voiceLine } from "../src/table/board-messages.ts";

const err = (name: string, message = "") => Object.assign(new Error(message), { name });
const quality: PeerQuality = {
  codec: "video/VP8",
  width: 1280,
  height: 720,
  fps: 14.6,
  kbps: 980,
  packetsLost: 3,
  rttMs: 42,
  framesDecoded: 900,
  limitedBy: "none",
  targetBitrate: 1_200_000,
};

describe("what the table page says", () => {
  it("names the camera problem the player can fix: denied, none, busy, anything else", () => {
    expect(cameraProblem(err("NotAllowedError"))).toMatch(/^Camera permission was denied.*Allow the camera/);
    expect(cameraProblem({ name: "SecurityError" })).toMatch(/^Camera permission was denied/);
    expect(cameraProblem(err("NotFoundError"))).toMatch(/^No camera was found/);
    expect(cameraProblem(err("NotReadableError"))).toMatch(/another app or tab is using it/);
    expect(cameraProblem(err("TypeError", "bad constraints"))).toBe("Your camera could not be started (bad constraints). Try again, or pick another camera.");
  });

  it("the voice move, step by step", () => {
    expect(voiceLine("moving")).toBe("Moving you into the table's voice channel…");
    expect(voiceLine("join-voice")).toMatch(/^You're not in a voice channel yet\. Join voice in Discord/);
    expect(voiceLine("moved")).toBe("You're in the table's voice channel.");
    expect(voiceLine("failed", "The bot may not move members here.")).toBe("The bot may not move members here.");
    expect(voiceLine("failed")).toMatch(/couldn't move you/);
  });

  it("why the call ended; the table's end is the lobby's notice", () => {
    expect(leftLine("elsewhere")).toMatch(/another tab or device/);
    expect(leftLine("seat")).toMatch(/gave up your seat/);
    expect(leftLine("ended")).toBeNull();
  });

  it("a compact quality line, and Connecting… before there are stats", () => {
    expect(qualityLine(quality)).toBe("VP8 · 1280×720 · 15 fps · 980 kb/s · 3 lost · 42 ms");
    expect(qualityLine({ ...quality, kbps: null, rttMs: null })).toBe("VP8 · 1280×720 · 15 fps · 3 lost");
    expect(qualityLine(null)).toBe("Connecting…");
    expect(unreachable("bob")).toMatch(/^We can't reach bob's browser/);
  });
});
