/**
 * Voice relay benchmark: `npm run bench:voice [-- --seconds 5]`.
 *
 * For 2, 4 and 8 participants in one channel, every participant sends one 20 ms audio packet
 * (120-byte payload, as a voice codec frame) every 20 ms for `--seconds`; every other participant
 * receives it. Measured for the simulator's voice server (WSS identify, IP discovery, AES-256-GCM
 * transport encryption, decrypt + re-encrypt per listener) and, in the same run, for a baseline
 * plain UDP echo relay (forwarding only). Servers run in child processes; their CPU time comes
 * from /proc (10 ms ticks), minus their idle CPU measured for 1 s just before. Printed: server CPU per second of relayed audio per stream, one-way latency
 * (send -> receive, same clock), and the ratios against the baseline.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { VoiceOpcodes } from "discord-api-types/voice/v8";
import { WebSocket } from "ws";
import { TransportCipher } from "../simulator/src/voice/transportCipher.ts";
import { processTree } from "./lib/procs.ts";
import { percentile, ratio } from "./lib/stats.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg("seconds", 5);
const SIZES = [2, 4, 8];
const PAYLOAD = 120;
const CHILD = fileURLToPath(new URL("./lib/voice-relay-child.ts", import.meta.url));

interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
}

async function startChild(mode: "sim" | "echo"): Promise<Child & { ready: Record<string, unknown> }> {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, `--mode=${mode}`], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "ERROR" },
  });
  proc.stderr.on("data", (d: Buffer) => process.stderr.write(d));
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const ready = JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
  return { proc, lines, ready };
}

const cpuMs = (pid: number) => processTree(pid).reduce((n, p) => n + p.cpuMs, 0);

interface Participant {
  udp: Socket;
  ssrc: number;
  send(seq: number, body: Buffer): void;
  latencies: number[];
}

function udpSocket(): Promise<Socket> {
  const udp = createSocket("udp4");
  return new Promise((resolve) => udp.bind(0, "127.0.0.1", () => resolve(udp)));
}

function stamp(): Buffer {
  const body = Buffer.alloc(PAYLOAD);
  body.writeDoubleBE(performance.timeOrigin + performance.now(), 0);
  return body;
}

const now = () => performance.timeOrigin + performance.now();

/** A bare voice client for the simulator: identify, IP discovery, Select Protocol, then raw RTP. */
async function simParticipant(
  grant: { token: string; guild_id: string; endpoint: string; userId: string; sessionId: string },
  ca: string,
): Promise<Participant & { ws: WebSocket }> {
  // This process did not start with NODE_EXTRA_CA_CERTS, so the simulator's CA is passed to ws.
  const ws = new WebSocket(`wss://${grant.endpoint}?v=8`, { ca });
  const messages: { op: number; d: any }[] = [];
  ws.on("message", (data, binary) => !binary && messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const next = async (op: number) => {
    for (;;) {
      const m = messages.find((x) => x.op === op);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  ws.send(
    JSON.stringify({
      op: VoiceOpcodes.Identify,
      d: { server_id: grant.guild_id, user_id: grant.userId, session_id: grant.sessionId, token: grant.token, max_dave_protocol_version: 0 },
    }),
  );
  const ready = (await next(VoiceOpcodes.Ready)).d as { ssrc: number; port: number };
  const udp = await udpSocket();
  const discovery = Buffer.alloc(74);
  discovery.writeUInt16BE(1, 0);
  discovery.writeUInt16BE(70, 2);
  discovery.writeUInt32BE(ready.ssrc, 4);
  await new Promise<void>((resolve) => {
    udp.once("message", () => resolve());
    udp.send(discovery, ready.port, "127.0.0.1");
  });
  ws.send(
    JSON.stringify({
      op: VoiceOpcodes.SelectProtocol,
      d: { protocol: "udp", data: { address: "127.0.0.1", port: udp.address().port, mode: "aead_aes256_gcm_rtpsize" } },
    }),
  );
  const description = (await next(VoiceOpcodes.SessionDescription)).d as { secret_key: number[] };
  const cipher = new TransportCipher("aead_aes256_gcm_rtpsize", Buffer.from(description.secret_key));
  const latencies: number[] = [];
  udp.on("message", (msg) => {
    if (msg.length < 40) return;
    const headerLength = 12 + (msg[0]! & 0x10 ? 4 : 0);
    const plain = cipher.open(msg.subarray(headerLength, msg.length - 4), msg.subarray(0, headerLength), msg.readUInt32BE(msg.length - 4));
    if (!plain) return;
    const body = headerLength > 12 ? plain.subarray(4 * msg.readUInt16BE(14)) : plain;
    latencies.push(now() - body.readDoubleBE(0));
  });
  let counter = 0;
  return {
    ws,
    udp,
    ssrc: ready.ssrc,
    latencies,
    send: (seq, body) => {
      const header = rtpHeader(seq, ready.ssrc);
      counter++;
      const nonce = Buffer.alloc(4);
      nonce.writeUInt32BE(counter, 0);
      udp.send(Buffer.concat([header, cipher.seal(body, header, counter), nonce]), ready.port, "127.0.0.1");
    },
  };
}

function rtpHeader(seq: number, ssrc: number): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 0x78;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE((seq * 960) >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return header;
}

async function echoParticipant(port: number, index: number): Promise<Participant> {
  const udp = await udpSocket();
  const latencies: number[] = [];
  udp.on("message", (msg) => latencies.push(now() - msg.readDoubleBE(12)));
  udp.send(Buffer.alloc(8), port, "127.0.0.1"); // register
  return { udp, ssrc: index + 1, latencies, send: (seq, body) => udp.send(Buffer.concat([rtpHeader(seq, index + 1), body]), port, "127.0.0.1") };
}

/** Every participant sends a stamped packet every 20 ms for SECONDS; returns CPU and latencies. */
async function run(pid: number, participants: Participant[]) {
  await new Promise((r) => setTimeout(r, 300)); // let joins settle (op 11 / op 5 fan-out)
  // The server's idle CPU (event loop, timers, GC) over the same time is not relaying: subtract it.
  const idleStart = cpuMs(pid);
  await new Promise((r) => setTimeout(r, 1000));
  const idlePerMs = (cpuMs(pid) - idleStart) / 1000;
  const cpuBefore = cpuMs(pid);
  const frames = SECONDS * 50;
  const started = performance.now();
  for (let f = 0; f < frames; f++) {
    for (const p of participants) p.send(f, stamp());
    const due = started + (f + 1) * 20;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 200));
  const cpu = Math.max(0, cpuMs(pid) - cpuBefore - idlePerMs * (performance.now() - started));
  const latencies = participants.flatMap((p) => p.latencies).sort((a, b) => a - b);
  const expected = frames * participants.length * (participants.length - 1);
  return { cpuPerStreamSecond: cpu / (participants.length * SECONDS), latencies, delivered: latencies.length / expected };
}

const rows: string[] = [];
for (const n of SIZES) {
  const echo = await startChild("echo");
  const echoPeople = await Promise.all(Array.from({ length: n }, (_, i) => echoParticipant(echo.ready.port as number, i)));
  await new Promise((r) => setTimeout(r, 100));
  const base = await run(echo.proc.pid!, echoPeople);
  for (const p of echoPeople) p.udp.close();
  echo.proc.kill();

  const simChild = await startChild("sim");
  simChild.proc.stdin.write(`${JSON.stringify({ join: n })}\n`);
  const { grants } = JSON.parse((await simChild.lines.next()).value as string) as { grants: Parameters<typeof simParticipant>[0][] };
  const ca = readFileSync(simChild.ready.caFile as string, "utf8");
  const simPeople = [];
  for (const g of grants) simPeople.push(await simParticipant(g, ca));
  const sim = await run(simChild.proc.pid!, simPeople);
  for (const p of simPeople) p.udp.close(), p.ws.terminate();
  simChild.proc.kill();

  const p50 = (l: number[]) => percentile(l, 50);
  const p99 = (l: number[]) => percentile(l, 99);
  rows.push(
    [
      `${n} participants`,
      `CPU/stream-s: sim ${sim.cpuPerStreamSecond.toFixed(2)} ms, echo ${base.cpuPerStreamSecond.toFixed(2)} ms (${ratio(sim.cpuPerStreamSecond, Math.max(base.cpuPerStreamSecond, 0.01))})`,
      `latency p50: sim ${p50(sim.latencies).toFixed(2)} ms, echo ${p50(base.latencies).toFixed(2)} ms (${ratio(p50(sim.latencies), p50(base.latencies))}, +${(p50(sim.latencies) - p50(base.latencies)).toFixed(2)} ms)`,
      `p99: sim ${p99(sim.latencies).toFixed(2)} ms, echo ${p99(base.latencies).toFixed(2)} ms`,
      `delivered: sim ${(sim.delivered * 100).toFixed(1)} %, echo ${(base.delivered * 100).toFixed(1)} %`,
    ].join(" | "),
  );
  console.log(rows.at(-1));
}
console.log(
  `\nvoice relay, ${SECONDS} s of audio per run, ${PAYLOAD}-byte frames every 20 ms; CPU = server process tree (/proc) minus its idle rate, ratios against the plain UDP echo relay measured in the same run.`,
);
process.exit(0);
