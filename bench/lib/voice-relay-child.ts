/**
 * The server side of bench/voice.ts, run as a child process so its CPU time can be read alone.
 *   --mode=sim   the simulator with its voice server (DAVE version 0 mode: the server never
 *                touches DAVE payloads, so the relay's cost is the same with DAVE on); answers
 *                stdin lines `{"join": n}` with n grants for users in one voice channel.
 *   --mode=echo  the baseline: a plain UDP relay forwarding every packet, unchanged, to every
 *                other address it has heard from (no WebSocket, no crypto, no RTP parsing).
 * Prints one JSON line when ready.
 */
import { createSocket } from "node:dgram";
import { createInterface } from "node:readline";
import { DEMO_CHANNELS, DEMO_GUILD_ID, startSimulator } from "@spell-coven/simulator";

const mode = process.argv.find((a) => a.startsWith("--mode="))?.slice(7);

if (mode === "echo") {
  const socket = createSocket("udp4");
  const peers = new Map<string, { address: string; port: number }>();
  socket.on("message", (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    if (!peers.has(key)) peers.set(key, { address: rinfo.address, port: rinfo.port });
    if (msg.length <= 8) return; // registration / keep-alive
    for (const [k, p] of peers) if (k !== key) socket.send(msg, p.port, p.address);
  });
  socket.bind(0, "127.0.0.1", () => console.log(JSON.stringify({ port: socket.address().port })));
} else if (mode === "sim") {
  const sim = await startSimulator({ seed: true, voice: { daveVersion: 0, heartbeatIntervalMs: 60_000 } });
  const voice = sim.requireVoice();
  console.log(JSON.stringify({ endpoint: voice.endpoint, caFile: voice.certificate.caFile }));
  let made = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    const { join } = JSON.parse(line) as { join: number };
    const grants = [];
    for (let i = 0; i < join; i++) {
      const user = sim.addUser({ username: `bench${made++}` });
      sim.joinVoice(DEMO_GUILD_ID, user.id, DEMO_CHANNELS.lobby);
      const sessionId = sim.voiceStates(DEMO_GUILD_ID).find((v) => v.user_id === user.id)!.session_id;
      grants.push({ ...voice.authorize({ guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.lobby, userId: user.id, sessionId }), userId: user.id, sessionId });
    }
    console.log(JSON.stringify({ grants }));
  }
} else {
  console.error("usage: voice-relay-child.ts --mode=sim|echo");
  process.exit(2);
}
