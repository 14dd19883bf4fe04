/** VoiceSession's v8 sequence and replay buffer, without sockets. */
import { describe, expect, it } from "vitest";
import { VoiceOpcodes } from "discord-api-types/voice/v8";
import { VoiceSession } from "../src/voice/voiceSession.ts";
import type { VoiceSocket } from "../src/voice/voiceSocket.ts";

const session = () => new VoiceSession({ token: "t", guildId: "1", channelId: "2", userId: "3", sessionId: "s" });

describe("VoiceSession", () => {
  it("numbers JSON and binary messages with one counter and replays only what was not acknowledged", () => {
    const s = session();
    s.send(VoiceOpcodes.Ready, {});
    s.sendBinary(VoiceOpcodes.DaveMlsExternalSender, Buffer.from([9]));
    s.send(VoiceOpcodes.ClientsConnect, { user_ids: ["4"] });
    s.acknowledge(1);
    const frames: (string | Buffer)[] = [];
    s.attach({ sendRaw: (f: string | Buffer) => frames.push(f) } as unknown as VoiceSocket);
    s.replayUnacknowledged();
    expect(frames).toHaveLength(2);
    expect([...(frames[0] as Buffer)]).toEqual([0, 2, VoiceOpcodes.DaveMlsExternalSender, 9]);
    expect(JSON.parse(frames[1] as string)).toMatchObject({ op: VoiceOpcodes.ClientsConnect, seq: 3 });
  });

  it("refuses a resume from before what the buffer still holds", () => {
    const s = session();
    for (let i = 0; i < 501; i++) s.send(VoiceOpcodes.Speaking, { i });
    expect(s.canReplayAfter(0)).toBe(false); // seq 1 is gone
    expect(s.canReplayAfter(1)).toBe(true);
    expect(s.canReplayAfter(400)).toBe(true);
  });
});
