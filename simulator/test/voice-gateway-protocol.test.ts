/**
 * The voice gateway v8 and UDP at the wire level, with a bare `ws` client and a dgram socket:
 * identify validation and close codes, Ready, IP discovery, Select Protocol, heartbeats with
 * seq_ack, Resume re-delivering what was missed.
 */
import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VoiceCloseCodes, VoiceOpcodes } from "discord-api-types/voice/v8";
import { WebSocket } from "ws";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";
import { waitFor } from "./helpers.ts";

let sim: LocalDiscord;
const sockets: WebSocket[] = [];
let udp: Socket | undefined;

beforeEach(async () => {
  sim = await startSimulator({ voice: { daveVersion: 0, heartbeatIntervalMs: 1000 } });
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) {
    ws.on("error", () => {}); // terminating a socket still opening reports an error
    ws.terminate();
  }
  udp?.close();
  udp = undefined;
  await sim.close();
});

interface RawVoice {
  ws: WebSocket;
  received: { op: number; d: any; seq?: number }[];
  closed: Promise<number>;
  send(op: number, d: unknown): void;
  next(op: number, after?: number): Promise<{ op: number; d: any; seq?: number }>;
}

async function rawVoice(endpoint = sim.voice!.endpoint): Promise<RawVoice> {
  const ws = new WebSocket(`wss://${endpoint}?v=8`); // the process trusts the simulator's CA
  sockets.push(ws);
  const received: RawVoice["received"] = [];
  ws.on("message", (data, isBinary) => {
    if (!isBinary) received.push(JSON.parse(data.toString()));
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    received,
    closed,
    send: (op, d) => ws.send(JSON.stringify({ op, d })),
    next: (op, after = 0) => waitFor(() => received.slice(after).find((p) => p.op === op), 3000, `voice op ${op}`),
  };
}

/** A grant for alice in the lobby, as VOICE_SERVER_UPDATE would carry it. */
function grant() {
  sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
  const state = sim.voiceStates(DEMO_GUILD_ID).find((v) => v.user_id === DEMO_USERS.alice)!;
  const update = sim.voice!.authorize({ guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.lobby, userId: DEMO_USERS.alice, sessionId: state.session_id });
  return {
    update,
    identify: { server_id: DEMO_GUILD_ID, user_id: DEMO_USERS.alice, session_id: state.session_id, token: update.token, max_dave_protocol_version: 1 },
  };
}

describe("voice gateway v8", () => {
  it("Hello, then Ready with ssrc, ip, port and both rtpsize modes; heartbeats echo t", async () => {
    const { identify } = grant();
    const v = await rawVoice();
    v.send(VoiceOpcodes.Identify, identify);
    expect((await v.next(VoiceOpcodes.Hello)).d).toEqual({ heartbeat_interval: 1000, v: 8 });
    const ready = await v.next(VoiceOpcodes.Ready);
    expect(ready.d).toMatchObject({
      ssrc: expect.any(Number),
      ip: "127.0.0.1",
      port: sim.voice!.udpPort,
      modes: ["aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"],
    });
    expect(ready.seq).toBe(1);
    v.send(VoiceOpcodes.Heartbeat, { t: 1234, seq_ack: 1 });
    expect((await v.next(VoiceOpcodes.HeartbeatAck)).d).toEqual({ t: 1234 });
  });

  it.each([
    ["a wrong token", { token: "nope" }, VoiceCloseCodes.AuthenticationFailed],
    ["another user's id", { user_id: DEMO_USERS.bob }, VoiceCloseCodes.AuthenticationFailed],
    ["a wrong session id", { session_id: "other" }, VoiceCloseCodes.AuthenticationFailed],
    ["a malformed payload", { server_id: 42 }, VoiceCloseCodes.FailedToDecode],
  ])("closes an Identify with %s", async (_what, change, code) => {
    const { identify } = grant();
    const v = await rawVoice();
    v.send(VoiceOpcodes.Identify, { ...identify, ...change });
    expect(await v.closed).toBe(code);
  });

  it("closes Select Protocol with an unknown protocol (4012) or mode (4016), and ops before Identify (4003)", async () => {
    const early = await rawVoice();
    early.send(VoiceOpcodes.SelectProtocol, { protocol: "udp", data: { address: "127.0.0.1", port: 1, mode: "aead_aes256_gcm_rtpsize" } });
    expect(await early.closed).toBe(VoiceCloseCodes.NotAuthenticated);
    for (const [protocol, mode, code] of [
      ["webrtc", "aead_aes256_gcm_rtpsize", VoiceCloseCodes.UnknownProtocol],
      ["udp", "xsalsa20_poly1305", VoiceCloseCodes.UnknownEncryptionMode],
    ] as const) {
      const { identify } = grant();
      const v = await rawVoice();
      v.send(VoiceOpcodes.Identify, identify);
      await v.next(VoiceOpcodes.Ready);
      v.send(VoiceOpcodes.SelectProtocol, { protocol, data: { address: "127.0.0.1", port: 1, mode } });
      expect(await v.closed).toBe(code);
    }
  });

  it("answers IP discovery, describes the session, and a Resume re-delivers what was missed after seq_ack", async () => {
    const { identify } = grant();
    const v = await rawVoice();
    v.send(VoiceOpcodes.Identify, identify);
    const ready = await v.next(VoiceOpcodes.Ready);
    udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp!.bind(0, "127.0.0.1", () => resolve()));
    const request = Buffer.alloc(74);
    request.writeUInt16BE(1, 0);
    request.writeUInt16BE(70, 2);
    request.writeUInt32BE(ready.d.ssrc, 4);
    const reply = await new Promise<Buffer>((resolve) => {
      udp!.once("message", resolve);
      udp!.send(request, ready.d.port, "127.0.0.1");
    });
    expect(reply.readUInt16BE(0)).toBe(2);
    expect(reply.readUInt32BE(4)).toBe(ready.d.ssrc);
    expect(reply.subarray(8, reply.indexOf(0, 8)).toString()).toBe("127.0.0.1");
    expect(reply.readUInt16BE(72)).toBe(udp.address().port);

    v.send(VoiceOpcodes.SelectProtocol, { protocol: "udp", data: { address: "127.0.0.1", port: udp.address().port, mode: "aead_xchacha20_poly1305_rtpsize" } });
    const description = await v.next(VoiceOpcodes.SessionDescription);
    expect(description.d).toMatchObject({ mode: "aead_xchacha20_poly1305_rtpsize", dave_protocol_version: 0 });
    expect(description.d.secret_key).toHaveLength(32);
    expect(description.seq).toBe(2);

    // The socket drops; meanwhile bob joins, so alice misses op 11 and op 5.
    v.ws.terminate();
    await v.closed;
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.lobby);
    const r = await rawVoice();
    r.send(VoiceOpcodes.Resume, { server_id: DEMO_GUILD_ID, session_id: identify.session_id, token: identify.token, seq_ack: 2 });
    await r.next(VoiceOpcodes.Resumed);
    const connect = await r.next(VoiceOpcodes.ClientsConnect);
    expect(connect).toEqual({ op: VoiceOpcodes.ClientsConnect, d: { user_ids: [DEMO_USERS.bob] }, seq: 3 });
    expect(r.received.findIndex((p) => p.op === VoiceOpcodes.Resumed)).toBeLessThan(r.received.indexOf(connect));
    expect((await r.next(VoiceOpcodes.Speaking)).d).toMatchObject({ user_id: DEMO_USERS.bob, ssrc: expect.any(Number) });

    const stale = await rawVoice();
    stale.send(VoiceOpcodes.Resume, { server_id: DEMO_GUILD_ID, session_id: "unknown", token: "unknown", seq_ack: 0 });
    expect(await stale.closed).toBe(VoiceCloseCodes.SessionNoLongerValid);
  });

  it("relays Speaking with user_id and ssrc, announces a leave with op 13, and times out a silent client with 4009", async () => {
    const join = async (userId: string) => {
      sim.joinVoice(DEMO_GUILD_ID, userId, DEMO_CHANNELS.lobby);
      const sessionId = sim.voiceStates(DEMO_GUILD_ID).find((v) => v.user_id === userId)!.session_id;
      const { token } = sim.voice!.authorize({ guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.lobby, userId, sessionId });
      const v = await rawVoice();
      v.send(VoiceOpcodes.Identify, { server_id: DEMO_GUILD_ID, user_id: userId, session_id: sessionId, token, max_dave_protocol_version: 0 });
      const ready = await v.next(VoiceOpcodes.Ready);
      v.send(VoiceOpcodes.SelectProtocol, { protocol: "udp", data: { address: "127.0.0.1", port: 9, mode: "aead_aes256_gcm_rtpsize" } });
      await v.next(VoiceOpcodes.SessionDescription);
      return { v, ssrc: ready.d.ssrc as number };
    };
    const alice = await join(DEMO_USERS.alice);
    const bob = await join(DEMO_USERS.bob);
    const heartbeat = setInterval(() => bob.v.send(VoiceOpcodes.Heartbeat, { t: 1, seq_ack: 0 }), 300);
    try {
      expect((await alice.v.next(VoiceOpcodes.ClientsConnect)).d).toEqual({ user_ids: [DEMO_USERS.bob] });
      const before = bob.v.received.length;
      alice.v.send(VoiceOpcodes.Speaking, { speaking: 1, delay: 0, ssrc: alice.ssrc });
      expect((await bob.v.next(VoiceOpcodes.Speaking, before)).d).toEqual({ user_id: DEMO_USERS.alice, ssrc: alice.ssrc, speaking: 1 });
      // Alice never heartbeats: after three intervals (1 s each) the server closes with 4009.
      expect(await alice.v.closed).toBe(VoiceCloseCodes.SessionTimeout);
      sim.leaveVoice(DEMO_GUILD_ID, DEMO_USERS.alice);
      expect((await bob.v.next(VoiceOpcodes.ClientDisconnect)).d).toEqual({ user_id: DEMO_USERS.alice });
    } finally {
      clearInterval(heartbeat);
    }
  });

  it("another process trusts the voice server through NODE_EXTRA_CA_CERTS=<caFile> (as rtc-node will)", async () => {
    // Like @discordjs/voice: `new WebSocket(url)` with no TLS options.
    const script = `const { WebSocket } = require("ws"); const ws = new WebSocket(process.argv[1]);
      ws.on("message", (d) => { console.log(JSON.parse(d).op); process.exit(0); }); ws.on("error", (e) => { console.log(e.code); process.exit(1); });`;
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["-e", script, `wss://${sim.voice!.endpoint}?v=8`], { env: { ...process.env, ...env }, cwd: process.cwd() });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.on("close", () => resolve(out.trim()));
      });
    expect(await run({ NODE_EXTRA_CA_CERTS: sim.voice!.certificate.caFile })).toBe(String(VoiceOpcodes.Hello));
    expect(await run({ NODE_EXTRA_CA_CERTS: "" })).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("refuses a connection without ?v=8", async () => {
    const ws = new WebSocket(`wss://${sim.voice!.endpoint}`);
    sockets.push(ws);
    const status = await new Promise<number>((resolve) => ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(400);
  });
});
