/** The voice link: auth, malformed commands, drops and restarts on either side. */
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { VoiceConnectionStatus } from "@discordjs/voice";
import { BOT_USER_ID, DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startGatewayNode } from "../../gateway-node/src/index.ts";
import { isPrivateAddress } from "../../gateway-node/src/link/voice-link-server.ts";
import { VoiceLinkClient } from "../src/link/voice-link-client.ts";
import type { RtcError } from "../src/errors.ts";
import { botChannel, LINK_TOKEN, startRig, testLog, until, type VoiceRig } from "./helpers.ts";

let rig: VoiceRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

function rawLink(url: string, token: string): Promise<{ ws: WebSocket; messages: unknown[] } | { status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const messages: unknown[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d))));
    ws.on("open", () => resolve({ ws, messages }));
    ws.on("unexpected-response", (_q, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

describe("voice link", () => {
  it("refuses a bad token (401 with a code) and the client gives up at once with RTC_LINK_REFUSED", async () => {
    rig = await startRig();
    const r = await rawLink(rig.linkUrl, "wrong-token-wrong-token-wrong-token-123");
    expect("status" in r && r.status).toBe(401);
    expect("body" in r && JSON.parse(r.body).error.code).toBe("LINK_TOKEN_INVALID");
    const fatal: RtcError[] = [];
    const bad = new VoiceLinkClient({ url: rig.linkUrl, token: "x".repeat(40), log: testLog("bad-link"), onFatal: (e) => fatal.push(e) });
    await expect(bad.start()).rejects.toMatchObject({ code: "RTC_LINK_REFUSED" });
    expect(fatal).toHaveLength(1);
    expect(bad.state).toBe("failed");
    expect(rig.h.node.link!.refused).toBe(2);
  });

  it("answers malformed commands with LINK_MALFORMED_COMMAND and keeps the socket; says hello with the bot id", async () => {
    rig = await startRig();
    const r = await rawLink(rig.linkUrl, LINK_TOKEN);
    if (!("ws" in r)) throw new Error("link refused");
    await until(() => r.messages.length >= 1, 3000, "hello");
    expect(r.messages[0]).toEqual({ type: "hello", botUserId: BOT_USER_ID });
    r.ws.send("{not json");
    r.ws.send(JSON.stringify({ type: "voice_state", guildId: "abc", channelId: null, selfMute: false, selfDeaf: false }));
    r.ws.send(JSON.stringify({ type: "teleport" }));
    await until(() => r.messages.length >= 4, 3000, "three errors");
    for (const m of r.messages.slice(1)) expect(m).toMatchObject({ type: "error", code: "LINK_MALFORMED_COMMAND" });
    expect(JSON.stringify(r.messages[2])).toContain("guildId");
    expect(r.ws.readyState).toBe(WebSocket.OPEN);
    r.ws.close();
  });

  it("accepts loopback and private peers only", () => {
    for (const a of ["127.0.0.1", "::1", "::ffff:10.1.2.3", "192.168.0.4", "172.20.0.1", "fdaa:0:1::3", "100.64.0.1"]) expect(isPrivateAddress(a)).toBe(true);
    for (const a of ["8.8.8.8", "172.32.0.1", "2001:db8::1", undefined]) expect(isPrivateAddress(a)).toBe(false);
  });

  it("the link drops: rtc-node reconnects, the voice connection stays up and still leaves through the new link", async () => {
    rig = await startRig();
    const client = rig.client();
    await client.connect(DEMO_CHANNELS.table1);
    const linkServer = rig.h.node.link!;
    for (const c of (linkServer as unknown as { clients: Set<WebSocket> }).clients) c.terminate();
    await until(() => rig!.link.connects === 2 && rig!.link.available, 5000, "the link back");
    expect(client.status).toBe(VoiceConnectionStatus.Ready);
    client.disconnect();
    await until(() => botChannel(rig!.sim) === null, 5000, "the bot left through the new link");
  });

  it("a join while the link is down is refused with RTC_CONNECT_LINK_UNAVAILABLE", async () => {
    rig = await startRig();
    await rig.h.node.link!.close();
    await until(() => !rig!.link.available, 3000, "link down");
    await expect(rig.client().connect(DEMO_CHANNELS.table2)).rejects.toMatchObject({ code: "RTC_CONNECT_LINK_UNAVAILABLE" });
  });

  it("gateway-node restarts: the link comes back to the new process, the bot stays in voice and a person is still heard", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client();
    const frames = new Map<string, number>();
    client.onAudio((p) => frames.set(p.userId, (frames.get(p.userId) ?? 0) + 1));
    await client.connect(DEMO_CHANNELS.table1);
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    const port = rig.h.node.linkPort;
    await rig.h.node.stop({ flushMs: 200 });
    await until(() => !rig!.link.available, 3000, "link down");
    // The same configuration, the same link port: a restarted process.
    const node2 = await startGatewayNode({ ...rig.h.config, link: { token: LINK_TOKEN, port, host: "127.0.0.1" } }, { log: testLog("gateway-node-2") });
    (rig.h as { node: typeof node2 }).node = node2;
    await until(() => rig!.link.available && rig!.link.connects >= 2, 10_000, "the link to the new gateway-node");
    await client.whenE2ee();
    sim.personSpeak(DEMO_USERS.alice, 440);
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 20, 8000, "alice heard after the restart");
    // And the new session carries the bot's next op 4.
    await client.connect(DEMO_CHANNELS.table2);
    expect(botChannel(sim)).toBe(DEMO_CHANNELS.table2);
  });
});
