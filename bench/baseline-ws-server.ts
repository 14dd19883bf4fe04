/**
 * The baseline for bench/hub-broadcast.ts: the design the earlier specification used, a single
 * Node process with an in-memory `ws` registry. It does the same work per event as the hub
 * (HMAC check, schema validation, seq, serialize once, send to every authenticated socket) but
 * keeps nothing durable. Run as a child process by the benchmark.
 */
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { InternalEventsBody, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyHubRequest } from "@spell-coven/common";

const { PORT = "0", HUB_SECRET = "", JWKS_URL = "", ISSUER = "", AUDIENCE = "" } = process.env;
const jwks = createRemoteJWKSet(new URL(JWKS_URL));
/** Authenticated sockets, and whether each asked for batch frames (the same protocol as the hub). */
const authed = new Map<WebSocket, boolean>();
let seq = 0;

const server = createServer(async (req, res) => {
  if (req.method !== "POST" || req.url !== "/api/internal/events") return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const check = await verifyHubRequest(
    HUB_SECRET,
    req.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
    req.headers[SIGNATURE_HEADER.toLowerCase()] as string,
    raw,
  );
  if (!check.ok) return void res.writeHead(401).end();
  const parsed = InternalEventsBody.safeParse(JSON.parse(raw.toString()));
  if (!parsed.success) return void res.writeHead(400).end();
  const frames = parsed.data.events.map((e) => JSON.stringify({ v: 1, type: "event", event: e.event, payload: e.payload, ts: Date.now(), seq: ++seq }));
  const batch = frames.length > 1 ? `{"v":1,"type":"batch","events":[${frames.join(",")}]}` : null;
  for (const [ws, wantsBatch] of authed) {
    if (batch && wantsBatch) ws.send(batch);
    else for (const data of frames) ws.send(data);
  }
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ accepted: parsed.data.events.length }));
});

const wss = new WebSocketServer({ server, path: "/api/ws", perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.once("message", async (data) => {
    try {
      const msg = JSON.parse(String(data));
      const { payload } = await jwtVerify(msg.token, jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["RS256"] });
      authed.set(ws, msg.batch === true);
      ws.send(JSON.stringify({ v: 1, type: "ack", event: "auth.ok", userId: payload.sub, seq, presence: {} }));
    } catch {
      ws.close(4003, "auth failed");
    }
  });
  ws.on("close", () => authed.delete(ws));
});

server.listen(Number(PORT), "127.0.0.1", () => console.log(`ready ${(server.address() as { port: number }).port}`));
